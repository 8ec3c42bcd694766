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
