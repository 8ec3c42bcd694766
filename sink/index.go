package sink

import "sort"

// index is what the bucket holds: per device, its files sorted by first
// seq, and the archived watermark they give. It is pure data; the
// Archiver guards it.
type index struct {
	files map[string][]File // device → files, by First
	wm    map[string]uint64 // device → archived watermark
}

func newIndex() *index {
	return &index{files: map[string][]File{}, wm: map[string]uint64{}}
}

// add records f (again: a file listed twice counts once) and advances its
// device's watermark over every file now contiguous with it.
func (ix *index) add(f File) {
	fs := ix.files[f.Device]
	i := sort.Search(len(fs), func(i int) bool {
		return fs[i].First > f.First || fs[i].First == f.First && fs[i].Last >= f.Last
	})
	if i < len(fs) && fs[i].First == f.First && fs[i].Last == f.Last {
		fs[i] = f
		return
	}
	fs = append(fs, File{})
	copy(fs[i+1:], fs[i:])
	fs[i] = f
	ix.files[f.Device] = fs
	ix.advance(f.Device, i)
}

// load records many files at once (a bucket listing, in any order).
func (ix *index) load(files []File) {
	for _, f := range files {
		ix.files[f.Device] = append(ix.files[f.Device], f)
	}
	for d, fs := range ix.files {
		sort.Slice(fs, func(i, j int) bool {
			return fs[i].First < fs[j].First || fs[i].First == fs[j].First && fs[i].Last < fs[j].Last
		})
		out := fs[:0] // drop duplicates
		for i, f := range fs {
			if i == 0 || f.First != fs[i-1].First || f.Last != fs[i-1].Last {
				out = append(out, f)
			}
		}
		ix.files[d] = out
		ix.advance(d, 0)
	}
}

// advance moves device's watermark over its files from position from on
// (and every file past the old watermark) while they are contiguous.
func (ix *index) advance(device string, from int) {
	fs, wm := ix.files[device], ix.wm[device]
	// Before the change, the files past the watermark were exactly those
	// starting past wm+1; a new file may start earlier (at from).
	k := sort.Search(len(fs), func(i int) bool { return fs[i].First > wm+1 })
	for _, g := range fs[min(from, k):] {
		if g.First > wm+1 {
			break
		}
		wm = max(wm, g.Last)
	}
	ix.wm[device] = wm
}

// watermark returns the highest seq of device such that every seq from 1
// to it is in a file.
func (ix *index) watermark(device string) uint64 { return ix.wm[device] }

// covered returns the first seq above device's watermark that a file
// holds, 0 if none does.
func (ix *index) covered(device string) uint64 {
	wm := ix.wm[device]
	fs := ix.files[device]
	i := sort.Search(len(fs), func(i int) bool { return fs[i].Last > wm })
	if i == len(fs) {
		return 0
	}
	return max(fs[i].First, wm+1)
}

// watermarks returns a copy of every device's watermark.
func (ix *index) watermarks() map[string]uint64 {
	out := make(map[string]uint64, len(ix.wm))
	for d, w := range ix.wm {
		if w > 0 {
			out[d] = w
		}
	}
	return out
}

// devices returns every device with a file, sorted.
func (ix *index) devices() []string {
	out := make([]string, 0, len(ix.files))
	for d := range ix.files {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// fileOf returns the file of device that holds seq, if one does.
func (ix *index) fileOf(device string, seq uint64) (File, bool) {
	fs := ix.files[device]
	i := sort.Search(len(fs), func(i int) bool { return fs[i].Last >= seq })
	if i < len(fs) && fs[i].First <= seq {
		return fs[i], true
	}
	return File{}, false
}

// all returns every file, by device and first seq.
func (ix *index) all() []File {
	var out []File
	for _, d := range ix.devices() {
		out = append(out, ix.files[d]...)
	}
	return out
}
