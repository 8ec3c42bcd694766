package syncproto

import (
	"testing"

	"github.com/rumor-sync/rumor/crdt"
)

func TestClipFloors(t *testing.T) {
	m := NewMemReplica()
	m.floors["a"] = memFloor{seq: 10}
	m.floors["b"] = memFloor{seq: 5}
	for _, tc := range []struct {
		name     string
		in, want []crdt.Range
	}{
		{"no floor", []crdt.Range{{Origin: "c", From: 1, To: 9}}, []crdt.Range{{Origin: "c", From: 1, To: 9}}},
		{"wholly below", []crdt.Range{{Origin: "a", From: 1, To: 10}}, nil},
		{"crossing", []crdt.Range{{Origin: "a", From: 3, To: 12}}, []crdt.Range{{Origin: "a", From: 11, To: 12}}},
		{"above", []crdt.Range{{Origin: "a", From: 11, To: 20}}, []crdt.Range{{Origin: "a", From: 11, To: 20}}},
		{"several", []crdt.Range{{Origin: "a", From: 1, To: 4}, {Origin: "a", From: 8, To: 30}, {Origin: "b", From: 5, To: 5}, {Origin: "b", From: 7, To: 8}},
			[]crdt.Range{{Origin: "a", From: 11, To: 30}, {Origin: "b", From: 7, To: 8}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clipFloors(m, append([]crdt.Range(nil), tc.in...))
			if len(got) != len(tc.want) {
				t.Fatalf("clip(%v) = %v, want %v", tc.in, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("clip(%v) = %v, want %v", tc.in, got, tc.want)
				}
			}
		})
	}
}

// A replica that pruned an origin's oldest events never offers them: a
// peer that lacks them gets only what lies above the floor, gets the rest
// from a replica that kept them, and a pruned replica never pulls its
// pruned events back.
func TestPrunedEventsNeitherOfferedNorPulledBack(t *testing.T) {
	o := newOrigin(t, 41)
	log := buildLog(t, o, 100, 10, 64, 0)
	full := NewMemReplica()
	applyAll(t, full, log)
	pruned := full.Clone()
	if err := pruned.Prune(o.id, 55); err == nil {
		t.Fatal("pruned at an unsealed seq")
	}
	if err := pruned.Prune(o.id, 60); err != nil {
		t.Fatal(err)
	}
	if pruned.Holds(crdt.Dot{Origin: o.id, Seq: 60}) || !pruned.Holds(crdt.Dot{Origin: o.id, Seq: 61}) {
		t.Fatal("Prune kept the wrong events")
	}
	if err := pruned.Verify(); err != nil {
		t.Fatal(err)
	}

	fresh := NewMemReplica()
	applyAll(t, fresh, log[:3]) // holds 1..30
	out := runSession(t, 1, fresh, pruned, DefaultSessionConfig())
	if got := out.Initiator.Ranges; len(got) != 1 || got[0] != (crdt.Range{Origin: o.id, From: 61, To: 100}) {
		t.Fatalf("from the pruned replica the fresh one got %v, want 61-100 only", got)
	}
	if out.Responder.Applied != 0 {
		t.Fatalf("the pruned replica pulled %d events back", out.Responder.Applied)
	}
	if err := fresh.Verify(); err != nil {
		t.Fatal(err)
	}

	out = runSession(t, 2, fresh, full, DefaultSessionConfig())
	if got := out.Initiator.Ranges; len(got) != 1 || got[0] != (crdt.Range{Origin: o.id, From: 31, To: 60}) {
		t.Fatalf("from the full replica the fresh one got %v, want 31-60", got)
	}
	mustEqualContexts(t, fresh, full, pruned)
	out = runSession(t, 3, pruned, full, DefaultSessionConfig())
	if out.Initiator.Applied != 0 || out.Responder.Applied != 0 || out.Initiator.RoundTrips != 1 {
		t.Fatalf("in-sync replicas exchanged events: %+v", out)
	}
	if err := fresh.Verify(); err != nil {
		t.Fatal(err)
	}
}
