package gossip

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// sealedLog is one origin's events 1..n, sealed every batch events.
type sealedLog struct {
	events []*event.Event
	seals  map[uint64]event.Seal
}

func newSealedLog(t testing.TB, seed byte, n, batch int, variant byte) sealedLog {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8([32]byte{seed, 7}))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(key)
	l := sealedLog{seals: map[uint64]event.Seal{}}
	var gen event.IDGen
	var prev event.Hash
	for i := 1; i <= n; i++ {
		e := &event.Event{ID: gen.Next(1_700_000_000_000), Device: id.String(), Seq: uint64(i), TS: int64(i),
			Type: "t", Schema: 1, Payload: json.RawMessage(`{"value":1,"v":` + strconv.Itoa(int(variant)) + `}`), Prev: prev}
		prev = e.Hash()
		l.events = append(l.events, e)
		if i%batch == 0 || i == n {
			s, err := event.NewSeal(key, id.String(), uint64(i), prev)
			if err != nil {
				t.Fatal(err)
			}
			l.seals[uint64(i)] = s
		}
	}
	return l
}

// memSource serves a snapshot of logs with the given floors, in chunks of
// chunk events (a run may span several), as a store does.
type memSource struct {
	logs   []sealedLog // sorted by origin
	floors map[string]uint64
	aggs   []SnapshotAgg
	chunk  int
	stop   uint64 // when set, events above it are not sent
}

func (m *memSource) ExportSnapshot(_ int64, _ int, header func(*Snapshot) error, run func([]*event.Event, *event.Seal) error) error {
	s := &Snapshot{Context: crdt.NewContext(), Aggs: m.aggs}
	for _, l := range m.logs {
		origin := l.events[0].Device
		s.Context.AddRange(crdt.Range{Origin: origin, From: 1, To: uint64(len(l.events))})
		if f := m.floors[origin]; f > 0 {
			s.Floors = append(s.Floors, l.seals[f])
		}
	}
	if err := header(s); err != nil {
		return err
	}
	for _, l := range m.logs {
		var buf []*event.Event
		for _, e := range l.events[m.floors[e0(l)]:] {
			if m.stop > 0 && e.Seq > m.stop {
				break
			}
			buf = append(buf, e)
			seal, sealed := l.seals[e.Seq]
			if !sealed && len(buf) < m.chunk {
				continue
			}
			var sp *event.Seal
			if sealed {
				sp = &seal
			}
			if err := run(buf, sp); err != nil {
				return err
			}
			buf = nil
		}
	}
	return nil
}

func e0(l sealedLog) string { return l.events[0].Device }

// answer returns the bytes a neighbour serving src writes.
func answer(t testing.TB, src SnapshotSource) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := &snapWriter{w: &buf}
	if err := w.serve(src, 0); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// receive runs the joiner's side over an answer: the snapshot and the
// events applied, or the error.
func receive(b []byte, maxBytes int64) (*Snapshot, []*event.Event, error) {
	var applied []*event.Event
	rc := newSnapReceiver(maxBytes, func(events []*event.Event, _ *event.Seal) error {
		applied = append(applied, events...)
		return nil
	})
	br := bufio.NewReader(bytes.NewReader(b))
	for {
		kind, payload, err := readSnapFrame(br)
		if err != nil {
			return nil, applied, err
		}
		done, err := rc.handle(kind, payload)
		if err != nil {
			return nil, applied, err
		}
		if done {
			return &rc.snap, applied, nil
		}
	}
}

// testSource serves two origins: big (40 events, sealed every 10, floor
// at 20) and small (25, sealed every 5), in origin order.
func testSource(t testing.TB) *memSource {
	big, small := newSealedLog(t, 1, 40, 10, 0), newSealedLog(t, 2, 25, 5, 0)
	logs := []sealedLog{big, small}
	if e0(big) > e0(small) {
		logs = []sealedLog{small, big}
	}
	agg := crdt.NewAgg()
	agg.Observe(1, true, []byte("x"))
	return &memSource{logs: logs, floors: map[string]uint64{e0(big): 20}, chunk: 3,
		aggs: []SnapshotAgg{{Key: crdt.AggKey{Type: "t", Window: crdt.Minute, Start: 0}, Agg: agg},
			{Key: crdt.AggKey{Type: "t", Window: crdt.Hour, Start: 0}, Agg: agg}}}
}

// big returns the source's 40-event log.
func (m *memSource) big() *sealedLog {
	for i := range m.logs {
		if len(m.logs[i].events) == 40 {
			return &m.logs[i]
		}
	}
	panic("no big log")
}

func TestSnapshotAnswerRoundTrip(t *testing.T) {
	src := testSource(t)
	snap, applied, err := receive(answer(t, src), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	from := map[string]uint64{}
	for _, e := range applied {
		if _, ok := from[e.Device]; !ok {
			from[e.Device] = e.Seq
		}
	}
	if len(applied) != 20+25 || from[e0(*src.big())] != 21 || len(from) != 2 {
		t.Fatalf("applied %d events, first seqs %v", len(applied), from)
	}
	if len(snap.Floors) != 1 || snap.Floors[0].Seq != 20 || len(snap.Aggs) != 2 || snap.Context.Len() != 65 {
		t.Fatalf("snapshot %+v", snap)
	}
}

func TestSnapshotAnswerRejects(t *testing.T) {
	good := answer(t, testSource(t))
	mutate := func(f func(m *memSource)) []byte {
		src := testSource(t)
		f(src)
		return answer(t, src)
	}
	for name, tc := range map[string]struct {
		b   []byte
		max int64
	}{
		"cut short":      {good[:len(good)-2], 1 << 30},
		"no END":         {good[:bytes.LastIndexByte(good, snapEnd)], 1 << 30},
		"over the limit": {good, int64(len(good) / 2)},
		"unknown kind":   {append([]byte{9, 0}, good...), 1 << 30},
		"two contexts":   {append(good[:0:0], append(good[:bytes.IndexByte(good[1:], snapFloors)+1], good...)...), 1 << 30},
		"missing events": {mutate(func(m *memSource) { m.stop = 30 }), 1 << 30},
		"forged floor": {mutate(func(m *memSource) {
			s := m.big().seals[20]
			s.Head[0] ^= 1
			m.big().seals[20] = s
		}), 1 << 30},
		"unsorted aggregates": {mutate(func(m *memSource) { m.aggs[0], m.aggs[1] = m.aggs[1], m.aggs[0] }), 1 << 30},
	} {
		if _, _, err := receive(tc.b, tc.max); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A run that does not link to the floor's hash (a floor sealed on a fork
// of the origin's log) is refused before it is applied.
func TestSnapshotRunMustFollowTheFloor(t *testing.T) {
	src := testSource(t)
	fork := newSealedLog(t, 1, 40, 10, 1) // same key, other events
	src.big().seals[20] = fork.seals[20]
	_, applied, err := receive(answer(t, src), 1<<30)
	if !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("err %v", err)
	}
	for _, e := range applied {
		if e.Device == e0(*src.big()) {
			t.Fatalf("applied %s/%d after a floor it does not follow", e.Device, e.Seq)
		}
	}
}

func TestSnapshotRequest(t *testing.T) {
	for _, c := range []int64{0, 1, 1_700_000_000_000} {
		got, err := decodeSnapRequest(encodeSnapRequest(c))
		if err != nil || got != c {
			t.Fatalf("request %d: %d %v", c, got, err)
		}
	}
	for _, b := range [][]byte{nil, {1}, {2, 0, 0, 0, 0, 0, 0, 0, 0}, encodeSnapRequest(-1), append(encodeSnapRequest(5), 0)} {
		if _, err := decodeSnapRequest(b); err == nil {
			t.Fatalf("request %x accepted", b)
		}
	}
}

// FuzzSnapshotAnswer: whatever a neighbour sends, the joiner never panics,
// never applies an event outside the context or at or below a floor, and
// accepts only a snapshot whose events are exactly its context above the
// floors.
func FuzzSnapshotAnswer(f *testing.F) {
	f.Add(answer(f, testSource(f)))
	f.Add([]byte{snapContext, 2, 1, 0, snapEnd, 3, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, applied, err := receive(data, 64<<20)
		if err != nil {
			return
		}
		got := crdt.NewContext()
		for _, e := range applied {
			got.Add(crdt.Dot{Origin: e.Device, Seq: e.Seq})
		}
		want := crdt.NewContext()
		floors := map[string]uint64{}
		for _, fl := range snap.Floors {
			floors[fl.Origin] = fl.Seq
		}
		for _, r := range snap.Context.Ranges() {
			r.From = max(r.From, floors[r.Origin]+1)
			want.AddRange(r)
		}
		if !got.Equal(want) {
			t.Fatal("accepted a snapshot whose events are not its context above the floors")
		}
	})
}

// FuzzDecodeSnapshotChunks: the FLOORS and AGGS decoders never panic, and
// what they accept re-encodes to the same bytes.
func FuzzDecodeSnapshotChunks(f *testing.F) {
	src := testSource(f)
	aggs, _ := encodeAggs(src.aggs)
	f.Add(byte(0), aggs[0])
	f.Add(byte(1), encodeFloors([]event.Seal{src.logs[0].seals[20]})[0])
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		if which%2 == 0 {
			a, err := decodeAggs(data)
			if err != nil {
				return
			}
			again, err := encodeAggs(a)
			if err != nil || (len(a) > 0 && (len(again) != 1 || !bytes.Equal(again[0], data))) {
				t.Fatal("accepted aggregates do not re-encode identically")
			}
			return
		}
		fl, err := decodeFloors(data)
		if err != nil {
			return
		}
		if again := encodeFloors(fl); len(fl) > 0 && (len(again) != 1 || !bytes.Equal(again[0], data)) {
			t.Fatal("accepted floors do not re-encode identically")
		}
	})
}
