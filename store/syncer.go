package store

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// txnSoftLimit is the estimated size at which a commit's events are split
// into another badger transaction, leaving room for context and aggregates.
var txnSoftLimit = 1 << 20 // a variable so tests can force splits

// entryCost is what one entry counts against txnSoftLimit: its bytes, but
// at least a skiplist node, as badger also bounds a transaction's entry
// count (by its size limit over the node size).
func entryCost(k, v int) int { return max(k+v+32, 128) }

// syncer is the state of the indexer goroutine (the syncer goroutine itself
// only calls fdatasync and needs no state).
type syncer struct {
	s        *Store
	inflight sync.WaitGroup // asynchronous badger commits not yet applied
	pending  atomic.Int64   // their number
	ctx      *crdt.Context  // committed context plus what the open transaction adds
	aggs     aggCache
	red      indexRedactions
	// published is closed once the last commit handed to badger has been
	// published: badger runs commit callbacks on goroutines of their own,
	// which may finish in any order, and each waits for the one before so
	// that readers never see a later batch (and its indexedSeq) before an
	// earlier one.
	published chan struct{}
	// committed, when set (by tests), runs as a commit callback starts.
	committed func(batch []*group)
}

func (c *syncer) init(s *Store) error {
	c.s = s
	c.ctx = s.ctx.Clone()
	c.aggs = aggCache{db: s.db, m: map[crdt.AggKey]*crdt.Agg{}}
	c.published = make(chan struct{})
	close(c.published)
	return c.red.init(s)
}

// runSyncer makes written groups durable: it takes every group written
// since its last pass, issues one fdatasync for all of them and hands them
// to the indexer, so the next fdatasync overlaps their indexing.
func (s *Store) runSyncer() {
	defer s.wg.Done()
	defer close(s.durable)
	for g := range s.groups {
		batch := drain(s.groups, []*group{g})
		if err := s.Err(); err != nil {
			failGroups(batch, err)
			continue
		}
		if err := syncFiles(batch); err != nil {
			s.fail(err)
			failGroups(batch, err)
			continue
		}
		// Durable: acknowledge now. Readers wait for the index (waitIndexed),
		// so a client that got its ack reads its own writes.
		now := s.cfg.Clock.Now().UnixMilli()
		for _, g := range batch {
			g.durable = now
		}
		s.ackedSeq.Store(batch[len(batch)-1].seq)
		// The goroutine readied last runs next on this processor. A large
		// batch (a catch-up's runs) takes the indexer milliseconds: the
		// session waiting for its ACK, which reopens its peer's window, goes
		// first. A small one (live traffic) is indexed at once, and its
		// commit callbacks (push announcements) are what the mesh waits for:
		// the indexer goes first.
		if batchEvents(batch) >= bigBatch {
			s.durable <- batch
			ackAll(batch)
		} else {
			ackAll(batch)
			s.durable <- batch
		}
	}
}

// bigBatch is the size from which a durable batch is acknowledged before
// it is handed to the indexer (see runSyncer).
const bigBatch = 1024

func batchEvents(batch []*group) int {
	n := 0
	for _, g := range batch {
		n += len(g.events)
	}
	return n
}

func ackAll(batch []*group) {
	for _, g := range batch {
		for _, r := range g.reqs {
			close(r.done)
		}
	}
}

// runIndexer commits durable groups to badger and acknowledges them.
func (s *Store) runIndexer() {
	defer s.wg.Done()
	for batch := range s.durable {
		for more := true; more; {
			select {
			case b, ok := <-s.durable:
				if !ok {
					more = false
					break
				}
				batch = append(batch, b...)
			default:
				more = false
			}
		}
		s.c.commit(batch)
	}
	s.c.inflight.Wait()
}

// drain appends to batch every group already waiting on ch.
func drain(ch chan *group, batch []*group) []*group {
	for {
		select {
		case g, ok := <-ch:
			if !ok {
				return batch
			}
			batch = append(batch, g)
		default:
			return batch
		}
	}
}

func failGroups(batch []*group, err error) {
	for _, g := range batch {
		failAll(g.reqs, err)
	}
}

// commit commits the badger state of durable groups and acknowledges
// their requests once badger has applied it. The badger commit is
// asynchronous, so the next batch is prepared while this one is written.
func (c *syncer) commit(batch []*group) {
	if c.commitInstall(batch) {
		return
	}
	err := c.s.Err()
	var tb *txnBatch
	if err == nil {
		if hasRedactionEvent(batch) {
			c.inflight.Wait() // redactions read their targets back: see every earlier commit
		}
		tb, err = c.index(batch)
	}
	if err != nil { // the batch was acknowledged: it is in the log, replayed on restart
		c.s.fail(err)
		return
	}
	reds, wake := c.takeRedactions(), c.red.wake
	c.red.wake = false
	c.inflight.Add(1)
	c.pending.Add(1)
	prev, done := c.published, make(chan struct{})
	c.published = done
	hook := c.committed
	tb.txn.CommitWith(func(err error) {
		defer c.inflight.Done()
		defer c.pending.Add(-1)
		if hook != nil {
			hook(batch)
		}
		<-prev
		defer close(done)
		if err != nil {
			c.s.fail(fmt.Errorf("store: commit index: %w", err))
			return
		}
		c.publish(batch, reds, wake)
	})
}

// publish makes an indexed batch and the redactions it recorded visible to
// readers, wakes the eraser if it queued erasures, and hands the batch to
// the OnCommit hook.
func (c *syncer) publish(batch []*group, reds []*event.Redaction, wake bool) {
	c.s.red.publish(reds)
	if wake {
		c.s.wakeEraser()
	}
	c.s.publish(batch)
	if c.s.cfg.OnCommit != nil {
		c.s.cfg.OnCommit(committed(batch))
	}
}

// Commit is one durable commit, as the OnCommit hook gets it.
type Commit struct {
	// Events are the events made durable, in log order.
	Events []*event.Event
	// Local is how many of them are of the store's origin.
	Local int
	// Redactions is whether some of them is a redaction or a redacted
	// event.
	Redactions bool
}

// committed returns batch as a Commit: its groups' events in order,
// without a copy when one group holds them all, and their counts, noted
// by the writer while it wrote them.
func committed(batch []*group) Commit {
	var c Commit
	for _, g := range batch {
		c.Local += g.local
		c.Redactions = c.Redactions || g.redactions
	}
	if len(batch) == 1 {
		c.Events = batch[0].events
		return c
	}
	for _, g := range batch {
		c.Events = append(c.Events, g.events...)
	}
	return c
}

// syncFiles fdatasyncs each distinct segment file of batch once, in order.
func syncFiles(batch []*group) error {
	var last *os.File
	for _, g := range batch {
		if g.file == last {
			continue
		}
		last = g.file
		if err := unix.Fdatasync(int(g.file.Fd())); err != nil {
			return fmt.Errorf("store: fdatasync segment: %w", err)
		}
	}
	return nil
}

// index builds the badger transaction for batch, ready to commit.
func (c *syncer) index(batch []*group) (*txnBatch, error) {
	tb := c.newTxn()
	for _, g := range batch {
		tb.received = g.durable
		for i, e := range g.events {
			var num number
			if i < len(g.nums) {
				num = g.nums[i]
			}
			if err := tb.addEvent(e, g.locs[i], num); err != nil {
				tb.txn.Discard()
				return nil, err
			}
		}
		tb.seals = append(tb.seals, g.seals...)
		tb.ckpt = &g.end
	}
	if err := tb.prepare(); err != nil {
		tb.txn.Discard()
		return nil, err
	}
	return tb, nil
}

// txnBatch writes events into badger transactions, splitting them when a
// transaction grows large. Each transaction carries the context entries and
// aggregates of exactly the events it indexes, so that replay after a crash
// between two of them stays exactly-once.
type txnBatch struct {
	c       *syncer
	txn     *badger.Txn
	size    int
	runs    runBuilder
	touched map[string]struct{}
	// lastOrigin and lastNum cache the origin number of the previous event.
	lastOrigin string
	lastNum    uint32
	ids        idBucket // the open event_id bucket (idindex.go), if ids.n > 0
	seals      []event.Seal
	ckpt       *checkpoint
	// received is when the events being added became durable, epoch ms:
	// their group's fdatasync (on replay, the replay's time). A run takes
	// the time of its first event (a run never spans two groups).
	received int64
}

func (c *syncer) newTxn() *txnBatch {
	return &txnBatch{
		c: c, txn: c.s.db.NewTransaction(true), touched: map[string]struct{}{},
		received: c.s.cfg.Clock.Now().UnixMilli(),
	}
}

// addEvent indexes e at loc unless its dot is already held (replay). num
// is its aggregate value when the writer read it.
func (t *txnBatch) addEvent(e *event.Event, loc location, num number) error {
	d := crdt.Dot{Origin: e.Device, Seq: e.Seq}
	if !t.c.ctx.Add(d) {
		return nil
	}
	if origin, r, ok := t.runs.add(d, loc, t.received); ok {
		if err := t.putRun(origin, r); err != nil {
			return err
		}
	}
	if d.Origin != t.lastOrigin {
		n, err := t.c.s.origins.number(t.txn, d.Origin)
		if err != nil {
			return err
		}
		t.lastNum = n
	}
	t.lastOrigin = d.Origin // this copy: the run's next events compare by pointer
	if err := t.addID(e.ID, d.Seq); err != nil {
		return err
	}
	if err := t.indexContent(e, d, loc, num); err != nil {
		return err
	}
	if t.size+len(t.ids.val)+t.c.aggs.txnBytes >= txnSoftLimit {
		if err := t.commit(); err != nil {
			return err
		}
		received := t.received
		*t = *t.c.newTxn()
		t.received = received
	}
	return nil
}

func (t *txnBatch) putRun(origin string, r run) error {
	t.touched[origin] = struct{}{}
	return t.set(eventKey(crdt.Dot{Origin: origin, Seq: r.first}), r.encode())
}

func (t *txnBatch) set(k, v []byte) error {
	t.size += entryCost(len(k), len(v))
	if err := t.txn.Set(k, v); err != nil {
		return fmt.Errorf("store: index: %w", err)
	}
	return nil
}

// commit prepares and commits synchronously.
func (t *txnBatch) commit() error {
	defer t.txn.Discard()
	if err := t.prepare(); err != nil {
		return err
	}
	if err := t.txn.Commit(); err != nil {
		return fmt.Errorf("store: commit index: %w", err)
	}
	return nil
}

// prepare adds the pending run and event_id bucket, context, aggregates,
// seals and checkpoint.
func (t *txnBatch) prepare() error {
	if origin, r, ok := t.runs.flush(); ok {
		if err := t.putRun(origin, r); err != nil {
			return err
		}
	}
	if err := t.flushID(); err != nil {
		return err
	}
	for origin := range t.touched {
		if err := t.set(contextKey(origin), t.c.ctx.EncodeOrigin(origin)); err != nil {
			return err
		}
	}
	if err := t.c.aggs.flush(t.txn, t.c.pending.Load() == 0); err != nil {
		return err
	}
	for i := range t.seals {
		if err := t.set(sealKey(t.seals[i].Origin, t.seals[i].Seq), t.seals[i].AppendBinary(nil)); err != nil {
			return err
		}
	}
	if t.ckpt != nil {
		if err := t.set(keyCheckpoint, t.ckpt.encode()); err != nil {
			return err
		}
	}
	return nil
}

// publish makes the indexed groups of batch visible to readers and wakes
// those waiting for them.
func (s *Store) publish(batch []*group) {
	s.mu.Lock()
	for _, g := range batch {
		s.ctx.Merge(g.dots)
	}
	s.mu.Unlock()
	seq := batch[len(batch)-1].seq
	s.idxMu.Lock()
	if seq > s.indexedSeq.Load() {
		s.indexedSeq.Store(seq)
	}
	s.idxCond.Broadcast()
	s.idxMu.Unlock()
}

// waitIndexed returns once every acknowledged group is indexed (or the
// store failed or closed): reads that follow an ack see its events.
func (s *Store) waitIndexed() {
	target := s.ackedSeq.Load()
	if s.indexedSeq.Load() >= target {
		return
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	for s.indexedSeq.Load() < target && s.Err() == nil && !s.stopped.Load() {
		s.idxCond.Wait()
	}
}

// wakeReaders releases readers blocked in waitIndexed after a failure or
// shutdown.
func (s *Store) wakeReaders() {
	s.idxMu.Lock()
	s.idxCond.Broadcast()
	s.idxMu.Unlock()
}

// fail puts the store in the failed state: after a failed fdatasync or
// index commit nothing more is accepted until the node restarts and
// recovers from the log.
func (s *Store) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		s.failed = err
		s.log.Error("store failed; restart the node to recover from the log", "err", err)
	}
	go s.wakeReaders() // s.mu is held here; idxMu comes first in the lock order
}

// Err returns the error that failed the store, or nil.
func (s *Store) Err() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.failed
}
