package policy

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodePatch(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		want  func(*Settings) // the patch applied to the defaults, when valid
		field string          // the key the error names, "" for none
		msg   string          // a substring of the error
	}{
		{"empty object", `{}`, func(*Settings) {}, "", ""},
		{"every key", `{"push": false, "sync_interval": "250ms", "sync_fanout": 3, "blob_policy": "sinks-only",
			"sync_batch_bytes": 65536, "sync_run_bytes": 131072, "push_inline_bytes": 0, "peer_bandwidth": 1048576}`,
			func(s *Settings) {
				*s = Settings{Push: false, SyncInterval: 250 * time.Millisecond, SyncFanout: 3, BlobPolicy: SinksOnly,
					SyncBatchBytes: 65536, SyncRunBytes: 131072, PushInlineBytes: 0, PeerBandwidth: 1 << 20}
			}, "", ""},
		{"escaped key", `{"pu\u0073h": false}`, func(s *Settings) { s.Push = false }, "", ""},
		{"whitespace around", " \n{\"sync_fanout\":2}\n ", func(s *Settings) { s.SyncFanout = 2 }, "", ""},
		{"exponent that is whole", `{"sync_fanout": 2e0}`, nil, KeySyncFanout, "is not a whole number"},
		{"not an object", `[1]`, nil, "", "must be a JSON object"},
		{"empty body", ``, nil, "", "must be a JSON object"},
		{"a string", `"push"`, nil, "", "must be a JSON object"},
		{"unknown key", `{"fanout": 2}`, nil, "fanout", "unknown setting; the settings are push, sync_interval"},
		{"wrong case", `{"Push": false}`, nil, "Push", "unknown setting"},
		{"duplicate key", `{"push": false, "push": true}`, nil, KeyPush, "given twice"},
		{"null", `{"push": null}`, nil, KeyPush, "has no value"},
		{"bool as string", `{"push": "false"}`, nil, KeyPush, "want true or false"},
		{"bool as number", `{"push": 0}`, nil, KeyPush, "want true or false"},
		{"duration as number", `{"sync_interval": 5}`, nil, KeySyncInterval, "want a duration string"},
		{"duration without unit", `{"sync_interval": "5"}`, nil, KeySyncInterval, `"5" is not a duration`},
		{"fraction", `{"sync_fanout": 1.5}`, nil, KeySyncFanout, "1.5 is not a whole number of peers"},
		{"number as string", `{"sync_batch_bytes": "4096"}`, nil, KeySyncBatchBytes, "want a whole number of bytes"},
		{"huge number", `{"peer_bandwidth": 99999999999999999999}`, nil, KeyPeerBandwidth, "is not a whole number"},
		{"blob policy as number", `{"blob_policy": 1}`, nil, KeyBlobPolicy, "want a string"},
		{"nested object", `{"push": {"on": true}}`, nil, KeyPush, "want true or false"},
		{"trailing data", `{"push": false} {}`, nil, "", "data after the JSON object"},
		{"trailing garbage", `{"push": false}x`, nil, "", "data after"},
		{"truncated", `{"push": false`, nil, "", "malformed JSON"},
		{"missing value", `{"push": }`, nil, KeyPush, "malformed JSON value"},
		{"too big", `{"blob_policy": "` + strings.Repeat("x", MaxPatchBytes) + `"}`, nil, "", "over 16384 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := DecodePatch([]byte(tt.body))
			if tt.want != nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				want := Defaults()
				tt.want(&want)
				if got := p.Apply(Defaults()); got != want {
					t.Fatalf("applied: %+v, want %+v", got, want)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want one containing %q", err, tt.msg)
			}
			var fe *FieldError
			if isField := errors.As(err, &fe); isField != (tt.field != "") || (isField && fe.Field() != tt.field) {
				t.Fatalf("error %v: field %v, want %q", err, fe, tt.field)
			}
		})
	}
}

func TestPatchKeysAndRoundTrip(t *testing.T) {
	p, err := DecodePatch([]byte(`{"peer_bandwidth": 8192, "push": true, "sync_interval": "1m30s"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Keys(); !reflect.DeepEqual(got, []string{KeyPush, KeySyncInterval, KeyPeerBandwidth}) {
		t.Fatalf("keys %v", got)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := DecodePatch(b)
	if err != nil || !reflect.DeepEqual(p, q) {
		t.Fatalf("round trip through %s: %+v, %v", b, q, err)
	}
}

// The JSON of the settings is a patch that sets every key to its value.
func TestSettingsJSONIsAPatch(t *testing.T) {
	s := Defaults()
	s.Push, s.SyncInterval, s.BlobPolicy, s.PeerBandwidth = false, 1500*time.Millisecond, OnDemand, 1<<20
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodePatch(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Keys()) != len(Keys()) || p.Apply(Settings{}) != s {
		t.Fatalf("%s decodes to %+v", b, p.Apply(Settings{}))
	}
}

// FuzzDecodePatch: any body either decodes or fails with ErrInvalid; a
// decoded patch survives a round trip through its own JSON and, applied
// to valid settings, gives settings that validate or a FieldError.
func FuzzDecodePatch(f *testing.F) {
	for _, s := range []string{`{}`, `{"push": false}`, `{"sync_interval": "2s", "sync_fanout": 2}`,
		`{"blob_policy": "on-demand", "peer_bandwidth": 0}`, `{"sync_batch_bytes": 1024, "sync_run_bytes": 2048, "push_inline_bytes": 1}`,
		`{"push": true, "push": false}`, `[]`, `{"x": 1}`, `{"sync_fanout": -1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePatch(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal %+v: %v", p, err)
		}
		q, err := DecodePatch(b)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("%q: round trip through %s gave %+v, %v", body, b, q, err)
		}
		s := p.Apply(Defaults())
		if err := s.Validate(nodeLimits); err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("validation error %v is not a FieldError", err)
			}
		}
	})
}
