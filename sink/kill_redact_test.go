package sink

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/internal/clock"
)

func testingChild() bool { return os.Getenv(killChildEnv) != "" }

// killManifestRows is the children's batch of redactions per manifest
// file, so that a run writes many.
const killManifestRows = 10

func TestKillMidManifestDirectory(t *testing.T) {
	if testingChild() {
		killChild(t)
		return
	}
	root := filepath.Join(t.TempDir(), "archive")
	open := func() Bucket {
		b, err := OpenBucket(context.Background(), root)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	killManifestTest(t, "file://"+root, nil, open, func(Bucket) string { return root })
}

func TestKillMidManifestS3(t *testing.T) {
	if testingChild() {
		killChild(t)
		return
	}
	srv := startS3(t)
	killManifestTest(t, srv.url, srv.env, func() Bucket { return b2(t, srv) }, func(b Bucket) string { return download(t, b) })
}

// killManifestTest archives a fleet, then redacts 120 of its archived
// events (some with blobs) and runs children that apply them to the
// archive, each killed a moment after it starts an upload: half of them
// as a manifest file starts. Then it finishes in this process: the
// manifest records every redaction exactly once, in order, the files
// show them redacted, and their blobs are gone.
func killManifestTest(t *testing.T, url string, env []string, open func() Bucket, local func(Bucket) string) {
	f := newFleet(t, t.TempDir())
	f.grow(t, 600, "a")
	a := f.archiver(t, open(), killRows)
	drain(t, a, f.sink.clk)
	a.Close()
	for i, n := range append([]*node{f.sink}, f.devices...) {
		for k := uint64(0); k < 40; k++ {
			n.redact(t, eventAt(t, n, n.id, 6+uint64(i)+15*k).ID)
		}
	}
	for _, d := range f.devices { // and every event with a blob: 103, 200, …
		for seq := uint64(103); seq <= 600; seq += 97 {
			d.redact(t, eventAt(t, d, d.id, seq).ID)
		}
		f.sink.from(t, d)
	}
	f.sink.close(t)
	env = append(env, killManifestRowsEnv+"="+strconv.Itoa(killManifestRows))

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	seed := rng.Uint64()
	t.Logf("kill delays seed %d", seed)
	rng = rand.New(rand.NewPCG(seed, 11))
	killed, midManifest := 0, 0
	for round := 0; round < 2*killRounds; round++ {
		trigger, delay := "put ", time.Duration(rng.IntN(8000))*time.Microsecond
		if round%2 == 0 {
			trigger, delay = "put "+RedactionsPrefix, time.Duration(rng.IntN(1500))*time.Microsecond
		}
		k, last := runChild(t, f.sink.dir, url, env, trigger, delay)
		if k {
			killed++
		}
		b := open()
		if k && last != "" {
			if _, err := ParseManifestName(last); err == nil {
				if ok, err := b.Exists(context.Background(), last); err == nil && !ok {
					midManifest++
				}
			}
		}
		checkWholeFiles(t, b)
	}
	t.Logf("%d children killed, %d during a manifest upload", killed, midManifest)
	if killed < killRounds || midManifest == 0 {
		t.Fatalf("%d of %d children killed, %d mid-manifest: the test proves little", killed, 2*killRounds, midManifest)
	}

	saved := maxManifestRows
	maxManifestRows = killManifestRows
	defer func() { maxManifestRows = saved }()
	f.sink = openNode(t, f.sink.dir, 1, clock.NewManual(t0))
	defer f.sink.close(t)
	b := open()
	a = f.archiver(t, b, killRows)
	defer a.Close()
	drain(t, a, f.sink.clk)
	if !sameWatermarks(a, f.sink.st) {
		t.Fatalf("watermarks %v, store %v", a.Watermarks(), f.sink.st.VersionVector())
	}
	root := local(b)
	checkArchive(t, root, f.sink.st, a.Watermarks(), f.blobData)
	got := checkManifest(t, root, f.sink.st)
	if len(got) != 3*40+2*6 {
		t.Fatalf("%d redactions recorded, want %d", len(got), 3*40+2*6)
	}
	for k, r := range got {
		if r.ArchiveFile == nil {
			t.Fatalf("redaction of %s recorded without its archive file", k)
		}
	}
}
