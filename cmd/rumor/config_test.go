package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// resolveNode parses args for `rumor node` with env set and, if file is
// not empty, a config file with that content (passed with --config), and
// resolves the flags as the command does before it runs.
func resolveNode(t *testing.T, args []string, env map[string]string, file string) (*pflag.FlagSet, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, strings.ReplaceAll(v, "$DIR", t.TempDir()))
	}
	if file != "" {
		path := filepath.Join(t.TempDir(), "rumor.yaml")
		if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, ok := env["RUMOR_CONFIG"]; ok {
			t.Setenv("RUMOR_CONFIG", path)
		} else {
			args = append(args, "--config", path)
		}
	}
	cmd := newNodeCmd()
	if err := cmd.ParseFlags(args); err != nil {
		return nil, err
	}
	return cmd.Flags(), cmd.PreRunE(cmd, nil)
}

func TestConfigPrecedence(t *testing.T) {
	const file = `
data: /from/file
listen: [/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2]
peer: /ip4/10.0.0.9/tcp/4001/p2p/12D3KooWfile  # one value for a list
mqtt: 127.0.0.1:1883
no-mdns: true
sync-interval: 250ms
max-body: 2048
`
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want map[string]string // flag → its value's String()
	}{
		{"defaults", nil, nil, "", map[string]string{
			"data": "./rumor-data", "listen": "[/ip4/0.0.0.0/tcp/4001]", "peer": "[]", "mqtt": "", "no-mdns": "false",
		}},
		{"file", nil, nil, file, map[string]string{
			"data": "/from/file", "listen": "[/ip4/127.0.0.1/tcp/1,/ip4/127.0.0.1/tcp/2]",
			"peer": "[/ip4/10.0.0.9/tcp/4001/p2p/12D3KooWfile]", "mqtt": "127.0.0.1:1883", "no-mdns": "true",
			"sync-interval": "250ms", "max-body": "2048", "api": "127.0.0.1:7070",
		}},
		{"env over file", nil, map[string]string{"RUMOR_DATA": "/from/env", "RUMOR_LISTEN": "/ip4/0.0.0.0/tcp/7,/ip4/0.0.0.0/tcp/8", "RUMOR_MQTT": ":1884"}, file, map[string]string{
			"data": "/from/env", "listen": "[/ip4/0.0.0.0/tcp/7,/ip4/0.0.0.0/tcp/8]", "mqtt": ":1884", "sync-interval": "250ms",
		}},
		{"flag over env and file", []string{"--data", "/from/flag", "--listen", "/ip4/0.0.0.0/tcp/9", "--no-mdns=false"},
			map[string]string{"RUMOR_DATA": "/from/env", "RUMOR_LISTEN": "/ip4/0.0.0.0/tcp/7"}, file, map[string]string{
				"data": "/from/flag", "listen": "[/ip4/0.0.0.0/tcp/9]", "no-mdns": "false", "mqtt": "127.0.0.1:1883",
			}},
		{"empty env list over file", nil, map[string]string{"RUMOR_PEER": ""}, file, map[string]string{"peer": "[]"}},
		{"empty file list over default", nil, nil, "listen: []\n", map[string]string{"listen": "[]"}},
		{"config from the environment", nil, map[string]string{"RUMOR_CONFIG": ""}, "data: /via/env\n", map[string]string{"data": "/via/env"}},
		{"empty file", nil, nil, "# nothing here\n", map[string]string{"data": "./rumor-data"}},
		{"sink archive from file and env", nil, map[string]string{"RUMOR_ARCHIVE_AGE": "5s"},
			"role: sink\narchive: s3://b?region=r\narchive-rows: 500\narchive-age: 1m\n", map[string]string{
				"role": "sink", "archive": "s3://b?region=r", "archive-rows": "500", "archive-age": "5s",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := resolveNode(t, tt.args, tt.env, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := fs.Lookup(name).Value.String(); got != want {
					t.Errorf("--%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want []string // substrings of the error
	}{
		{"unknown key", nil, nil, "data: /x\nlisen: [/ip4/0.0.0.0/tcp/1]\n",
			[]string{"line 2", `unknown key "lisen"`, `did you mean "listen"?`}},
		{"unknown key far from any flag", nil, nil, "colour: blue\n", []string{`unknown key "colour"`, "rumor node --help"}},
		{"config inside the config", nil, nil, "config: other.yaml\n", []string{`unknown key "config"`}},
		{"bad value", nil, nil, "\nmax-body: lots\n", []string{"line 2", `key "max-body"`, "lots"}},
		{"bad duration", nil, nil, "sync-interval: 5\n", []string{`key "sync-interval"`}},
		{"list for a single value", nil, nil, "data: [/a, /b]\n", []string{`key "data" takes one value, not a list`}},
		{"mapping value", nil, nil, "data:\n  path: /a\n", []string{`key "data"`, "expected a value"}},
		{"no value", nil, nil, "mqtt:\n", []string{`key "mqtt"`, "has no value"}},
		{"not a mapping", nil, nil, "- data\n", []string{"not a mapping"}},
		{"malformed YAML", nil, nil, "data: [/a\n", []string{"rumor.yaml"}},
		{"duplicate key", nil, nil, "data: /a\ndata: /b\n", []string{"rumor.yaml", "data"}},
		{"missing file", []string{"--config", "/does/not/exist.yaml"}, nil, "", []string{"config file", "exist.yaml"}},
		{"bad environment value", nil, map[string]string{"RUMOR_MAX_BODY": "big"}, "", []string{"RUMOR_MAX_BODY"}},
		{"overridden key is not applied", []string{"--data", "/x"}, nil, "data: [/a, /b]\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolveNode(t, tt.args, tt.env, tt.file)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestNodeHelpDocumentsDefaults checks that every option of rumor node
// states its default in --help.
func TestNodeHelpDocumentsDefaults(t *testing.T) {
	cmd := newNodeCmd()
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		usage := cmd.Flags().FlagUsages()
		line := ""
		for _, l := range strings.Split(usage, "\n") {
			if strings.Contains(l, "--"+f.Name+" ") {
				line = l
			}
		}
		if !strings.Contains(line, "default") {
			t.Errorf("--%s: help %q does not state the default; say \"(default …)\" in its usage", f.Name, line)
		}
	})
	if !strings.Contains(cmd.Long, "RUMOR_") || !strings.Contains(cmd.Long, "--config") {
		t.Error("rumor node --help does not explain environment variables and the config file")
	}
}
