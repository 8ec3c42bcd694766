package store

import (
	"testing"
)

func TestReadRun(t *testing.T) {
	k := newKey(t, 14)
	s := openStore(t, testConfig(t.TempDir(), k))
	defer s.Close()
	ingest(t, s, inputs(10, "x")) // sealed at 10
	ingest(t, s, inputs(5, "x"))  // sealed at 15
	cases := []struct {
		from, to uint64
		max      int
		n        int
		seal     uint64
	}{
		{1, 1, 1 << 20, 10, 10},
		{3, 12, 1 << 20, 13, 15},
		{11, 15, 1 << 20, 5, 15},
		{1, 1, 1, 1, 0},
		{16, 16, 1 << 20, 0, 0},
	}
	for _, tc := range cases {
		evs, seal, err := s.ReadRun(k.origin, tc.from, tc.to, tc.max)
		if err != nil {
			t.Fatal(err)
		}
		got := uint64(0)
		if seal != nil {
			got = seal.Seq
		}
		if len(evs) != tc.n || got != tc.seal || (len(evs) > 0 && evs[0].Seq != tc.from) {
			t.Fatalf("ReadRun(%d,%d,%d) = %d events, seal %d; want %d, %d", tc.from, tc.to, tc.max, len(evs), got, tc.n, tc.seal)
		}
	}
}
