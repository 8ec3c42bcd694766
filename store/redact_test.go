package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

func blobCID(t testing.TB, data string) cid.Cid {
	t.Helper()
	h, err := mh.Sum([]byte(data), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// secretInputs are n events of type "m" whose payloads carry a findable
// secret and a value, the third one referencing a blob only it uses and
// the fourth one a blob shared with the fifth.
func secretInputs(t testing.TB, n int) []event.Input {
	out := make([]event.Input, n)
	for i := range out {
		out[i] = event.Input{Type: "m", Schema: 1,
			Payload: json.RawMessage(fmt.Sprintf(`{"secret":"s3cr3t-%03d","value":%d}`, i+1, 10*(i+1)))}
	}
	if n >= 5 {
		out[2].Blobs = []cid.Cid{blobCID(t, "only-3")}
		out[3].Blobs = []cid.Cid{blobCID(t, "shared")}
		out[4].Blobs = []cid.Cid{blobCID(t, "shared")}
	}
	return out
}

func dayAgg(t *testing.T, s *Store, typ string) *crdt.Agg {
	t.Helper()
	rows, err := s.Aggregates(typ, crdt.Day, 0, 1<<62)
	if err != nil || len(rows) != 1 {
		t.Fatalf("aggregates: %d rows, %v", len(rows), err)
	}
	return rows[0].Agg
}

// waitErased polls until the eraser has emptied its queue.
func waitErased(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		_ = s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRedact, xErase}})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				n++
			}
			return nil
		})
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d erasures still queued", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logContains reports whether any segment file holds b.
func logContains(t *testing.T, dir string, b []byte) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "log", "*.seg"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, b) {
			return true
		}
	}
	return false
}

func mustRedacted(t *testing.T, s *Store, d crdt.Dot, by string) {
	t.Helper()
	e, err := s.Get(d)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Redacted() || e.Redaction.Redactor != by || string(e.Payload) != "{}" || len(e.Blobs) != 0 {
		t.Fatalf("%s/%d not redacted by %s: %+v", d.Origin, d.Seq, by, e)
	}
	byID, err := s.GetByID(e.ID)
	if err != nil || !byID.Redacted() {
		t.Fatalf("by id: %v %v", byID, err)
	}
	found := false
	err = s.Scan(Query{Device: d.Origin, After: d.Seq - 1, Limit: 1}, func(x *event.Event) error {
		found = x.Redacted()
		return nil
	})
	if err != nil || !found {
		t.Fatalf("scan does not show %s/%d redacted", d.Origin, d.Seq)
	}
	run, _, err := s.ReadRun(d.Origin, d.Seq, d.Seq, 1<<20)
	if err != nil || len(run) == 0 || !run[0].Redacted() {
		t.Fatal("ReadRun serves the payload of a redacted event")
	}
}

func TestRedactOwnEvent(t *testing.T) {
	k := newKey(t, 40)
	cfg := testConfig(t.TempDir(), k)
	s := openStore(t, cfg)
	acks := ingest(t, s, secretInputs(t, 10))
	before := dayAgg(t, s, "m")
	target := crdt.Dot{Origin: k.origin, Seq: 3}
	orig, _ := s.Get(target)
	r, ack, err := s.Redact(context.Background(), acks[2].EventID)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Seq != 11 || r.Hash != orig.Hash() || r.Redactor != k.origin {
		t.Fatalf("ack %+v, redaction %+v", ack, r)
	}
	mustRedacted(t, s, target, k.origin)
	if h, ok := s.Hash(target); !ok || h != orig.Hash() {
		t.Fatal("the redacted event's hash changed")
	}
	checkLog(t, s, 11) // the chain still verifies, with the redacted event in it
	after := dayAgg(t, s, "m")
	if after.Count != before.Count-1 || after.Sum != before.Sum-30 || after.Redacted != 1 || after.Distinct() != 1 {
		t.Fatalf("aggregates not corrected: before %+v after %+v", before.Summary(), after.Summary())
	}
	if _, _, err := s.Redact(context.Background(), acks[2].EventID); !errors.Is(err, ErrAlreadyRedacted) {
		t.Fatalf("second redaction: %v", err)
	}
	re, _ := s.Get(crdt.Dot{Origin: k.origin, Seq: 11})
	if _, _, err := s.Redact(context.Background(), re.ID); !errors.Is(err, ErrNotRedactable) {
		t.Fatalf("redacting the redaction: %v", err)
	}
	if _, err := s.Ingest(context.Background(), []event.Input{r.Input()}); !errors.Is(err, ErrReservedType) {
		t.Fatalf("ingesting the reserved type: %v", err)
	}
	var listed []uint64
	if err := s.Redactions(0, func(n uint64, x *event.Redaction) error {
		listed = append(listed, n, x.Seq)
		return nil
	}); err != nil || fmt.Sprint(listed) != "[1 3]" {
		t.Fatalf("redactions %v, %v", listed, err)
	}
	if rel, _ := s.BlobsToRelease(); len(rel) != 1 || rel[0] != blobCID(t, "only-3") {
		t.Fatalf("blobs to release %v", rel)
	}
	waitErased(t, s)
	if logContains(t, cfg.Dir, []byte("s3cr3t-003")) || !logContains(t, cfg.Dir, []byte("s3cr3t-004")) {
		t.Fatal("the payload is still in the log, or another one went with it")
	}
	if logContains(t, cfg.Dir, blobCID(t, "only-3").Hash()[2:]) {
		t.Fatal("the blob digest is still in the log")
	}
	checkLog(t, s, 11)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, cfg)
	mustRedacted(t, s, target, k.origin)
	checkLog(t, s, 11)
	if a := dayAgg(t, s, "m"); !a.Equal(after) {
		t.Fatal("aggregates changed across a restart")
	}
	digest := s.Summary().Digest
	s.Close()

	// Rebuild the index from the log, whose payload was erased.
	if err := os.RemoveAll(filepath.Join(cfg.Dir, "db")); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg)
	defer s.Close()
	mustRedacted(t, s, target, k.origin)
	checkLog(t, s, 11)
	if a := dayAgg(t, s, "m"); !a.Equal(after) || s.Summary().Digest != digest {
		t.Fatalf("rebuilt aggregates %+v, want %+v", a.Summary(), after.Summary())
	}
}

// TestRedactHeadThenContinue: redacting the last event of the local log
// (here, by a peer's operator) must not break the chain the next events
// extend, across a restart too.
func TestRedactHeadThenContinue(t *testing.T) {
	ka, kop := newKey(t, 41), newKey(t, 42)
	cfg := testConfig(t.TempDir(), ka)
	cfg.Operators = []string{kop.origin}
	a := openStore(t, cfg)
	ingest(t, a, secretInputs(t, 3))
	head, _ := a.Get(crdt.Dot{Origin: ka.origin, Seq: 3})
	op := openStore(t, testConfig(t.TempDir(), kop))
	defer op.Close()
	seal, _ := a.Seal(ka.origin)
	if _, err := op.Apply(context.Background(), allEvents(t, a, ka.origin), []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	op.red.operators[kop.origin] = true
	if _, _, err := op.Redact(context.Background(), head.ID); err != nil {
		t.Fatal(err)
	}
	red := allEvents(t, op, kop.origin)
	opSeal, _ := op.Seal(kop.origin)
	if _, err := a.Apply(context.Background(), red, []event.Seal{opSeal}); err != nil {
		t.Fatal(err)
	}
	mustRedacted(t, a, crdt.Dot{Origin: ka.origin, Seq: 3}, kop.origin)
	ingest(t, a, secretInputs(t, 1))
	checkLog(t, a, 4)
	a.Close()
	a = openStore(t, cfg)
	defer a.Close()
	ingest(t, a, secretInputs(t, 1))
	checkLog(t, a, 5)
}

// TestRedactionNeedsTheRight: a redaction by a device that is neither the
// origin nor an operator is stored as an event but changes nothing; the
// store's own Redact refuses it up front.
func TestRedactionNeedsTheRight(t *testing.T) {
	ka, kx := newKey(t, 43), newKey(t, 44)
	a := openStore(t, testConfig(t.TempDir(), ka))
	defer a.Close()
	x := openStore(t, testConfig(t.TempDir(), kx))
	defer x.Close()
	acks := ingest(t, a, secretInputs(t, 3))
	seal, _ := a.Seal(ka.origin)
	if _, err := x.Apply(context.Background(), allEvents(t, a, ka.origin), []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := x.Redact(context.Background(), acks[0].EventID); !errors.Is(err, event.ErrNotAllowed) {
		t.Fatalf("redacting another device's event without the right: %v", err)
	}
	x.red.operators[kx.origin] = true // x believes it is an operator; a does not
	if _, _, err := x.Redact(context.Background(), acks[0].EventID); err != nil {
		t.Fatal(err)
	}
	xSeal, _ := x.Seal(kx.origin)
	applied, err := a.Apply(context.Background(), allEvents(t, x, kx.origin), []event.Seal{xSeal})
	if err != nil || len(applied) != 1 {
		t.Fatalf("applied %d, %v", len(applied), err)
	}
	if e, _ := a.Get(crdt.Dot{Origin: ka.origin, Seq: 1}); e.Redacted() {
		t.Fatal("an unauthorized redaction took effect")
	}
	if _, ok := a.Redaction(crdt.Dot{Origin: ka.origin, Seq: 1}); ok {
		t.Fatal("an unauthorized redaction was recorded")
	}
}

// TestRedactionBeforeItsTarget: a replica that receives the redaction
// before the event writes the event redacted: its payload never reaches
// the disk.
func TestRedactionBeforeItsTarget(t *testing.T) {
	ka, kb := newKey(t, 45), newKey(t, 46)
	a := openStore(t, testConfig(t.TempDir(), ka))
	defer a.Close()
	acks := ingest(t, a, secretInputs(t, 5))
	if _, _, err := a.Redact(context.Background(), acks[1].EventID); err != nil {
		t.Fatal(err)
	}
	bcfg := testConfig(t.TempDir(), kb)
	b := openStore(t, bcfg)
	defer b.Close()
	events := allEvents(t, a, ka.origin) // seq 2 as a's readers see it: redacted
	seal, _ := a.Seal(ka.origin)
	if _, err := b.Apply(context.Background(), events[5:], []event.Seal{seal}); err != nil { // the redaction event alone
		t.Fatal(err)
	}
	// The whole original arrives later, from a peer that never saw the redaction.
	orig := wholeEvents(t, secretInputs(t, 5), events)
	if _, err := b.Apply(context.Background(), orig, nil); err != nil {
		t.Fatal(err)
	}
	mustRedacted(t, b, crdt.Dot{Origin: ka.origin, Seq: 2}, ka.origin)
	if logContains(t, bcfg.Dir, []byte("s3cr3t-002")) {
		t.Fatal("the payload of an event redacted before it arrived reached the disk")
	}
	if !dayAgg(t, a, "m").Equal(dayAgg(t, b, "m")) {
		t.Fatalf("aggregates differ: %+v / %+v", dayAgg(t, a, "m").Summary(), dayAgg(t, b, "m").Summary())
	}
	if b.Summary().Digest != a.Summary().Digest {
		t.Fatal("digests differ")
	}
}

// wholeEvents rebuilds the original, whole events of a log whose readers
// show some redacted: each redacted one gets its original payload back
// from inputs (the hash proves it is the original).
func wholeEvents(t *testing.T, inputs []event.Input, events []*event.Event) []*event.Event {
	t.Helper()
	var out []*event.Event
	for i, e := range events[:len(inputs)] {
		if !e.Redacted() {
			out = append(out, e)
			continue
		}
		w := &event.Event{ID: e.ID, Device: e.Device, Seq: e.Seq, TS: e.TS, Type: e.Type, Schema: e.Schema,
			Payload: inputs[i].Payload, Blobs: inputs[i].Blobs, Prev: e.Prev}
		if w.Hash() != e.Hash() {
			t.Fatalf("rebuilt %d does not hash to the original", e.Seq)
		}
		out = append(out, w)
	}
	return out
}
