package policy

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rumor-sync/rumor/internal/clock"
)

// drawPatch draws a patch whose values are sometimes valid, sometimes not.
func drawPatch(t *rapid.T) Patch {
	var p Patch
	if rapid.Bool().Draw(t, "set push") {
		v := rapid.Bool().Draw(t, "push")
		p.Push = &v
	}
	if rapid.Bool().Draw(t, "set interval") {
		v := time.Duration(rapid.Int64Range(-1, int64(25*time.Hour)).Draw(t, "interval"))
		p.SyncInterval = &v
	}
	if rapid.Bool().Draw(t, "set fanout") {
		v := rapid.IntRange(-1, 20).Draw(t, "fanout")
		p.SyncFanout = &v
	}
	if rapid.Bool().Draw(t, "set blobs") {
		v := rapid.SampledFrom([]BlobPolicy{Eager, OnDemand, SinksOnly, "lazy"}).Draw(t, "blobs")
		p.BlobPolicy = &v
	}
	if rapid.Bool().Draw(t, "set batch") {
		v := rapid.IntRange(0, 9<<20).Draw(t, "batch")
		p.SyncBatchBytes = &v
	}
	if rapid.Bool().Draw(t, "set run") {
		v := rapid.IntRange(0, 40<<20).Draw(t, "run")
		p.SyncRunBytes = &v
	}
	if rapid.Bool().Draw(t, "set inline") {
		v := rapid.IntRange(-1, 600<<10).Draw(t, "inline")
		p.PushInlineBytes = &v
	}
	if rapid.Bool().Draw(t, "set bw") {
		v := rapid.Int64Range(-1, 1<<30).Draw(t, "bw")
		p.PeerBandwidth = &v
	}
	return p
}

// Updates are all or nothing: a rejected one leaves the very same state;
// an accepted one applies the whole patch, marks exactly its keys as
// from the API, bumps the version once and supersedes the old state.
func TestHolderUpdatesAllOrNothing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clk := clock.NewManual(time.Unix(1_700_000_000, 0))
		initial := Resolved{Settings: Defaults(), Sources: map[string]Source{KeySyncInterval: SourceFlag, KeyPush: SourceFile}}
		h, err := NewHolder(nodeLimits, initial, clk)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rapid.IntRange(1, 20).Draw(t, "updates") {
			clk.Advance(time.Second)
			old := h.Load()
			p := drawPatch(t)
			st, err := h.Update(p, SourceAPI)
			want := p.Apply(old.Settings)
			if want.Validate(nodeLimits) != nil {
				var fe *FieldError
				if !errors.As(err, &fe) || h.Load() != old || st != old {
					t.Fatalf("update %d: invalid %+v accepted or state changed (err %v)", i, want, err)
				}
				continue
			}
			if err != nil || h.Load() != st || st.Settings != want {
				t.Fatalf("update %d: valid %+v: %v, state %+v", i, want, err, st.Settings)
			}
			wantSources := maps.Clone(old.Sources)
			for _, k := range p.Keys() {
				wantSources[k] = SourceAPI
			}
			if !maps.Equal(st.Sources, wantSources) {
				t.Fatalf("sources %v, want %v", st.Sources, wantSources)
			}
			if st == old {
				if len(p.Keys()) > 0 && !maps.Equal(old.Sources, wantSources) {
					t.Fatal("a change of source made no new state")
				}
				continue
			}
			select {
			case <-old.Superseded():
			default:
				t.Fatal("the replaced state is not marked superseded")
			}
			if st.Version != old.Version+1 || !st.Updated.Equal(clk.Now()) || !slices.Equal(st.Changed, Diff(old.Settings, want)) {
				t.Fatalf("version %d after %d, updated %v, changed %v", st.Version, old.Version, st.Updated, st.Changed)
			}
		}
	})
}

func TestHolderReplaceDropsAPIChanges(t *testing.T) {
	h, err := NewHolder(nodeLimits, Resolved{Settings: Defaults()}, clock.NewManual(time.Unix(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	two := 2
	if _, err := h.Update(Patch{SyncFanout: &two}, SourceAPI); err != nil {
		t.Fatal(err)
	}
	file := Defaults()
	file.SyncInterval = 5 * time.Second
	bad := file
	bad.SyncFanout = 0
	before := h.Load()
	if st, err := h.Replace(Resolved{Settings: bad}); err == nil || st != before || h.Load() != before {
		t.Fatalf("an invalid reload was applied: %v", err)
	}
	st, err := h.Replace(Resolved{Settings: file, Sources: map[string]Source{KeySyncInterval: SourceFile}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Settings != file || st.Sources[KeySyncFanout] != SourceDefault || st.Sources[KeySyncInterval] != SourceFile {
		t.Fatalf("after reload: %+v from %v", st.Settings, st.Sources)
	}
	if !slices.Equal(st.Changed, []string{KeySyncInterval, KeySyncFanout}) {
		t.Fatalf("changed %v", st.Changed)
	}
	// The same file again changes nothing.
	if again, _ := h.Replace(Resolved{Settings: file, Sources: map[string]Source{KeySyncInterval: SourceFile}}); again != st {
		t.Fatal("reloading the same file made a new state")
	}
}

func TestNewHolderRejects(t *testing.T) {
	bad := Defaults()
	bad.SyncFanout = 99
	if _, err := NewHolder(nodeLimits, Resolved{Settings: bad}, clock.Real{}); err == nil {
		t.Error("invalid initial settings accepted")
	}
	if _, err := NewHolder(Limits{}, Resolved{Settings: Defaults()}, clock.Real{}); err == nil {
		t.Error("zero limits accepted")
	}
	if _, err := NewHolder(nodeLimits, Resolved{Settings: Defaults()}, nil); err == nil {
		t.Error("nil clock accepted")
	}
}

func TestViewJSON(t *testing.T) {
	h, err := NewHolder(nodeLimits, Resolved{Settings: Defaults(), Sources: map[string]Source{KeyPush: SourceEnv}}, clock.NewManual(time.Unix(60, 0)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(h.Load().View())
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"values":{"push":true,"sync_interval":"1s","sync_fanout":1,"blob_policy":"eager","sync_batch_bytes":1048576,` +
		`"sync_run_bytes":4194304,"push_inline_bytes":65536,"peer_bandwidth":0},"sources":{"blob_policy":"default",` +
		`"peer_bandwidth":"default","push":"env","push_inline_bytes":"default","sync_batch_bytes":"default",` +
		`"sync_fanout":"default","sync_interval":"default","sync_run_bytes":"default"},"version":1,"updated":"1970-01-01T00:01:00Z"}`
	if string(b) != want {
		t.Fatalf("view\n%s\nwant\n%s", b, want)
	}
}
