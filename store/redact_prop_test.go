package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// deliverable is one thing a replica may receive: an event (whole, or
// redacted when it was) with the seal of its batch.
type deliverable struct {
	whole, redacted *event.Event // redacted is nil when the event never was
	seal            event.Seal
}

// redactionWorld builds, once, the logs of two devices and an operator:
// a's events 2 and 5 redacted by a itself, b's event 3 by the operator.
func redactionWorld(t *testing.T) ([]deliverable, testKey) {
	ka, kb, kop := newKey(t, 60), newKey(t, 61), newKey(t, 62)
	src := map[string]*Store{}
	for _, k := range []testKey{ka, kb, kop} {
		cfg := testConfig(t.TempDir(), k)
		cfg.Operators = []string{kop.origin}
		src[k.origin] = openStore(t, cfg)
		t.Cleanup(func() { src[k.origin].Close() })
	}
	ins := map[string][]event.Input{ka.origin: secretInputs(t, 6), kb.origin: secretInputs(t, 4)}
	ins[kb.origin][1].Type = "n"
	acks := map[string][]Ack{}
	for o, in := range ins {
		for i := range in { // one batch (and seal) per event
			acks[o] = append(acks[o], ingest(t, src[o], in[i:i+1])...)
		}
	}
	a, op := src[ka.origin], src[kop.origin]
	for _, i := range []int{1, 4} {
		if _, _, err := a.Redact(context.Background(), acks[ka.origin][i].EventID); err != nil {
			t.Fatal(err)
		}
	}
	bEvents := allEvents(t, src[kb.origin], kb.origin)
	if _, err := op.Apply(context.Background(), bEvents, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := op.Redact(context.Background(), acks[kb.origin][2].EventID); err != nil {
		t.Fatal(err)
	}
	var out []deliverable
	for _, k := range []testKey{ka, kb, kop} {
		s := src[k.origin]
		events := allEvents(t, s, k.origin)
		whole := wholeEvents(t, ins[k.origin], events)
		for i, e := range events {
			seal, err := s.NextSeal(k.origin, e.Seq)
			if err != nil {
				t.Fatal(err)
			}
			d := deliverable{whole: e, seal: seal}
			if i < len(whole) {
				d.whole = whole[i]
			}
			if e.Redacted() {
				d.redacted = e
			}
			// the operator's redaction of b's event 3 shows on the operator's store only
			if r, ok := op.Redaction(crdt.Dot{Origin: e.Device, Seq: e.Seq}); ok && d.redacted == nil {
				d.redacted = r.Stub()
			}
			out = append(out, d)
		}
	}
	return out, kop
}

// TestPropRedactionCommutesWithArrivalOrder: replicas that receive the same
// events, whole or already redacted, and the redaction events, in any
// order, end in the same state: same dots, same redacted view, same
// aggregates.
func TestPropRedactionCommutesWithArrivalOrder(t *testing.T) {
	world, kop := redactionWorld(t)
	rapid.Check(t, func(rt *rapid.T) {
		// Draw each replica's deliveries first: an order, the form of each
		// redacted event, and a split into Apply calls of one to four.
		var plans [2][][]deliverable
		for r := range plans {
			var cur []deliverable
			for _, i := range rapid.Permutation(seq(len(world))).Draw(rt, fmt.Sprint("order", r)) {
				d := world[i]
				if d.redacted != nil && rapid.Bool().Draw(rt, "arrives redacted") {
					d.whole = d.redacted
				}
				cur = append(cur, d)
				if len(cur) == 4 || rapid.IntRange(0, 2).Draw(rt, "cut") == 0 {
					plans[r], cur = append(plans[r], cur), nil
				}
			}
			if len(cur) > 0 {
				plans[r] = append(plans[r], cur)
			}
		}
		var views [2]string
		var errs [2]error
		var wg sync.WaitGroup
		for r := range plans { // each replica on its own goroutine: fsyncs overlap
			wg.Add(1)
			go func() {
				defer wg.Done()
				views[r], errs[r] = deliver(t, kop, uint64(70+r), plans[r])
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				rt.Fatal(err)
			}
		}
		if n := strings.Count(views[0], `"redacted":true`); n != 3 {
			rt.Fatalf("%d redacted events shown, want 3:\n%s", n, views[0])
		}
		if views[0] != views[1] {
			rt.Fatalf("replicas differ:\n%s\n---\n%s", views[0], views[1])
		}
	})
}

// deliver opens a replica, applies the plan's calls and returns its view.
func deliver(t *testing.T, kop testKey, seed uint64, plan [][]deliverable) (string, error) {
	cfg := testConfig(t.TempDir(), newKey(t, seed))
	cfg.Operators = []string{kop.origin}
	cfg.MemTableBytes, cfg.CacheBytes = 1<<20, 1<<20
	s, err := Open(cfg)
	if err != nil {
		return "", err
	}
	defer s.Close()
	for _, call := range plan {
		var events []*event.Event
		var seals []event.Seal
		for _, d := range call {
			events, seals = append(events, d.whole), append(seals, d.seal)
		}
		if _, err := s.Apply(context.Background(), events, seals); err != nil {
			return "", err
		}
	}
	return replicaView(s)
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// replicaView is everything a client can read: the events as listed, the
// digest and the aggregates.
func replicaView(s *Store) (string, error) {
	var b []byte
	err := s.Scan(Query{}, func(e *event.Event) error {
		j, _ := json.Marshal(e.ToJSON())
		b = append(append(b, j...), '\n')
		return nil
	})
	if err != nil {
		return "", err
	}
	b = fmt.Appendf(b, "digest %x\n", s.Summary().Digest)
	for _, w := range crdt.Windows {
		rows, err := s.Aggregates("", w, -1<<62, 1<<62)
		if err != nil {
			return "", err
		}
		for _, r := range rows {
			enc, _ := r.Agg.MarshalBinary()
			b = fmt.Appendf(b, "%v %x\n", r.Key, enc)
		}
	}
	return string(b), nil
}
