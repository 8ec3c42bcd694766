package store

import (
	"bytes"
	"context"
	"testing"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// sameAsReadRun checks that ReadRunEncoded gives, for every window, the
// encodings of exactly what ReadRun gives, and the same seal.
func sameAsReadRun(t *testing.T, s *Store, origin string, last uint64) {
	t.Helper()
	for from := uint64(1); from <= last+1; from++ {
		for _, to := range []uint64{from, from + 3, last + 5} {
			for _, max := range []int{1, 200, 500, 1100, 1 << 20} {
				evs, seal, err := s.ReadRun(origin, from, to, max)
				if err != nil {
					t.Fatal(err)
				}
				encs, eseal, err := s.ReadRunEncoded(origin, from, to, max)
				if err != nil {
					t.Fatal(err)
				}
				if len(encs) != len(evs) || (seal == nil) != (eseal == nil) || (seal != nil && !bytes.Equal(seal.AppendBinary(nil), eseal.AppendBinary(nil))) {
					t.Fatalf("ReadRunEncoded(%d,%d,%d): %d events seal %v; ReadRun %d events seal %v",
						from, to, max, len(encs), eseal, len(evs), seal)
				}
				checkRunModel(t, s, origin, from, to, max, encs, eseal)
				for i, e := range evs {
					if encs[i].Seq != e.Seq || !bytes.Equal(encs[i].Bytes, e.AppendBinary(nil)) {
						t.Fatalf("ReadRunEncoded(%d,%d,%d)[%d]: seq %d, bytes differ from event %d", from, to, max, i, encs[i].Seq, e.Seq)
					}
					if encs[i].Redacted() != e.Redacted() {
						t.Fatalf("event %d: Redacted %v, want %v", e.Seq, encs[i].Redacted(), e.Redacted())
					}
				}
			}
		}
	}
}

// checkRunModel checks a ReadRunEncoded result against the store read one
// event at a time (Get, NextSeal): the events from from on, each as Get
// returns it, as many as fit max (at least one), up to the seal that
// vouches for to, and that seal exactly when the run reaches it.
func checkRunModel(t *testing.T, s *Store, origin string, from, to uint64, limit int, encs []event.Encoded, seal *event.Seal) {
	t.Helper()
	sealSeq := ^uint64(0)
	if sl, err := s.NextSeal(origin, max(from, to)); err == nil {
		sealSeq = sl.Seq
	}
	size := 0
	for seq := from; ; seq++ {
		e, err := s.Get(crdt.Dot{Origin: origin, Seq: seq})
		i := int(seq - from)
		if err != nil || seq > sealSeq {
			if i != len(encs) {
				t.Fatalf("ReadRunEncoded(%d,%d,%d): %d events, the store has %d before the end", from, to, limit, len(encs), i)
			}
			break
		}
		b := e.AppendBinary(nil)
		if i == len(encs) {
			if i > 0 && size+len(b) <= limit && encs[i-1].Seq != sealSeq {
				t.Fatalf("ReadRunEncoded(%d,%d,%d): stopped at %d events with room for seq %d", from, to, limit, i, seq)
			}
			break
		}
		if encs[i].Seq != seq || !bytes.Equal(encs[i].Bytes, b) {
			t.Fatalf("ReadRunEncoded(%d,%d,%d)[%d]: seq %d, not the stored event %d", from, to, limit, i, encs[i].Seq, seq)
		}
		size += len(b)
	}
	if reached := len(encs) > 0 && encs[len(encs)-1].Seq == sealSeq; reached != (seal != nil) {
		t.Fatalf("ReadRunEncoded(%d,%d,%d): seal %v, run reaches the seal: %v", from, to, limit, seal, reached)
	}
}

func TestReadRunEncoded(t *testing.T) {
	k := newKey(t, 15)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	defer s.Close()
	acks := ingest(t, s, secretInputs(t, 10)) // sealed at 10
	ingest(t, s, inputs(6, "x"))              // sealed at 16
	sameAsReadRun(t, s, k.origin, 16)

	// Redacted: at first the log still holds the original (ReadRun shows
	// the redacted form), then the eraser rewrites it.
	if _, _, err := s.Redact(context.Background(), acks[4].EventID); err != nil {
		t.Fatal(err)
	}
	mustRedacted(t, s, crdt.Dot{Origin: k.origin, Seq: 5}, k.origin)
	sameAsReadRun(t, s, k.origin, 17)
	waitErased(t, s)
	sameAsReadRun(t, s, k.origin, 17)
}

// TestApplyEncoded: events applied with their encodings are stored byte
// for byte as applying them decoded stores them, and read back the same.
func TestApplyEncoded(t *testing.T) {
	src := openStore(t, testConfig(t.TempDir(), newKey(t, 16)))
	defer src.Close()
	ingest(t, src, secretInputs(t, 7))
	ingest(t, src, inputs(300, "y"))
	origin := src.Origin()
	plain := openStore(t, testConfig(t.TempDir(), newKey(t, 17)))
	defer plain.Close()
	fast := openStore(t, testConfig(t.TempDir(), newKey(t, 18)))
	defer fast.Close()
	for from := uint64(1); from <= 307; {
		evs, seal, err := src.ReadRun(origin, from, from, 1<<20)
		if err != nil || seal == nil {
			t.Fatalf("read from %d: %v, seal %v", from, err, seal)
		}
		encs, _, err := src.ReadRunEncoded(origin, from, from, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		raw := make([][]byte, len(encs))
		for i := range encs {
			raw[i] = encs[i].Bytes
		}
		raw[0] = nil // a missing encoding is encoded by the store
		if _, err := plain.Apply(context.Background(), evs, []event.Seal{*seal}); err != nil {
			t.Fatal(err)
		}
		wait, err := fast.ApplyAsync(context.Background(), evs, raw, []event.Seal{*seal})
		if err != nil {
			t.Fatal(err)
		}
		added, err := wait()
		if err != nil || len(added) != len(evs) {
			t.Fatalf("ApplyAsync added %d of %d: %v", len(added), len(evs), err)
		}
		from = seal.Seq + 1
	}
	if plain.Summary().Digest != fast.Summary().Digest || fast.Summary().Events != 307 {
		t.Fatalf("digests differ or events missing: %d events", fast.Summary().Events)
	}
	for seq := uint64(1); seq <= 307; seq++ {
		a, _, errA := plain.ReadRunEncoded(origin, seq, seq, 1)
		b, _, errB := fast.ReadRunEncoded(origin, seq, seq, 1)
		if errA != nil || errB != nil || len(a) != 1 || len(b) != 1 || !bytes.Equal(a[0].Bytes, b[0].Bytes) {
			t.Fatalf("seq %d stored differently (%v, %v)", seq, errA, errB)
		}
		e, err := event.Decode(b[0].Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := fast.Hash(crdt.Dot{Origin: origin, Seq: seq}); !ok || h != e.Hash() {
			t.Fatalf("seq %d: hash %x held %v", seq, h, ok)
		}
	}
}
