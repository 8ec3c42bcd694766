package sink

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/store"
)

// The kill tests run an archiver in a child process (this test binary,
// re-executed), kill it with SIGKILL while it uploads, again and again,
// then finish the archive: every event must be in it exactly once, and at
// no point may a half-written file be visible.

const (
	killChildEnv = "RUMOR_SINK_KILL_CHILD" // the sink's data directory
	killURLEnv   = "RUMOR_SINK_KILL_URL"   // the archive URL
	// killManifestRowsEnv sets the child's redactions per manifest file.
	killManifestRowsEnv = "RUMOR_SINK_KILL_MANIFEST_ROWS"
	killRows            = 400
	killRounds          = 6
)

func TestKillMidUploadDirectory(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		killChild(t)
		return
	}
	root := filepath.Join(t.TempDir(), "archive")
	killTest(t, "file://"+root, nil, func() Bucket {
		b, err := OpenBucket(context.Background(), root)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}, func(b Bucket) string { return root })
}

func TestKillMidUploadS3(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		killChild(t)
		return
	}
	srv := startS3(t)
	killTest(t, srv.url, srv.env, func() Bucket { return b2(t, srv) }, func(b Bucket) string { return download(t, b) })
}

// killTest fills a sink's store, runs killRounds children each killed a
// random moment after it starts an upload, checks between rounds that
// every visible file is whole, then archives the rest in this process and
// checks the archive with DuckDB.
func killTest(t *testing.T, url string, env []string, open func() Bucket, local func(Bucket) string) {
	dir := t.TempDir()
	f := newFleet(t, dir)
	f.grow(t, 1500, "a")
	f.sink.close(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	seed := rng.Uint64()
	t.Logf("kill delays seed %d", seed)
	rng = rand.New(rand.NewPCG(seed, 7))
	killed, temps := 0, 0
	for round := 0; round < killRounds; round++ {
		if k, _ := runChild(t, f.sink.dir, url, env, "put "+EventsPrefix, time.Duration(rng.IntN(8000))*time.Microsecond); k {
			killed++
		}
		temps += checkWholeFiles(t, open())
	}
	if killed < killRounds/2 {
		t.Fatalf("only %d of %d children were killed mid-upload", killed, killRounds)
	}
	t.Logf("%d children killed; %d temporary files seen after kills (caught mid-write)", killed, temps)
	f.sink = openNode(t, f.sink.dir, 1, clock.NewManual(t0))
	defer f.sink.close(t)
	b := open()
	a := f.archiver(t, b, killRows)
	defer a.Close()
	drain(t, a, f.sink.clk)
	if !sameWatermarks(a, f.sink.st) {
		t.Fatalf("watermarks %v, store %v", a.Watermarks(), f.sink.st.VersionVector())
	}
	if n := checkArchive(t, local(b), f.sink.st, a.Watermarks(), f.blobData); n != 3*1500 {
		t.Fatalf("%d rows, want %d", n, 3*1500)
	}
}

// runChild starts a child archiver and kills it delay after the first
// upload of a key starting with trigger begins (it reports each upload).
// It reports whether the child was killed (rather than finishing first),
// and the last upload the child began.
func runChild(t *testing.T, dir, url string, env []string, trigger string, delay time.Duration) (bool, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	cmd.Env = append(append(os.Environ(), env...), killChildEnv+"="+dir, killURLEnv+"="+url)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), trigger) {
			break
		}
		if lines.Text() == "done" {
			_ = cmd.Wait()
			return false, ""
		}
	}
	last := strings.TrimPrefix(lines.Text(), "put ")
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() { // what it printed before it died
		if k, ok := strings.CutPrefix(lines.Text(), "put "); ok {
			last = k
		}
	}
	err = cmd.Wait()
	return err != nil && strings.Contains(err.Error(), "killed"), last
}

// checkWholeFiles checks that every archive and manifest file the bucket
// shows is a complete Parquet file (footer magic at both ends and the size
// its footer length promises) and that no other key is outside blobs/ but
// temporary files of a directory bucket, which it counts.
func checkWholeFiles(t *testing.T, b Bucket) int {
	t.Helper()
	defer b.Close()
	cb := b.(*cloudBucket)
	ctx := context.Background()
	temps := 0
	if cb.dir != "" {
		for _, k := range listKeys(t, b, BlobsPrefix) {
			if isFileTemp(k) {
				temps++
			}
		}
	}
	err := b.List(ctx, "", func(key string, size int64) error {
		if strings.HasPrefix(key, BlobsPrefix) {
			return nil
		}
		_, err := ParseFileName(key)
		if _, merr := ParseManifestName(key); merr == nil {
			err = nil
		}
		if err != nil {
			if isFileTemp(key) && cb.dir != "" {
				temps++
				return nil // invisible to readers of *.parquet; removed at the next start
			}
			t.Errorf("unexpected key %s", key)
			return nil
		}
		data, err := cb.b.ReadAll(ctx, key)
		if err != nil {
			return err
		}
		n := len(data)
		if n < 12 || string(data[:4]) != "PAR1" || string(data[n-4:]) != "PAR1" ||
			int(uint32(data[n-8])|uint32(data[n-7])<<8|uint32(data[n-6])<<16|uint32(data[n-5])<<24) > n-12 {
			t.Errorf("%s (%d bytes) is not a whole Parquet file", key, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return temps
}

// killChild is the child process: it archives the store in $killChildEnv
// into $killURLEnv, saying "put KEY" as each upload starts and "done" when
// nothing is left.
func killChild(t *testing.T) {
	dir, url := os.Getenv(killChildEnv), os.Getenv(killURLEnv)
	n := openNode(t, dir, 1, clock.NewManual(t0))
	b, err := OpenBucket(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Bucket, cfg.Events, cfg.Blobs, cfg.Logger = announcingBucket{b}, n.st, n.blobs, quiet()
	cfg.Cache = NewBadgerCache(n.st.DB(), []byte{store.PrefixArchive})
	cfg.Redactions, cfg.Ledger = n.st, NewLedger(n.st.DB(), []byte{store.PrefixSinkState})
	cfg.Rows, cfg.Age, cfg.TempDir = killRows, time.Millisecond, filepath.Join(dir, "spool")
	if n, err := strconv.Atoi(os.Getenv(killManifestRowsEnv)); err == nil {
		maxManifestRows = n
	}
	if err := os.MkdirAll(cfg.TempDir, 0o700); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for {
		written, err := a.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if written == 0 {
			break
		}
	}
	fmt.Println("done")
	n.close(t)
}

// announcingBucket prints "put KEY" before each upload, and makes the
// upload slow (a millisecond per 4 KiB read) so that the kill lands in
// the middle of it.
type announcingBucket struct{ Bucket }

func (b announcingBucket) Put(ctx context.Context, key, ctype string, body io.ReadSeeker) error {
	fmt.Println("put " + key)
	return b.Bucket.Put(ctx, key, ctype, slowBody{body})
}

type slowBody struct{ io.ReadSeeker }

func (s slowBody) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return s.ReadSeeker.Read(p[:min(len(p), 4096)])
}
