package crdt

import "testing"

// The last origin a Context mutated is looked up without the map; removing
// or replacing that origin must not leave a stale shortcut behind.
func TestContextHotOrigin(t *testing.T) {
	c := NewContext()
	c.Add(Dot{Origin: "a", Seq: 1})
	c.Add(Dot{Origin: "b", Seq: 1})
	c.Add(Dot{Origin: "a", Seq: 2})
	if !c.Contains(Dot{Origin: "a", Seq: 2}) || !c.Contains(Dot{Origin: "b", Seq: 1}) {
		t.Fatal("dots lost")
	}
	if err := c.DecodeOrigin("a", NewContext().EncodeOrigin("a")); err != nil { // empty: removes a
		t.Fatal(err)
	}
	if c.Contains(Dot{Origin: "a", Seq: 1}) || c.Max("a") != 0 {
		t.Fatal("removed origin still answered")
	}
	c.Add(Dot{Origin: "a", Seq: 1})
	if c.Max("a") != 1 || len(c.Origins()) != 2 {
		t.Fatalf("re-added origin: max %d, origins %v", c.Max("a"), c.Origins())
	}
	enc, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	other := NewContext()
	other.Add(Dot{Origin: "a", Seq: 9})
	if err := other.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	if other.Contains(Dot{Origin: "a", Seq: 9}) || !other.Equal(c) {
		t.Fatal("decoded context answers from the state it replaced")
	}
}

// A merge leaves the last origin it changed hot: a replica that merges a
// run's dots and then checks the next run's is answered without the map.
func TestContextMergeSetsHot(t *testing.T) {
	c := NewContext()
	c.AddRange(Range{Origin: "a", From: 1, To: 5})
	c.AddRange(Range{Origin: "b", From: 1, To: 5})
	for _, o := range []string{"a", "c"} { // an origin held, then a new one
		run := NewContext()
		run.AddRange(Range{Origin: o, From: 6, To: 9})
		c.Merge(run)
		if c.hot == nil || c.hot.origin != o || c.hot != c.m[o] {
			t.Fatalf("after merging %s's run the hot origin is %v", o, c.hot)
		}
		if !c.Contains(Dot{Origin: o, Seq: 9}) || c.Contains(Dot{Origin: o, Seq: 10}) || !c.Add(Dot{Origin: o, Seq: 10}) {
			t.Fatalf("%s: merged dots answered wrong", o)
		}
	}
	if c.Max("a") != 10 || c.Max("b") != 5 || c.Highest("c") != 10 || c.Max("c") != 0 {
		t.Fatalf("max a %d b %d, highest c %d", c.Max("a"), c.Max("b"), c.Highest("c"))
	}
}
