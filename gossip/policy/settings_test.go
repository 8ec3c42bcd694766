package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rumor-sync/rumor/gossip/syncproto"
)

// nodeLimits are the limits rumor node runs with (a window of 12).
var nodeLimits = Limits{Window: 12, MaxPendingBytes: syncproto.DefaultMaxPendingBytes, FrameTimeout: 15 * time.Second}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Settings)
		field string // "" when valid
		msg   string
	}{
		{"defaults", func(*Settings) {}, "", ""},
		{"push off", func(s *Settings) { s.Push = false }, "", ""},
		{"shortest interval", func(s *Settings) { s.SyncInterval = MinSyncInterval }, "", ""},
		{"interval too short", func(s *Settings) { s.SyncInterval = time.Millisecond }, KeySyncInterval, "outside [10ms, 24h0m0s]"},
		{"interval too long", func(s *Settings) { s.SyncInterval = 25 * time.Hour }, KeySyncInterval, "outside"},
		{"negative interval", func(s *Settings) { s.SyncInterval = -time.Second }, KeySyncInterval, "outside"},
		{"fan-out 0", func(s *Settings) { s.SyncFanout = 0 }, KeySyncFanout, "0 is outside [1, 16]"},
		{"fan-out 16", func(s *Settings) { s.SyncFanout = 16 }, "", ""},
		{"fan-out 17", func(s *Settings) { s.SyncFanout = 17 }, KeySyncFanout, "outside"},
		{"on demand", func(s *Settings) { s.BlobPolicy = OnDemand }, "", ""},
		{"sinks only", func(s *Settings) { s.BlobPolicy = SinksOnly }, "", ""},
		{"unknown blob policy", func(s *Settings) { s.BlobPolicy = "lazy" }, KeyBlobPolicy, `"lazy" is not a policy`},
		{"empty blob policy", func(s *Settings) { s.BlobPolicy = "" }, KeyBlobPolicy, "not a policy"},
		{"batch too small", func(s *Settings) { s.SyncBatchBytes = 100 }, KeySyncBatchBytes, "outside [1024, 8388608]"},
		{"batch too big", func(s *Settings) { s.SyncBatchBytes = 9 << 20 }, KeySyncBatchBytes, "outside"},
		{"run too small", func(s *Settings) { s.SyncRunBytes = 0 }, KeySyncRunBytes, "outside"},
		{"run over half the buffer", func(s *Settings) { s.SyncRunBytes = 33 << 20 }, KeySyncRunBytes, "half of what a peer buffers"},
		{"window overflows the buffer", func(s *Settings) { s.SyncRunBytes = 6 << 20 }, KeySyncRunBytes, "12 frames in flight"},
		{"inline 0", func(s *Settings) { s.PushInlineBytes = 0 }, "", ""},
		{"inline negative", func(s *Settings) { s.PushInlineBytes = -1 }, KeyPushInlineBytes, "outside"},
		{"inline too big", func(s *Settings) { s.PushInlineBytes = 1 << 20 }, KeyPushInlineBytes, "outside"},
		{"bandwidth unlimited", func(s *Settings) { s.PeerBandwidth = 0 }, "", ""},
		{"bandwidth negative", func(s *Settings) { s.PeerBandwidth = -5 }, KeyPeerBandwidth, "outside"},
		{"bandwidth below minimum", func(s *Settings) { s.PeerBandwidth = 1000 }, KeyPeerBandwidth, "outside [4096"},
		{"bandwidth too low for the batch", func(s *Settings) { s.PeerBandwidth = 64 << 10 }, KeyPeerBandwidth, "lower sync_batch_bytes"},
		{"bandwidth enough for the batch", func(s *Settings) { s.PeerBandwidth = 256 << 10 }, "", ""},
		{"small batch, small budget", func(s *Settings) { s.PeerBandwidth, s.SyncBatchBytes = 4<<10, 8<<10 }, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Defaults()
			tt.edit(&s)
			err := s.Validate(nodeLimits)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field() != tt.field || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want a FieldError for %s", err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), tt.field+": ") || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %q, want %q naming %s", err, tt.msg, tt.field)
			}
		})
	}
}

func TestFetchesEagerly(t *testing.T) {
	for _, tt := range []struct {
		p            BlobPolicy
		device, sink bool
	}{{Eager, true, true}, {OnDemand, false, false}, {SinksOnly, false, true}} {
		s := Defaults()
		s.BlobPolicy = tt.p
		if s.FetchesEagerly(false) != tt.device || s.FetchesEagerly(true) != tt.sink {
			t.Errorf("%s: device %v sink %v, want %v %v", tt.p, s.FetchesEagerly(false), s.FetchesEagerly(true), tt.device, tt.sink)
		}
	}
}

// Any settings valid under some limits make a session config syncproto
// accepts with those limits.
func TestValidSettingsMakeValidSessions(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lim := Limits{
			Window:          rapid.IntRange(1, 64).Draw(t, "window"),
			MaxPendingBytes: rapid.IntRange(4<<10, 256<<20).Draw(t, "pending"),
			FrameTimeout:    time.Duration(rapid.Int64Range(int64(time.Second), int64(time.Minute)).Draw(t, "timeout")),
		}
		s := Defaults()
		s.SyncBatchBytes = rapid.IntRange(0, 9<<20).Draw(t, "batch")
		s.SyncRunBytes = rapid.IntRange(0, 40<<20).Draw(t, "run")
		s.PeerBandwidth = rapid.Int64Range(0, 1<<30).Draw(t, "bw")
		if s.Validate(lim) != nil {
			return
		}
		base := syncproto.DefaultSessionConfig()
		base.Window, base.MaxPendingBytes = lim.Window, lim.MaxPendingBytes
		if err := s.SessionConfig(base).Validate(); err != nil {
			t.Fatalf("settings %+v valid under %+v, but syncproto says %v", s, lim, err)
		}
		if bw := s.PeerBandwidth; bw > 0 && time.Duration(float64(s.SyncBatchBytes)/float64(bw)*float64(time.Second)) > lim.FrameTimeout/2 {
			t.Fatalf("budget %d B/s sends a %d-byte batch in over half of %v", bw, s.SyncBatchBytes, lim.FrameTimeout)
		}
	})
}

func TestDefaultsAreValid(t *testing.T) {
	for _, lim := range []Limits{DefaultLimits(), nodeLimits} {
		if err := Defaults().Validate(lim); err != nil {
			t.Errorf("defaults under %+v: %v", lim, err)
		}
	}
}

func TestFlagNames(t *testing.T) {
	for _, k := range Keys() {
		f := FlagName(k)
		if strings.Contains(f, "_") {
			t.Errorf("flag %q has an underscore", f)
		}
		if back, ok := KeyOfFlag(f); !ok || back != k {
			t.Errorf("KeyOfFlag(%q) = %q, %v", f, back, ok)
		}
	}
	if _, ok := KeyOfFlag("data"); ok {
		t.Error("data is not a setting")
	}
}

func TestValueMatchesJSON(t *testing.T) {
	s := Defaults()
	s.SyncInterval, s.BlobPolicy = 90*time.Second, SinksOnly
	b, _ := json.Marshal(s)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		want, _ := json.Marshal(m[k])
		got, _ := json.Marshal(s.Value(k))
		if string(got) != string(want) {
			t.Errorf("Value(%s) = %s, JSON has %s", k, got, want)
		}
	}
	if s.Value("nope") != nil {
		t.Error("unknown key has a value")
	}
}
