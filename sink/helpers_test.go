package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/cas"
	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/clock"
	"github.com/rumor-sync/rumor/store"
)

// t0 is the tests' start time: 2023-11-14 22:13:20 UTC, less than two
// hours before a change of date.
var t0 = time.UnixMilli(1_700_000_000_000)

// key returns a deterministic device key and its id.
func key(t testing.TB, seed byte) (crypto.PrivKey, string) {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8([32]byte{seed, 0x51}))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, id.String()
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// node is the sink's side of a test: a real store and blob store on disk.
type node struct {
	dir   string
	id    string
	key   crypto.PrivKey
	clk   *clock.Manual
	st    *store.Store
	blobs *cas.Store
}

// openNode opens (or reopens) the store in dir with device seed.
func openNode(t testing.TB, dir string, seed byte, clk *clock.Manual) *node {
	t.Helper()
	k, id := key(t, seed)
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.Origin, cfg.Signer, cfg.Clock, cfg.Logger = dir, id, k, clk, quiet()
	st, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bl, err := cas.New(st.DB(), []byte{store.PrefixBlobs})
	if err != nil {
		t.Fatal(err)
	}
	return &node{dir: dir, id: id, key: k, clk: clk, st: st, blobs: bl}
}

func (n *node) close(t testing.TB) {
	t.Helper()
	if err := n.st.Close(); err != nil {
		t.Fatal(err)
	}
}

// ingest records count local events of type typ, payloads numbered from
// start, the ith referencing blobs[i] when there is one.
func (n *node) ingest(t testing.TB, count, start int, typ string, blobs map[int]cid.Cid) {
	t.Helper()
	in := make([]event.Input, count)
	for i := range in {
		in[i] = event.Input{Type: typ, Schema: uint32(1 + i%3), Payload: json.RawMessage(fmt.Sprintf(`{"n":%d,"s":"x\"y"}`, start+i))}
		if c, ok := blobs[start+i]; ok {
			in[i].Blobs = []cid.Cid{c}
		}
	}
	if _, err := n.st.Ingest(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// putBlob stores data in n's blob store.
func (n *node) putBlob(t testing.TB, data []byte) cid.Cid {
	t.Helper()
	c, _, err := n.blobs.Put(context.Background(), bytes.NewReader(data), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// from copies every event of other's own log into n, as sync would.
func (n *node) from(t testing.TB, other *node) {
	t.Helper()
	var evs []*event.Event
	if err := other.st.Scan(store.Query{Device: other.id}, func(e *event.Event) error {
		evs = append(evs, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	seal, err := other.st.Seal(other.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.st.Apply(context.Background(), evs, []event.Seal{seal}); err != nil {
		t.Fatal(err)
	}
}

// fleet is a sink's store holding the events of three devices: its own
// (seed 1), and two others' (seeds 2, 3) received, some across a change
// of date, some with blobs.
type fleet struct {
	sink     *node
	devices  []*node
	blobData map[string][]byte // CID → bytes
}

func newFleet(t testing.TB, dir string) *fleet {
	t.Helper()
	clk := clock.NewManual(t0)
	f := &fleet{sink: openNode(t, filepath.Join(dir, "sink"), 1, clk), blobData: map[string][]byte{}}
	for seed := byte(2); seed <= 3; seed++ {
		f.devices = append(f.devices, openNode(t, filepath.Join(dir, fmt.Sprint("dev", seed)), seed, clock.NewManual(t0)))
	}
	t.Cleanup(func() {
		for _, d := range f.devices {
			d.st.Close()
		}
	})
	return f
}

// grow adds events everywhere: count per device, the sink's own too, and
// syncs them to the sink; every 97th event references a blob.
func (f *fleet) grow(t testing.TB, count int, typ string) {
	t.Helper()
	for _, d := range append([]*node{f.sink}, f.devices...) {
		start := int(d.st.VersionVector()[d.id])
		blobs := map[int]cid.Cid{}
		for i := start; i < start+count; i++ {
			if i%97 == 5 {
				data := []byte(fmt.Sprintf("blob %s %d", d.id, i))
				c := d.putBlob(t, data)
				if d != f.sink {
					if _, _, err := f.sink.blobs.Put(context.Background(), bytes.NewReader(data), 1<<30); err != nil {
						t.Fatal(err)
					}
				}
				blobs[i] = c
				f.blobData[c.String()] = data
			}
		}
		d.ingest(t, count, start, typ, blobs)
		if d != f.sink {
			f.sink.from(t, d)
		}
	}
}

// advance moves every clock of the fleet forward by d.
func (f *fleet) advance(d time.Duration) {
	f.sink.clk.Advance(d)
	for _, n := range f.devices {
		n.clk.Advance(d)
	}
}

// archiver returns an Archiver of f's sink into b.
func (f *fleet) archiver(t testing.TB, b Bucket, rows int) *Archiver {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Bucket, cfg.Events, cfg.Blobs, cfg.Clock, cfg.Logger = b, f.sink.st, f.sink.blobs, f.sink.clk, quiet()
	cfg.Cache = NewBadgerCache(f.sink.st.DB(), []byte{store.PrefixArchive})
	cfg.Redactions, cfg.Ledger = f.sink.st, NewLedger(f.sink.st.DB(), []byte{store.PrefixSinkState})
	cfg.Rows = rows
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// drain runs a until it writes nothing more, with every file due.
func drain(t testing.TB, a *Archiver, clk *clock.Manual) int {
	t.Helper()
	total := 0
	clk.Advance(time.Hour)
	for {
		n, err := a.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// stored returns every event of st with its received time, by device
// and seq.
func stored(t testing.TB, st *store.Store) []storedEvent {
	t.Helper()
	var out []storedEvent
	if err := st.ScanReceived(store.Query{}, func(e *event.Event, at int64) error {
		out = append(out, storedEvent{e, at})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

type storedEvent struct {
	e  *event.Event
	at int64
}
