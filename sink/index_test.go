package sink

import (
	"testing"

	"pgregory.net/rapid"
)

// TestIndexLaws builds a set of disjoint files (as the bucket holds after
// any sequence of runs and crashes) added one by one in random order, or
// loaded at once, and checks the watermark and covered seq against a
// direct computation.
func TestIndexLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var files []File
		next := uint64(1)
		for i := rapid.IntRange(0, 12).Draw(t, "files"); i > 0; i-- {
			next += rapid.Uint64Range(0, 3).Draw(t, "skip") // 0: contiguous
			last := next + rapid.Uint64Range(0, 5).Draw(t, "len")
			files = append(files, File{Device: "d", First: next, Last: last})
			next = last + 1
		}
		perm := rapid.Permutation(files).Draw(t, "order")
		one := newIndex()
		for _, f := range perm {
			one.add(f)
		}
		all := newIndex()
		all.load(append(perm, perm...)) // duplicates count once
		held := map[uint64]bool{}
		for _, f := range files {
			for s := f.First; s <= f.Last; s++ {
				held[s] = true
			}
		}
		wm := uint64(0)
		for held[wm+1] {
			wm++
		}
		covered := uint64(0)
		for _, f := range files {
			if f.First > wm && (covered == 0 || f.First < covered) {
				covered = f.First
			}
		}
		for name, ix := range map[string]*index{"added": one, "loaded": all} {
			if ix.watermark("d") != wm || ix.covered("d") != covered || len(ix.files["d"]) != len(files) {
				t.Fatalf("%s: watermark %d covered %d (%d files); want %d %d (%d)", name, ix.watermark("d"), ix.covered("d"), len(ix.files["d"]), wm, covered, len(files))
			}
		}
	})
}
