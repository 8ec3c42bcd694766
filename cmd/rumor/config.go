package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rumor-sync/rumor/gossip/policy"
)

// configure resolves cmd's flags in order of precedence: the command line,
// then RUMOR_<FLAG> environment variables, then the YAML file named by
// --config (or RUMOR_CONFIG), then the defaults. o records where each
// flag's value came from.
func configure(cmd *cobra.Command, o *origins) error {
	o.start(cmd.Flags())
	if err := bindEnv(cmd); err != nil {
		return err
	}
	o.mark(cmd.Flags(), policy.SourceEnv)
	path, err := cmd.Flags().GetString("config")
	if err != nil || path == "" {
		return nil
	}
	o.file = path
	if err := applyConfigFile(cmd.Flags(), path); err != nil {
		return err
	}
	o.mark(cmd.Flags(), policy.SourceFile)
	return nil
}

// configEntry is one key of a config file.
type configEntry struct {
	key    string
	line   int
	values []string
	list   bool // the value was a YAML sequence
}

// applyConfigFile sets each flag of fs still unset (neither on the command
// line nor from the environment) from the config file at path: a YAML
// mapping whose keys are flag names, a list for a repeatable flag. A key
// that names no flag is an error.
func applyConfigFile(fs *pflag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	entries, err := parseConfig(b)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	for _, e := range entries {
		if err := setFromConfig(fs, e); err != nil {
			return fmt.Errorf("config file %s, line %d: %w", path, e.line, err)
		}
	}
	return nil
}

// parseConfig reads one YAML mapping of keys to scalars or lists of
// scalars.
func parseConfig(b []byte) ([]configEntry, error) {
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil, err
	}
	if len(f.Docs) > 1 {
		return nil, errors.New("more than one YAML document")
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, nil // empty: nothing to set
	}
	m, ok := f.Docs[0].Body.(ast.MapNode)
	if !ok {
		return nil, errors.New("not a mapping of option names to values (e.g. \"data: /var/lib/rumor\")")
	}
	var out []configEntry
	for it := m.MapRange(); it.Next(); {
		e := configEntry{key: it.Key().GetToken().Value, line: it.Key().GetToken().Position.Line}
		var v any
		if err := yaml.NodeToValue(it.Value(), &v); err != nil {
			return nil, fmt.Errorf("line %d: key %q: %w", e.line, e.key, err)
		}
		if e.values, e.list, err = configValues(v); err != nil {
			return nil, fmt.Errorf("line %d: key %q: %w", e.line, e.key, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// configValues turns a decoded YAML value into flag values.
func configValues(v any) (vals []string, list bool, err error) {
	items, list := v.([]any)
	if !list {
		items = []any{v}
	}
	for _, it := range items {
		s, err := configScalar(it)
		if err != nil {
			return nil, list, err
		}
		vals = append(vals, s)
	}
	return vals, list, nil
}

func configScalar(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", errors.New("has no value")
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int64, uint64, float64, int, uint:
		return fmt.Sprint(v), nil
	case []any:
		return "", errors.New("lists cannot be nested")
	default:
		return "", fmt.Errorf("expected a value, not %T", v)
	}
}

// setFromConfig applies one entry unless a flag or the environment has
// already set it.
func setFromConfig(fs *pflag.FlagSet, e configEntry) error {
	f := fs.Lookup(e.key)
	if f == nil || e.key == "config" || e.key == "help" {
		msg := fmt.Sprintf("unknown key %q", e.key)
		if s := suggest(fs, e.key); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return errors.New(msg + "; keys are the flags of rumor node --help, without the dashes")
	}
	switch {
	case f.Changed:
		return nil
	case isList(f) && len(e.values) == 0:
		return clearList(f)
	case !isList(f) && e.list:
		return fmt.Errorf("key %q takes one value, not a list", e.key)
	}
	for _, v := range e.values {
		if err := fs.Set(e.key, v); err != nil {
			return fmt.Errorf("key %q: %w", e.key, err)
		}
	}
	return nil
}

// suggest returns the flag name closest to key, if any is close.
func suggest(fs *pflag.FlagSet, key string) string {
	best, bestD := "", 3
	fs.VisitAll(func(f *pflag.Flag) {
		if d := editDistance(key, f.Name); d < bestD && f.Name != "help" && f.Name != "config" {
			best, bestD = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
