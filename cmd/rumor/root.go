package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Run executes the rumor command line with args.
func Run(ctx context.Context, args []string) error {
	return run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}

// run executes the command line with the given standard streams.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "rumor",
		Short:         "rumor: offline-first event sync for edge devices",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newNodeCmd(), newKeygenCmd(), newSimCmd())
	root.AddCommand(clientCmds()...)
	return root
}

// bindEnv fills every flag of cmd not set on the command line from the
// environment variable RUMOR_<FLAG> (upper case, dashes as underscores);
// a repeatable flag takes a comma-separated list. With only, it binds just
// the flags named there.
func bindEnv(cmd *cobra.Command, only ...string) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || (len(only) > 0 && !slices.Contains(only, f.Name)) {
			return
		}
		name := envName(f.Name)
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		vals := []string{v}
		if isList(f) {
			vals = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
			if len(vals) == 0 { // set but empty: an empty list, over any config file
				err = clearList(f)
				return
			}
		}
		for _, val := range vals {
			if serr := cmd.Flags().Set(f.Name, val); serr != nil {
				err = fmt.Errorf("environment %s=%q: %w", name, v, serr)
				return
			}
		}
	})
	return err
}

// clearList empties a repeatable flag and marks it set.
func clearList(f *pflag.Flag) error {
	sv, ok := f.Value.(pflag.SliceValue)
	if !ok {
		return fmt.Errorf("flag --%s cannot be emptied", f.Name)
	}
	f.Changed = true
	return sv.Replace(nil)
}

// isList reports whether f is a repeatable flag.
func isList(f *pflag.Flag) bool {
	return strings.HasSuffix(f.Value.Type(), "Array") || strings.HasSuffix(f.Value.Type(), "Slice")
}

func envName(flag string) string {
	return "RUMOR_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// newLogger returns the process logger for the given format and level.
func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", format)
}
