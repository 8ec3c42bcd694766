package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/rumor-sync/rumor/gossip/policy"
)

// resolveSwitches resolves rumor node's flags from args, the environment
// and the config file at path (none if empty), as the command does.
func resolveSwitches(t *testing.T, args []string, path string) (*origins, *pflag.FlagSet, error) {
	t.Helper()
	if path != "" {
		args = append(args, "--config", path)
	}
	cmd := newNodeCmd()
	if err := cmd.ParseFlags(args); err != nil {
		return nil, nil, err
	}
	o := &origins{}
	err := configure(cmd, o)
	return o, cmd.Flags(), err
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSwitchSources(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rumor.yaml")
	writeFile(t, path, "blob-policy: sinks-only\nsync-fanout: 4\npush: true\n")
	t.Setenv("RUMOR_SYNC_FANOUT", "3")
	o, fs, err := resolveSwitches(t, []string{"--push=false", "--data", "/x"}, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.resolved(fs)
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Defaults()
	want.Push, want.SyncFanout, want.BlobPolicy = false, 3, policy.SinksOnly
	if r.Settings != want {
		t.Fatalf("settings %+v, want %+v", r.Settings, want)
	}
	wantSrc := map[string]policy.Source{"push": policy.SourceFlag, "sync_fanout": policy.SourceEnv, "blob_policy": policy.SourceFile}
	if !reflect.DeepEqual(r.Sources, wantSrc) {
		t.Fatalf("sources %v, want %v", r.Sources, wantSrc)
	}
	if !reflect.DeepEqual(o.args, []string{"--config=" + path, "--data=/x", "--push=false"}) {
		t.Fatalf("command line %v", o.args)
	}
}

func TestSwitchErrorsNameTheirSource(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, file string
		args       []string
		env        map[string]string
		want       string
	}{
		{"flag", "", []string{"--sync-fanout", "0"}, nil, "--sync-fanout: 0 is outside [1, 16]"},
		{"env", "", nil, map[string]string{"RUMOR_BLOB_POLICY": "lazy"}, `RUMOR_BLOB_POLICY: "lazy" is not a policy`},
		{"file", "sync-interval: 1ms\n", nil, nil, "rumor.yaml: sync-interval: 1ms is outside [10ms, 24h0m0s]"},
		{"combination", "peer-bandwidth: 8192\n", nil, nil, "peer-bandwidth: 8192 bytes/s would take"},
		{"type", "sync-fanout: many\n", nil, nil, `key "sync-fanout"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			path := ""
			if tt.file != "" {
				path = filepath.Join(dir, "rumor.yaml")
				writeFile(t, path, tt.file)
			}
			o, fs, err := resolveSwitches(t, tt.args, path)
			if err == nil {
				_, err = o.resolved(fs)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReloadResolvesAgainAndReportsTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rumor.yaml")
	writeFile(t, path, "sync-fanout: 2\nmesh: one\n")
	t.Setenv("RUMOR_BLOB_POLICY", "on-demand")
	o, running, err := resolveSwitches(t, []string{"--push=false"}, path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "sync-fanout: 5\nsync-interval: 3s\nmesh: two\npush: true\nblob-policy: eager\nmax-body: 4096\n")
	rel, err := o.reload(running)
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Defaults()
	want.Push, want.SyncFanout, want.SyncInterval, want.BlobPolicy = false, 5, 3*time.Second, policy.OnDemand
	if rel.Settings != want {
		t.Fatalf("reloaded %+v, want %+v", rel.Settings, want)
	}
	if rel.Sources["sync_fanout"] != policy.SourceFile || rel.Sources["push"] != policy.SourceFlag || rel.Sources["blob_policy"] != policy.SourceEnv {
		t.Fatalf("sources %v", rel.Sources)
	}
	got := map[string]string{}
	for _, ig := range rel.Ignored {
		got[ig.Key] = ig.File + " | " + ig.Running + " | " + ig.Reason
	}
	wantIgnored := map[string]string{
		"mesh":        "two | one | only a restart applies it; only the sync switches change while running",
		"max-body":    "4096 | 8388608 | only a restart applies it; only the sync switches change while running",
		"push":        "true | false | overridden by --push",
		"blob-policy": "eager | on-demand | overridden by RUMOR_BLOB_POLICY",
	}
	if !reflect.DeepEqual(got, wantIgnored) {
		t.Fatalf("ignored:\n%v\nwant\n%v", got, wantIgnored)
	}

	// A bad file is an error and resolves nothing.
	for _, bad := range []string{"sync-fanout: 0\n", "sync-fanout: [\n", "fanout: 2\n"} {
		writeFile(t, path, bad)
		if _, err := o.reload(running); err == nil || !strings.Contains(err.Error(), "rumor.yaml") {
			t.Fatalf("reload of %q: %v", bad, err)
		}
	}
	os.Remove(path)
	if _, err := o.reload(running); err == nil {
		t.Fatal("reload of a missing file succeeded")
	}
}
