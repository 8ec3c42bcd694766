package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"

	"github.com/rumor-sync/rumor/crdt"
)

// Errors returned by the store.
var (
	// ErrClosed is returned by calls on a closed store.
	ErrClosed = errors.New("store: closed")
	// ErrNotFound is returned when an event does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrNewerFormat is returned when the data directory was written by a
	// newer version of rumor.
	ErrNewerFormat = errors.New("store: data directory has a newer format")
)

// Store is a node's durable replica. It is safe for concurrent use.
type Store struct {
	cfg  Config
	log  *slog.Logger
	db   *badger.DB
	segs *segments

	reqs    chan *request
	groups  chan *group   // written, waiting for fdatasync
	durable chan []*group // synced, waiting for the index
	acc     acceptedDots  // dots the writer took in: see Holds
	quit    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	origins origins  // origin numbers for the id index
	w       writer   // owned by the writer goroutine
	clock   hlcState // the writer's HLC, published for readers
	c       syncer   // owned by the syncer goroutine

	red redactState // redactions in effect (redact.go)
	pr  pruneState  // floors and segment readers (floors.go, prune.go)

	gate   sync.RWMutex // guards closed; held (read) while submitting a request
	closed bool

	mu     sync.RWMutex
	ctx    *crdt.Context // committed causal context
	failed error         // set once a commit failed; the store then refuses writes

	// ackedSeq is the last group acknowledged (durable), indexedSeq the
	// last one indexed and visible; readers wait on idxCond for the second
	// to reach the first. stopped is set once the pipeline has drained.
	ackedSeq, indexedSeq atomic.Uint64
	idxMu                sync.Mutex
	idxCond              *sync.Cond
	stopped              atomic.Bool
}

// Open opens or creates the store in cfg.Dir, replays the log tail after
// the last checkpoint and starts the commit goroutines.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	db, err := badger.Open(badgerOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("store: open badger: %w", err)
	}
	s := &Store{
		cfg: cfg, log: cfg.Logger, db: db, ctx: crdt.NewContext(),
		reqs: make(chan *request, 1024), groups: make(chan *group, 64),
		durable: make(chan []*group, 64),
		quit:    make(chan struct{}),
	}
	s.idxCond = sync.NewCond(&s.idxMu)
	if err := s.load(); err != nil {
		db.Close()
		if s.segs != nil {
			s.segs.close()
		}
		return nil, err
	}
	s.wg.Add(4)
	go s.runWriter()
	go s.runSyncer()
	go s.runIndexer()
	go s.runEraser()
	return s, nil
}

func badgerOptions(cfg Config) badger.Options {
	return badger.DefaultOptions(filepath.Join(cfg.Dir, "db")).
		WithLogger(badgerLogger{cfg.Logger}).
		WithSyncWrites(false).
		WithMemTableSize(cfg.MemTableBytes).
		WithNumMemtables(2).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(cfg.CacheBytes / 2).
		WithIndexCacheSize(cfg.CacheBytes / 2).
		WithValueThreshold(4 << 10).
		WithValueLogFileSize(256 << 20).
		WithNumCompactors(2).
		WithCompactL0OnClose(false).
		WithDetectConflicts(false)
}

// load checks (and migrates) the format, loads the committed state and
// replays the tail.
func (s *Store) load() error {
	if err := s.recoverJoin(); err != nil {
		return err
	}
	segs, err := openSegments(filepath.Join(s.cfg.Dir, "log"), s.cfg.SegmentBytes)
	if err != nil {
		return err
	}
	s.segs = segs
	if err := s.migrate(); err != nil {
		return err
	}
	if err := s.loadFloors(); err != nil {
		return err
	}
	if err := s.loadContext(); err != nil {
		return err
	}
	if err := s.origins.load(s.db); err != nil {
		return err
	}
	if err := s.loadRedactions(); err != nil {
		return err
	}
	if err := s.initBlobIndex(); err != nil {
		return err
	}
	if err := s.c.init(s); err != nil {
		return err
	}
	if err := s.replay(); err != nil {
		return err
	}
	return s.w.init(s)
}

func (s *Store) loadContext() error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixContext}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			origin := string(it.Item().Key()[1:])
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("store: read context: %w", err)
			}
			if err := s.ctx.DecodeOrigin(origin, v); err != nil {
				return fmt.Errorf("store: context of %s: %w", origin, err)
			}
		}
		return nil
	})
}

// Close stops accepting writes, waits for in-flight commits and closes the
// database. It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		s.gate.Lock()
		s.closed = true
		s.gate.Unlock()
		close(s.quit)
		s.wg.Wait()
		s.stopped.Store(true)
		s.wakeReaders()
		err = errors.Join(s.db.Close(), s.segs.close())
	})
	return err
}

// Origin returns this node's device id.
func (s *Store) Origin() string { return s.cfg.Origin }

// DB returns the badger database, for components that keep their own keys
// under a prefix of their own (the blob store under PrefixBlobs).
func (s *Store) DB() *badger.DB { return s.db }

// badgerLogger adapts slog to badger's logger, demoting its chatter.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Infof(f string, a ...any) {
	b.l.Debug(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Debugf(f string, a ...any) {}
