package mesh

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// newMemberlistLogger returns a *log.Logger, which is what memberlist
// takes, that forwards each line to l at the level memberlist tagged it
// with ("[DEBUG] memberlist: ...").
func newMemberlistLogger(l *slog.Logger) *log.Logger {
	return log.New(slogWriter{l.With("component", "memberlist")}, "", 0)
}

type slogWriter struct{ log *slog.Logger }

// Write logs one memberlist line.
func (w slogWriter) Write(p []byte) (int, error) {
	level, msg := memberlistLevel(strings.TrimSpace(string(p)))
	w.log.Log(context.Background(), level, msg)
	return len(p), nil
}

// memberlistLevel splits a memberlist log line into its level and message.
func memberlistLevel(line string) (slog.Level, string) {
	level := slog.LevelInfo
	tags := [...]struct {
		tag   string
		level slog.Level
	}{
		{"[DEBUG]", slog.LevelDebug}, {"[INFO]", slog.LevelInfo}, {"[WARN]", slog.LevelWarn},
		{"[ERR]", slog.LevelError}, {"[ERROR]", slog.LevelError},
	}
	for _, t := range tags {
		if rest, ok := strings.CutPrefix(line, t.tag); ok {
			level, line = t.level, rest
			break
		}
	}
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "memberlist: ")
	return level, line
}
