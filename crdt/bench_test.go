package crdt

import (
	"fmt"
	"testing"
)

// benchContexts returns two contexts over 1,000 origins of 10,000 events
// each; b lags a on every tenth origin and has a gap on every fiftieth.
func benchContexts() (a, b *Context) {
	a, b = NewContext(), NewContext()
	for i := range 1000 {
		o := fmt.Sprintf("12D3KooW-device-%04d", i)
		a.AddRange(Range{o, 1, 10_000})
		switch {
		case i%50 == 0:
			b.AddRange(Range{o, 1, 4000})
			b.AddRange(Range{o, 4100, 10_000})
		case i%10 == 0:
			b.AddRange(Range{o, 1, 9000})
		default:
			b.AddRange(Range{o, 1, 10_000})
		}
	}
	return a, b
}

// BenchmarkContextAddRun adds the next seqs of one origin in a row, as
// applying or indexing a received run does.
func BenchmarkContextAddRun(b *testing.B) {
	a, _ := benchContexts()
	origin := a.Origins()[0]
	seq := a.Max(origin)
	b.ResetTimer()
	for range b.N {
		seq++
		if !a.Add(Dot{origin, seq}) {
			b.Fatal("not added")
		}
	}
}

func BenchmarkContextAdd(b *testing.B) {
	a, _ := benchContexts()
	origins := a.Origins()
	seq := uint64(10_000)
	b.ResetTimer()
	for i := range b.N {
		if i%len(origins) == 0 {
			seq++
		}
		a.Add(Dot{origins[i%len(origins)], seq})
	}
}

func BenchmarkContextMissing(b *testing.B) {
	x, y := benchContexts()
	b.ResetTimer()
	for range b.N {
		if len(x.Missing(y)) != 100 {
			b.Fatal("unexpected missing ranges")
		}
	}
}

func BenchmarkContextDigest(b *testing.B) {
	x, _ := benchContexts()
	b.ResetTimer()
	for range b.N {
		_ = x.Digest()
	}
}

func BenchmarkAggregatesApply(b *testing.B) {
	s := NewAggregates()
	key := []byte("user-0000")
	b.ResetTimer()
	for i := range b.N {
		key[len(key)-1] = byte('0' + i%10)
		s.Apply(Dot{"dev", uint64(i + 1)}, "temp", int64(i)*1000, float64(i%500)/10, true, key)
	}
}
