package crdt

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"
)

func ctxOf(rs ...Range) *Context {
	c := NewContext()
	for _, r := range rs {
		c.AddRange(r)
	}
	return c
}

func TestContextAddCompacts(t *testing.T) {
	tests := []struct {
		name      string
		seqs      []uint64
		max, high uint64
		ranges    []Range
	}{
		{"empty", nil, 0, 0, nil},
		{"contiguous", []uint64{1, 2, 3}, 3, 3, []Range{{"a", 1, 3}}},
		{"gap", []uint64{1, 2, 5}, 2, 5, []Range{{"a", 1, 2}, {"a", 5, 5}}},
		{"only beyond gap", []uint64{4, 6}, 0, 6, []Range{{"a", 4, 4}, {"a", 6, 6}}},
		{"gap filled", []uint64{1, 3, 2}, 3, 3, []Range{{"a", 1, 3}}},
		{"reverse order", []uint64{5, 4, 3, 2, 1}, 5, 5, []Range{{"a", 1, 5}}},
		{"bridge two extras", []uint64{3, 5, 4, 1, 2}, 5, 5, []Range{{"a", 1, 5}}},
		{"extras merge", []uint64{10, 12, 11, 20}, 0, 20, []Range{{"a", 10, 12}, {"a", 20, 20}}},
		{"top seq", []uint64{math.MaxUint64, math.MaxUint64 - 1}, 0, math.MaxUint64,
			[]Range{{"a", math.MaxUint64 - 1, math.MaxUint64}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewContext()
			for _, s := range tt.seqs {
				if !c.Add(Dot{"a", s}) {
					t.Fatalf("Add(%d) = false on a new dot", s)
				}
				if c.Add(Dot{"a", s}) {
					t.Fatalf("Add(%d) = true twice", s)
				}
			}
			if got := c.Max("a"); got != tt.max {
				t.Errorf("Max = %d, want %d", got, tt.max)
			}
			if got := c.Highest("a"); got != tt.high {
				t.Errorf("Highest = %d, want %d", got, tt.high)
			}
			if got := c.Ranges(); !slices.Equal(got, tt.ranges) {
				t.Errorf("Ranges = %v, want %v", got, tt.ranges)
			}
			if got := c.Len(); got != uint64(len(tt.seqs)) {
				t.Errorf("Len = %d, want %d", got, len(tt.seqs))
			}
		})
	}
}

func TestContextAddRange(t *testing.T) {
	tests := []struct {
		name string
		in   []Range
		want []Range
	}{
		{"prefix", []Range{{"a", 1, 10}}, []Range{{"a", 1, 10}}},
		{"overlap", []Range{{"a", 5, 10}, {"a", 8, 15}}, []Range{{"a", 5, 15}}},
		{"touching", []Range{{"a", 5, 10}, {"a", 11, 15}}, []Range{{"a", 5, 15}}},
		{"fills to prefix", []Range{{"a", 5, 10}, {"a", 1, 4}}, []Range{{"a", 1, 10}}},
		{"covers many", []Range{{"a", 3, 3}, {"a", 5, 5}, {"a", 9, 9}, {"a", 2, 8}}, []Range{{"a", 2, 9}}},
		{"inside prefix", []Range{{"a", 1, 10}, {"a", 3, 4}}, []Range{{"a", 1, 10}}},
		{"invalid ignored", []Range{{"a", 0, 3}, {"a", 5, 4}, {"", 1, 2}}, nil},
		{"up to max", []Range{{"a", 1, math.MaxUint64}}, []Range{{"a", 1, math.MaxUint64}}},
		{"origins sorted", []Range{{"b", 1, 1}, {"a", 2, 2}}, []Range{{"a", 2, 2}, {"b", 1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ctxOf(tt.in...).Ranges(); !slices.Equal(got, tt.want) {
				t.Errorf("Ranges = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestContextInvalidDots(t *testing.T) {
	c := NewContext()
	long := string(bytes.Repeat([]byte{'x'}, MaxOriginLen+1))
	for _, d := range []Dot{{"a", 0}, {"", 1}, {long, 1}} {
		if c.Add(d) || c.Contains(d) {
			t.Errorf("invalid dot %v was added", d)
		}
	}
	if c.Len() != 0 || len(c.Origins()) != 0 {
		t.Errorf("context not empty: %v", c.Ranges())
	}
}

func TestContextMissing(t *testing.T) {
	tests := []struct {
		name string
		a, b *Context
		want []Range
	}{
		{"equal", ctxOf(Range{"a", 1, 5}), ctxOf(Range{"a", 1, 5}), nil},
		{"behind", ctxOf(Range{"a", 1, 9}), ctxOf(Range{"a", 1, 5}), []Range{{"a", 6, 9}}},
		{"ahead", ctxOf(Range{"a", 1, 5}), ctxOf(Range{"a", 1, 9}), nil},
		{"unknown origin", ctxOf(Range{"b", 1, 2}), NewContext(), []Range{{"b", 1, 2}}},
		{"nil other", ctxOf(Range{"b", 1, 2}), nil, []Range{{"b", 1, 2}}},
		{"holes in b", ctxOf(Range{"a", 1, 10}), ctxOf(Range{"a", 1, 2}, Range{"a", 5, 6}, Range{"a", 9, 9}),
			[]Range{{"a", 3, 4}, {"a", 7, 8}, {"a", 10, 10}}},
		{"holes in a", ctxOf(Range{"a", 1, 2}, Range{"a", 5, 9}), ctxOf(Range{"a", 2, 6}),
			[]Range{{"a", 1, 1}, {"a", 7, 9}}},
		{"b span across a gap", ctxOf(Range{"a", 1, 3}, Range{"a", 6, 8}), ctxOf(Range{"a", 3, 7}),
			[]Range{{"a", 1, 2}, {"a", 8, 8}}},
		{"two origins", ctxOf(Range{"a", 1, 3}, Range{"b", 1, 3}), ctxOf(Range{"a", 1, 1}, Range{"b", 1, 3}),
			[]Range{{"a", 2, 3}}},
		{"top of range", ctxOf(Range{"a", 1, math.MaxUint64}), ctxOf(Range{"a", 2, math.MaxUint64 - 1}),
			[]Range{{"a", 1, 1}, {"a", math.MaxUint64, math.MaxUint64}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Missing(tt.b); !slices.Equal(got, tt.want) {
				t.Errorf("Missing = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestContextMergeEqualClone(t *testing.T) {
	a := ctxOf(Range{"a", 1, 3}, Range{"a", 7, 8}, Range{"c", 2, 2})
	b := ctxOf(Range{"a", 4, 6}, Range{"b", 1, 1})
	c := a.Clone()
	c.Merge(b)
	want := ctxOf(Range{"a", 1, 8}, Range{"b", 1, 1}, Range{"c", 2, 2})
	if !c.Equal(want) {
		t.Fatalf("merge = %v, want %v", c.Ranges(), want.Ranges())
	}
	if a.Equal(c) || !a.Equal(ctxOf(Range{"a", 1, 3}, Range{"a", 7, 8}, Range{"c", 2, 2})) {
		t.Fatalf("Clone shares state with the original")
	}
	if got := c.Origins(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Origins = %v", got)
	}
	vv := c.VersionVector()
	if len(vv) != 2 || vv["a"] != 8 || vv["b"] != 1 {
		t.Errorf("VersionVector = %v", vv)
	}
	var zero Context
	if !zero.Equal(NewContext()) || !NewContext().Equal(nil) || zero.Len() != 0 {
		t.Errorf("zero, new and nil contexts differ")
	}
}

func TestContextEncodingGolden(t *testing.T) {
	c := ctxOf(Range{"a", 1, 3}, Range{"a", 7, 8}, Range{"a", 11, 11}, Range{"b", 2, 2})
	got, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 2, // version, 2 origins
		1, 'a', 3, 2, 2, 1, 1, 0, // max 3; [7,8]: gap 7-3-2=2, span 1; [11,11]: gap 11-8-2=1, span 0
		1, 'b', 0, 1, 0, 0} // max 0; [2,2]: gap 0, span 0
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding = %v, want %v", got, want)
	}
	if e := c.EncodeOrigin("a"); !bytes.Equal(e, []byte{1, 3, 2, 2, 1, 1, 0}) {
		t.Errorf("EncodeOrigin(a) = %v", e)
	}
	if e := c.EncodeOrigin("zz"); !bytes.Equal(e, []byte{1, 0, 0}) {
		t.Errorf("EncodeOrigin(absent) = %v", e)
	}
}

func TestContextUnmarshalRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty input", nil},
		{"bad version", []byte{2, 0}},
		{"trailing", []byte{1, 0, 0}},
		{"truncated", []byte{1, 1, 1, 'a'}},
		{"empty origin", []byte{1, 1, 0, 1, 0, 0, 0}},
		{"empty state", []byte{1, 1, 1, 'a', 0, 0}},
		{"unsorted", []byte{1, 2, 1, 'b', 1, 0, 1, 'a', 1, 0}},
		{"duplicate", []byte{1, 2, 1, 'a', 1, 0, 1, 'a', 1, 0}},
		{"non-minimal varint", []byte{1, 1, 1, 'a', 0x81, 0x00, 0}},
		{"too many origins", []byte{1, 0x80, 0x80, 0x80, 0x01}},
		{"count beyond input", []byte{1, 3, 1, 'a', 1, 0}},
		{"range overflow", append([]byte{1, 1, 1, 'a', 1, 1},
			0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 5)},
		{"too many extra", []byte{1, 1, 1, 'a', 0, 0x81, 0x80, 0x04}},
		{"varint overflow", []byte{1, 1, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ctxOf(Range{"keep", 1, 4})
			before := c.Clone()
			err := c.UnmarshalBinary(tt.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !c.Equal(before) {
				t.Errorf("failed decode changed the context")
			}
		})
	}
}

func TestContextDecodeOrigin(t *testing.T) {
	src := ctxOf(Range{"a", 1, 3}, Range{"a", 9, 9})
	c := ctxOf(Range{"a", 1, 100}, Range{"b", 1, 1})
	if err := c.DecodeOrigin("a", src.EncodeOrigin("a")); err != nil {
		t.Fatal(err)
	}
	if want := ctxOf(Range{"a", 1, 3}, Range{"a", 9, 9}, Range{"b", 1, 1}); !c.Equal(want) {
		t.Fatalf("after DecodeOrigin: %v", c.Ranges())
	}
	if err := c.DecodeOrigin("b", []byte{1, 0, 0}); err != nil || c.Contains(Dot{"b", 1}) {
		t.Fatalf("empty state did not remove the origin: %v %v", err, c.Origins())
	}
	if !slices.Equal(c.Origins(), []string{"a"}) {
		t.Errorf("Origins = %v", c.Origins())
	}
	for _, bad := range [][]byte{nil, {1}, {1, 0, 1}, {1, 0, 0, 0}, {0, 0, 0}} {
		if err := c.DecodeOrigin("a", bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeOrigin(%v) err = %v", bad, err)
		}
	}
	if err := c.DecodeOrigin("", []byte{1, 1, 0}); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty origin accepted: %v", err)
	}
}

func TestContextMarshalLimits(t *testing.T) {
	c := NewContext()
	for i := uint64(0); i <= MaxExtraRanges; i++ {
		c.Add(Dot{"a", 2 + 2*i})
	}
	if _, err := c.MarshalBinary(); err == nil {
		t.Fatal("MarshalBinary accepted too many extra ranges")
	}
	c.AddRange(Range{"a", 1, 3 + 2*MaxExtraRanges})
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, []byte{1, 1, 1, 'a', 0x83, 0x80, 0x08, 0}) {
		t.Errorf("compacted encoding = %v", b)
	}
}
