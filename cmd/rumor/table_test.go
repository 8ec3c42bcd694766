package main

import (
	"strings"
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	tb := newTable("NAME", "COUNT", "NOTE").alignRight(1)
	tb.add("a", "1", "x")
	tb.add("ünïcode", "12,345", "")
	var b strings.Builder
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	want := "NAME      COUNT  NOTE\n" +
		"a             1  x\n" +
		"ünïcode  12,345\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{formatCount(0), "0"},
		{formatCount(999), "999"},
		{formatCount(1234567), "1,234,567"},
		{formatPercent(1), "100.0%"},
		{formatPercent(0.99999), "99.9%"}, // only complete shows 100%
		{formatPercent(0), "0.0%"},
		{formatDuration(0), "0s"},
		{formatDuration(850 * time.Millisecond), "850ms"},
		{formatDuration(12340 * time.Millisecond), "12.3s"},
		{formatDuration(200 * time.Second), "3m20s"},
		{formatDuration(2*time.Hour + 5*time.Minute + 10*time.Second), "2h5m"},
		{formatBytes(512), "512 B"},
		{formatBytes(1536), "1.5 KiB"},
		{formatBytes(3 << 30), "3.0 GiB"},
		{formatAge(time.Time{}, time.Now()), "-"},
		{formatAge(time.Unix(100, 0), time.Unix(100, 5e8)), "just now"},
		{formatAge(time.Unix(100, 0), time.Unix(190, 0)), "1m30s ago"},
		{formatTime(1767323045000), "2026-01-02 03:04:05.000"},
		{truncate("abcdef", 4), "abc…"},
		{truncate("abc", 4), "abc"},
		{plural(1, "device"), "1 device"},
		{plural(2, "device"), "2 devices"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestProgress(t *testing.T) {
	var b strings.Builder
	if p := newProgress(&b, 100); p.w != nil {
		t.Fatal("progress bar on a writer that is not a terminal")
	}
	p := &progress{w: &b, total: 1000, start: time.Now().Add(-2 * time.Second)}
	p.update(500, 3000)
	p.finish()
	got := b.String()
	if !strings.HasPrefix(got, "\r[###############...............]  50%  3,000 events  1,") || !strings.HasSuffix(got, "/s\x1b[K\n") {
		t.Fatalf("progress line %q", got)
	}
	b.Reset()
	(&progress{w: &b, start: time.Now()}).update(10, 7) // stdin: size unknown
	if !strings.HasPrefix(b.String(), "\r7 events") {
		t.Fatalf("progress without a total %q", b.String())
	}
}
