package crdt

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestAggregatesApply(t *testing.T) {
	s := NewAggregates()
	const ts = 1_700_000_123_456
	if !s.Apply(Dot{"dev", 1}, "temp", ts, 20, true, []byte("room1")) {
		t.Fatal("first apply reported no change")
	}
	if s.Apply(Dot{"dev", 1}, "temp", ts, 99, true, nil) {
		t.Fatal("duplicate dot applied twice")
	}
	if s.Apply(Dot{"dev", 0}, "temp", ts, 1, true, nil) {
		t.Fatal("invalid dot applied")
	}
	s.Apply(Dot{"dev", 2}, "temp", ts+60_000, 22, true, []byte("room2"))
	want := []AggKey{
		{"temp", Minute, 1_700_000_100_000},
		{"temp", Minute, 1_700_000_160_000},
		{"temp", Hour, 1_699_999_200_000},
		{"temp", Day, 1_699_920_000_000},
	}
	if got := s.Keys(); !slices.Equal(got, want) {
		t.Fatalf("Keys = %v\nwant %v", got, want)
	}
	day, ok := s.Get(want[3])
	if !ok || day.Count != 2 || day.Sum != 42 || day.Distinct() != 2 {
		t.Fatalf("day aggregate %+v", day.Summary())
	}
	if m, _ := s.Get(want[0]); m.Count != 1 || m.Max != 20 {
		t.Fatalf("minute aggregate %+v", m.Summary())
	}
	if !s.Applied().Equal(ctxOf(Range{"dev", 1, 2})) {
		t.Fatalf("applied = %v", s.Applied().Ranges())
	}
	s.Delete(want[0])
	if _, ok := s.Get(want[0]); ok || s.Apply(Dot{"dev", 1}, "temp", ts, 20, true, nil) {
		t.Fatal("Delete forgot that the event was applied")
	}
	r := RestoreAggregates(s.Applied().Clone(), map[AggKey]*Agg{})
	for _, k := range s.Keys() {
		a, _ := s.Get(k)
		r.aggs[k] = a.Clone()
	}
	if !r.Equal(s) {
		t.Fatal("restored aggregates differ")
	}
	var zero Aggregates
	if !zero.Apply(Dot{"dev", 1}, "x", 0, 1, true, nil) || zero.Applied().Len() != 1 || len(zero.Keys()) != 3 {
		t.Fatal("zero Aggregates is not usable")
	}
}

type testEvent struct {
	dot   Dot
	typ   string
	ts    int64
	value float64
	has   bool
	key   []byte
}

func TestPropAggregatesExactlyOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dots := rapid.SliceOfNDistinct(genDot(), 0, 40, rapid.ID[Dot]).Draw(t, "dots")
		events := make([]testEvent, len(dots))
		for i, d := range dots {
			k := rapid.IntRange(0, 5).Draw(t, "key")
			events[i] = testEvent{
				dot:   d,
				typ:   rapid.SampledFrom([]string{"click", "temp"}).Draw(t, "type"),
				ts:    rapid.Int64Range(-200_000_000, 200_000_000).Draw(t, "ts"),
				value: genValue().Draw(t, "value"),
				has:   rapid.Bool().Draw(t, "has"),
				key:   fmt.Appendf(nil, "u%d", k),
			}
		}
		once := NewAggregates()
		for _, e := range events {
			if !once.Apply(e.dot, e.typ, e.ts, e.value, e.has, e.key) {
				t.Fatalf("fresh event %v not applied", e.dot)
			}
		}
		stream := slices.Clone(events)
		for _, i := range rapid.SliceOfN(rapid.IntRange(0, 1000), 0, 30).Draw(t, "dups") {
			if len(events) > 0 {
				stream = append(stream, events[i%len(events)])
			}
		}
		stream = rapid.Permutation(stream).Draw(t, "order")
		replayed := NewAggregates()
		applied := 0
		for _, e := range stream {
			if replayed.Apply(e.dot, e.typ, e.ts, e.value, e.has, e.key) {
				applied++
			}
		}
		if applied != len(events) {
			t.Fatalf("applied %d of %d distinct events", applied, len(events))
		}
		if !replayed.Equal(once) {
			t.Fatal("duplicated, reordered stream differs from applying each event once")
		}
		for _, k := range once.Keys() {
			a, _ := once.Get(k)
			b, _ := replayed.Get(k)
			if a.Sum != b.Sum || a.Quantile(0.5) != b.Quantile(0.5) || a.Distinct() != b.Distinct() {
				t.Fatalf("%v: reported numbers differ", k)
			}
		}
	})
}
