package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Archiver writes every event the node's store holds, exactly once, to
// the bucket as Parquet files, and the blobs they reference. See the
// package documentation for the lifecycle.
type Archiver struct {
	cfg    Config
	log    *slog.Logger
	notify chan struct{}

	mu        sync.Mutex // guards ix, recovered, cached, wake
	ix        *index
	recovered bool
	cached    map[string]uint64 // the Cache's watermarks, until recovered
	wake      time.Time         // when the next origin becomes due

	// Owned by RunOnce (serialized by run).
	run        sync.Mutex
	oldest     map[string]pending // device → its first unarchived event
	retry      map[string]backoff // device ("" for the listing) → failures
	badDevices map[string]bool

	man manifestState // the redaction manifest (written by RunOnce; cursor and manifests under mu)

	blobMu    sync.Mutex          // guards blobsDone (RunOnce's workers share it)
	blobsDone map[string]struct{} // blobs known to be in the bucket
}

// pending is the first unarchived event of an origin: its seq and when it
// arrived here.
type pending struct {
	seq uint64
	at  time.Time
}

// backoff counts an origin's consecutive failures and defers it.
type backoff struct {
	failures int
	until    time.Time
}

// maxBlobsDone bounds the memory of blobs known to be in the bucket.
const maxBlobsDone = 1 << 16

// New returns an Archiver over cfg. It loads the cached watermarks but
// touches the bucket only once RunOnce or Run starts.
func New(cfg Config) (*Archiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Archiver{
		cfg: cfg, log: cfg.Logger.With("component", "sink"), notify: make(chan struct{}, 1),
		ix: newIndex(), cached: map[string]uint64{},
		oldest: map[string]pending{}, retry: map[string]backoff{},
		blobsDone: map[string]struct{}{}, badDevices: map[string]bool{},
	}
	if cfg.Cache != nil {
		wm, err := cfg.Cache.Load()
		if err != nil {
			return nil, fmt.Errorf("sink: load cached watermarks: %w", err)
		}
		a.cached = wm
	}
	return a, nil
}

// Notify tells the Archiver that new events were committed. It never
// blocks; call it from the store's commit hook.
func (a *Archiver) Notify() {
	select {
	case a.notify <- struct{}{}:
	default:
	}
}

// Watermarks returns, per origin device, the highest seq archived durably
// with every seq before it (devices with nothing archived are absent).
// Until the bucket has been listed it returns the cached values.
func (a *Archiver) Watermarks() map[string]uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.recovered {
		out := make(map[string]uint64, len(a.cached))
		for d, w := range a.cached {
			out[d] = w
		}
		return out
	}
	return a.ix.watermarks()
}

// Recovered reports whether the bucket has been listed, so that
// Watermarks and Files describe it rather than the cache.
func (a *Archiver) Recovered() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.recovered
}

// FileQuery selects files for Files. Zero values select everything.
type FileQuery struct {
	Device string // only this device
	Date   string // only this partition date (YYYY-MM-DD)
	After  uint64 // only files whose first seq is above this
	Limit  int    // at most this many (0: no limit)
}

// Files returns the archived files matching q, by device and first seq,
// and whether more matched than q.Limit.
func (a *Archiver) Files(q FileQuery) ([]File, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	devices := a.ix.devices()
	if q.Device != "" {
		devices = []string{q.Device}
	}
	out := []File{}
	for _, d := range devices {
		for _, f := range a.ix.files[d] {
			if f.First <= q.After || q.Date != "" && f.Date != q.Date {
				continue
			}
			if q.Limit > 0 && len(out) == q.Limit {
				return out, true
			}
			out = append(out, f)
		}
	}
	return out, false
}

// Run archives until ctx ends: whenever events are committed (Notify) or
// a file comes due by age, and again after failures, with backoff. It
// returns ctx's error.
func (a *Archiver) Run(ctx context.Context) error {
	for {
		n, _ := a.RunOnce(ctx) // failures are logged and retried with backoff
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if n > 0 {
			continue // more may be due at once (a backlog of full files)
		}
		a.wait(ctx)
	}
}

// wait returns on Notify, when the next origin comes due, or after a
// minute (a safety net), whichever is first.
func (a *Archiver) wait(ctx context.Context) {
	d := time.Minute
	a.mu.Lock()
	if !a.wake.IsZero() {
		d = min(d, max(a.wake.Sub(a.cfg.Clock.Now()), time.Millisecond))
	}
	a.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-a.notify:
	case <-t.C:
	}
}

// RunOnce lists the bucket if that has not been done yet, then writes
// every file that is due now, at most one per origin. It returns how many
// files it wrote and the failures it met (each one also defers its
// origin, see Config.RetryMin).
func (a *Archiver) RunOnce(ctx context.Context) (int, error) {
	a.run.Lock()
	defer a.run.Unlock()
	now := a.cfg.Clock.Now()
	if !a.Recovered() {
		if b := a.retry[""]; now.Before(b.until) {
			a.setWake(b.until)
			return 0, nil
		}
		if err := a.recover(ctx); err != nil {
			a.fail("", err)
			return 0, err
		}
		delete(a.retry, "")
	}
	tasks, wake := Plan(a.origins(now), Limits{Rows: uint64(a.cfg.Rows), Age: a.cfg.Age}, now)
	a.setWake(wake)
	var errs []error
	written := 0
	for i, err := range a.archiveAll(ctx, tasks) {
		if err != nil {
			a.fail(tasks[i].Device, err)
			errs = append(errs, err)
			continue
		}
		delete(a.retry, tasks[i].Device)
		written++
	}
	if b := a.retry[redactionsRetry]; !now.Before(b.until) && ctx.Err() == nil {
		n, err := a.recordRedactions(ctx)
		written += n
		if err != nil {
			a.fail(redactionsRetry, err)
			a.wakeBy(a.retry[redactionsRetry].until)
			errs = append(errs, err)
		} else {
			delete(a.retry, redactionsRetry)
		}
	}
	return written, errors.Join(errs...)
}

// archiveAll runs the tasks (each of another origin), Config.Workers at a
// time, and returns each one's error.
func (a *Archiver) archiveAll(ctx context.Context, tasks []Task) []error {
	errs := make([]error, len(tasks))
	sem := make(chan struct{}, a.cfg.Workers)
	var wg sync.WaitGroup
	for i, t := range tasks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if errs[i] = ctx.Err(); errs[i] == nil {
				errs[i] = a.archive(ctx, t)
			}
		}()
	}
	wg.Wait()
	return errs
}

// wakeBy makes Run wake at t at the latest.
func (a *Archiver) wakeBy(t time.Time) {
	a.mu.Lock()
	if a.wake.IsZero() || t.Before(a.wake) {
		a.wake = t
	}
	a.mu.Unlock()
}

func (a *Archiver) setWake(t time.Time) {
	a.mu.Lock()
	a.wake = t
	a.mu.Unlock()
}

// origins returns the planner's view of every origin the store holds.
func (a *Archiver) origins(now time.Time) []Origin {
	vv := a.cfg.Events.VersionVector()
	out := make([]Origin, 0, len(vv))
	for d, held := range vv {
		if !ValidDevice(d) {
			if !a.badDevices[d] {
				a.badDevices[d] = true
				a.log.Error("device id cannot name archive files; its events are not archived", "device", d)
			}
			continue
		}
		a.mu.Lock()
		o := Origin{Device: d, Held: held, Archived: a.ix.watermark(d), Covered: a.ix.covered(d)}
		a.mu.Unlock()
		o.NotBefore = a.retry[d].until
		if held > o.Archived {
			p, err := a.firstPending(d, o.Archived+1)
			if err != nil {
				a.log.Warn("read first unarchived event", "device", d, "err", err)
				continue
			}
			o.Oldest = p.at
		}
		out = append(out, o)
	}
	return out
}

// firstPending returns when the event at seq of device arrived, from the
// store the first time it is asked.
func (a *Archiver) firstPending(device string, seq uint64) (pending, error) {
	if p, ok := a.oldest[device]; ok && p.seq == seq {
		return p, nil
	}
	p := pending{seq: seq}
	err := a.cfg.Events.ScanReceived(scanFrom(device, seq, 1), func(e *eventT, at int64) error {
		if e.Seq == seq {
			p.at = time.UnixMilli(at)
		}
		return nil
	})
	if err == nil && p.at.IsZero() {
		err = fmt.Errorf("event %s/%d is not in the store", device, seq)
	}
	if err != nil {
		return p, err
	}
	a.oldest[device] = p
	return p, nil
}

// fail logs a failure and defers device ("" for the bucket listing).
func (a *Archiver) fail(device string, err error) {
	b := a.retry[device]
	delay := a.cfg.RetryMin << min(b.failures, 20)
	if delay > a.cfg.RetryMax || delay <= 0 {
		delay = a.cfg.RetryMax
	}
	b.failures++
	b.until = a.cfg.Clock.Now().Add(delay)
	a.retry[device] = b
	a.log.Warn("archive step failed", "device", device, "err", err, "retry_in", delay)
}

// Close releases the bucket. Call it after Run has returned.
func (a *Archiver) Close() error { return a.cfg.Bucket.Close() }
