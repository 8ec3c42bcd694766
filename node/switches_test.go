package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/rumor-sync/rumor/gossip/policy"
)

// configBody is GET /v1/config, PUT's answer and the status's config.
type configBody struct {
	Values     map[string]any           `json:"values"`
	Sources    map[string]policy.Source `json:"sources"`
	Version    uint64                   `json:"version"`
	LastReload *ReloadReport            `json:"last_reload"`
	Changed    []string                 `json:"changed"`
	Error      string                   `json:"error"`
	Field      string                   `json:"field"`
}

// call sends a request to h and decodes the JSON answer.
func call(t testing.TB, h http.Handler, method, path, ctype string, body []byte) (int, configBody, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out configBody
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON: %v", method, path, rec.Code, rec.Body.String(), err)
	}
	return rec.Code, out, rec.Body.String()
}

// putConfig changes n's switches over HTTP and fails the test on an error.
func putConfig(t testing.TB, n *testNode, body string) configBody {
	t.Helper()
	code, out, raw := call(t, n.Handler(), "PUT", "/v1/config", "application/json", []byte(body))
	if code != http.StatusOK {
		t.Fatalf("PUT /v1/config %s: %d %s", body, code, raw)
	}
	return out
}

func TestConfigAPIChangesAllOrNothing(t *testing.T) {
	n := startTestNode(t, "", func(c *Config) { c.Offline = true })
	h := n.Handler()
	code, cur, _ := call(t, h, "GET", "/v1/config", "", nil)
	if code != 200 || cur.Version != 1 || cur.Values["sync_fanout"] != 1.0 || cur.Values["sync_interval"] != "200ms" ||
		cur.Sources["sync_interval"] != policy.SourceFlag || cur.Sources["push"] != policy.SourceDefault || cur.LastReload != nil {
		t.Fatalf("GET /v1/config at start: %d %+v", code, cur)
	}

	out := putConfig(t, n, `{"sync_fanout": 2, "push": false, "sync_interval": "200ms"}`)
	if out.Version != 2 || !reflect.DeepEqual(out.Changed, []string{"push", "sync_fanout"}) ||
		out.Values["push"] != false || out.Sources["sync_fanout"] != policy.SourceAPI || out.Sources["sync_interval"] != policy.SourceAPI ||
		out.Sources["blob_policy"] != policy.SourceDefault {
		t.Fatalf("PUT answer: %+v", out)
	}
	if s := n.Switches().Settings(); s.Push || s.SyncFanout != 2 {
		t.Fatalf("the holder has %+v", s)
	}
	_, good, goodRaw := call(t, h, "GET", "/v1/config", "", nil)

	bad := []struct {
		name, ctype, body string
		code              int
		field, msg        string
	}{
		{"one bad key of two", "application/json", `{"push": true, "sync_fanout": 0}`, 400, "sync_fanout", "sync_fanout: 0 is outside [1, 16]"},
		{"unknown key", "application/json", `{"push": true, "fan_out": 3}`, 400, "fan_out", "unknown setting"},
		{"bad policy", "application/json", `{"blob_policy": "lazy"}`, 400, "blob_policy", `"lazy" is not a policy`},
		{"bad duration", "application/json", `{"sync_interval": "soon"}`, 400, "sync_interval", "not a duration"},
		{"interval too short", "", `{"sync_interval": "1ms"}`, 400, "sync_interval", "outside [10ms"},
		{"budget too low for the batch", "application/json", `{"peer_bandwidth": 65536}`, 400, "peer_bandwidth", "lower sync_batch_bytes"},
		{"run and window overflow", "application/json", `{"sync_run_bytes": 8388608}`, 400, "sync_run_bytes", "frames in flight"},
		{"not an object", "application/json", `[{"push": true}]`, 400, "", "must be a JSON object"},
		{"malformed", "application/json", `{"push": tru`, 400, "push", "malformed JSON value"},
		{"truncated", "application/json", `{"push": true`, 400, "", "malformed JSON"},
		{"two objects", "application/json", `{"push": true}{"push": false}`, 400, "", "data after"},
		{"null", "application/json", `{"push": null}`, 400, "push", "null"},
		{"over 16 KiB", "application/json", `{"blob_policy": "` + strings.Repeat("e", 20<<10) + `"}`, 400, "", "over 16384 bytes"},
		{"form content type", "application/x-www-form-urlencoded", `{"push": true}`, 415, "", "application/json"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, out, raw := call(t, h, "PUT", "/v1/config", tt.ctype, []byte(tt.body))
			if code != tt.code || out.Field != tt.field || !strings.Contains(out.Error, tt.msg) {
				t.Fatalf("%d %s, want %d naming %q with %q", code, raw, tt.code, tt.field, tt.msg)
			}
			if _, _, now := call(t, h, "GET", "/v1/config", "", nil); now != goodRaw {
				t.Fatalf("a rejected change changed the settings:\n%s\nwas\n%s", now, goodRaw)
			}
		})
	}

	// The status shows the same settings; the metrics their values.
	var st struct{ Config configBody }
	req := httptest.NewRecorder()
	h.ServeHTTP(req, httptest.NewRequest("GET", "/v1/status", nil))
	if err := json.Unmarshal(req.Body.Bytes(), &st); err != nil || !reflect.DeepEqual(st.Config.Values, good.Values) || st.Config.Version != 2 {
		t.Fatalf("status config %+v (%v), want %+v", st.Config, err, good)
	}
	metrics := scrape(t, h)
	for _, want := range []string{"rumor_config_sync_fanout 2", "rumor_config_push 0", "rumor_config_version 2",
		`rumor_config_blob_policy{policy="eager"} 1`, `rumor_config_blob_policy{policy="on-demand"} 0`,
		"rumor_config_sync_interval_seconds 0.2", "rumor_config_peer_bandwidth_bytes 0", "rumor_throttled_bytes_total 0"} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Without a configuration to re-read there is no reload.
	if code, out, _ := call(t, h, "POST", "/v1/config/reload", "", nil); code != http.StatusConflict || !strings.Contains(out.Error, "no configuration") {
		t.Fatalf("reload without a config: %d %+v", code, out)
	}
}

func scrape(t testing.TB, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// fileConfig is what the test's Reload returns: the switches of a
// pretend config file, or an error.
type fileConfig struct {
	r   policy.Reloaded
	err error
}

func TestReloadReplacesAPIChangesOrKeepsAll(t *testing.T) {
	var file fileConfig
	n := startTestNode(t, "", func(c *Config) {
		c.Offline = true
		s := policy.Defaults()
		s.SyncFanout = 2
		c.Switches = &policy.Resolved{Settings: s, Sources: map[string]policy.Source{"sync_fanout": policy.SourceFile}}
		c.Reload = func() (policy.Reloaded, error) { return file.r, file.err }
	})
	h := n.Handler()
	putConfig(t, n, `{"sync_interval": "3s", "peer_bandwidth": 1048576}`)

	// A good file: API changes are dropped, the file's values apply.
	s := policy.Defaults()
	s.SyncFanout, s.BlobPolicy = 3, policy.SinksOnly
	ignored := []policy.Ignored{{Key: "api", File: "0.0.0.0:1", Running: "127.0.0.1:0", Reason: "takes a restart"}}
	file.r = policy.Reloaded{Resolved: policy.Resolved{Settings: s,
		Sources: map[string]policy.Source{"sync_fanout": policy.SourceFile, "blob_policy": policy.SourceFile}}, Ignored: ignored}
	rep, err := n.Reload(TriggerSignal)
	if err != nil || !rep.OK || rep.Seq != 1 || rep.Trigger != TriggerSignal || !reflect.DeepEqual(rep.Ignored, ignored) ||
		!reflect.DeepEqual(rep.Changed, []string{"sync_interval", "sync_fanout", "blob_policy", "peer_bandwidth"}) {
		t.Fatalf("reload: %+v, %v", rep, err)
	}
	if got := n.Switches().Settings(); got != s {
		t.Fatalf("after reload: %+v, want %+v", got, s)
	}
	_, cur, _ := call(t, h, "GET", "/v1/config", "", nil)
	if cur.Sources["sync_interval"] != policy.SourceDefault || cur.Sources["blob_policy"] != policy.SourceFile ||
		cur.LastReload == nil || cur.LastReload.Seq != 1 || !cur.LastReload.OK {
		t.Fatalf("GET after reload: %+v", cur)
	}
	before := n.Switches().Load()

	// An unreadable file and an invalid one change nothing.
	file.err = errors.New("config file rumor.yaml, line 3: unknown key \"fanout\"")
	if rep, err := n.Reload(TriggerSignal); err == nil || rep.OK || rep.Seq != 2 || !strings.Contains(rep.Error, "fanout") {
		t.Fatalf("reload of a bad file: %+v, %v", rep, err)
	}
	file.err = nil
	file.r.Settings.SyncFanout = 0
	code, out, raw := call(t, h, "POST", "/v1/config/reload", "", nil)
	if code != http.StatusUnprocessableEntity || out.Field != "sync_fanout" {
		t.Fatalf("POST reload of an invalid file: %d %s", code, raw)
	}
	if n.Switches().Load() != before {
		t.Fatal("a failed reload changed the settings")
	}
	_, cur, _ = call(t, h, "GET", "/v1/config", "", nil)
	if cur.LastReload.Seq != 3 || cur.LastReload.OK || cur.LastReload.Trigger != TriggerAPI || cur.LastReload.Error == "" {
		t.Fatalf("last reload: %+v", cur.LastReload)
	}
	if m := scrape(t, h); !strings.Contains(m, `rumor_config_reloads_total{result="error"} 2`) ||
		!strings.Contains(m, `rumor_config_reloads_total{result="ok"} 1`) {
		t.Error("the reload counters are wrong")
	}
}

func TestBadInitialSwitchesStopTheNode(t *testing.T) {
	cfg := loopbackConfig(t, "", nil)
	cfg.Offline = true
	s := policy.Defaults()
	s.SyncFanout = 0
	cfg.Switches = &policy.Resolved{Settings: s}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "sync_fanout") {
		t.Fatalf("New with fan-out 0: %v", err)
	}
}

// FuzzPutConfig sends arbitrary bodies to PUT /v1/config: the answer is
// 200 with settings that validate, or a 4xx JSON error and no change at
// all; never a 5xx.
func FuzzPutConfig(f *testing.F) {
	for _, s := range []string{`{"push": false}`, `{"sync_fanout": 3, "blob_policy": "on-demand"}`,
		`{"peer_bandwidth": 1048576, "sync_batch_bytes": 65536}`, `{"sync_interval": "1h"}`, `{"sync_run_bytes": 1}`, `{`, `[]`} {
		f.Add([]byte(s))
	}
	cfg := loopbackConfig(f, "", nil)
	cfg.Offline = true
	n, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	h := n.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		before := n.Switches().Load()
		code, out, raw := call(t, h, "PUT", "/v1/config", "application/json", body)
		after := n.Switches().Load()
		switch {
		case code == http.StatusOK:
			if err := after.Settings.Validate(SwitchLimits()); err != nil || out.Version != after.Version {
				t.Fatalf("200 %s but the settings are %+v (%v)", raw, after.Settings, err)
			}
		case code >= 400 && code < 500:
			if out.Error == "" || after != before {
				t.Fatalf("%d %s: no error message, or the settings changed", code, raw)
			}
		default:
			t.Fatalf("%d %s", code, raw)
		}
		if after.Version > 1000 { // keep the fuzzer from drifting far: back to the defaults
			if _, err := n.Switches().Replace(policy.Resolved{Settings: policy.Defaults()}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
