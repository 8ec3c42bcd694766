package store

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"

	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// Erasure. A redacted event held whole still has its payload in the
// segment file it was appended to. The eraser goroutine overwrites those
// bytes in place (event.Erased: the payload becomes a blank JSON object of
// the same length, blob digests become zeros) and rewrites the record's
// CRC, so the record stays well-formed. It does so only for a record the
// durable checkpoint has passed: the eraser first syncs badger (making the
// checkpoint and the redaction record durable), then erases, then
// fdatasyncs the segment, then drops the queue entry (x e). Replay starts
// at the checkpoint, so it never reads an erased record again, and a crash
// anywhere leaves the entry queued, so the (idempotent) erasure is redone
// at the next start. Readers never see an erased payload: they apply the
// redaction, published before the erasure, after reading the bytes.
//
// What an erasure leaves on disk: the event's header (id, device, seq, ts,
// type, schema, Prev), which the redaction keeps visible anyway, the
// payload's length, and the blob CIDs' prefixes (version, codec, hash
// function, digest length). Copies outside the segment files are not
// erased: a fork evidence record (RecordFork) holding the event, file
// system snapshots or backups, and blocks the file system or the disk
// keeps after an overwrite (flash wear levelling, copy-on-write file
// systems).

// wakeEraser asks the eraser goroutine for a pass.
func (s *Store) wakeEraser() {
	select {
	case s.red.wake <- struct{}{}:
	default:
	}
}

// runEraser erases queued payloads, once at start and whenever woken.
func (s *Store) runEraser() {
	defer s.wg.Done()
	s.wakeEraser()
	for {
		select {
		case <-s.quit:
			return
		case <-s.red.wake:
		}
		if err := s.eraseQueued(); err != nil {
			s.log.Error("erasing redacted payloads failed; retried at the next redaction or start", "err", err)
		}
	}
}

type eraseEntry struct {
	key []byte
	d   crdt.Dot
	loc location
}

// eraseQueued erases every queued payload below the durable checkpoint.
func (s *Store) eraseQueued() error {
	s.red.eraseMu.Lock()
	defer s.red.eraseMu.Unlock()
	var queue []eraseEntry
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRedact, xErase}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)
			d, err := decodeDot(k[2:])
			if err != nil {
				return err
			}
			var loc location
			if err := it.Item().Value(func(v []byte) (err error) { loc, err = decodeLocation(v); return err }); err != nil {
				return err
			}
			queue = append(queue, eraseEntry{key: k, d: d, loc: loc})
		}
		return nil
	})
	if err != nil || len(queue) == 0 {
		return err
	}
	// The checkpoint is read before the sync, so that the sync makes it
	// (and the queue entries read above) durable; one committed after the
	// sync might not be.
	ckpt, err := s.loadCheckpoint()
	if err != nil {
		return err
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("store: sync index before erasing: %w", err)
	}
	e := eraser{s: s, files: map[uint32]*os.File{}}
	defer e.close()
	var done [][]byte
	for _, q := range queue {
		l := q.loc
		if l.segment > ckpt.segment || (l.segment == ckpt.segment && l.offset+int64(l.length) > ckpt.offset) {
			continue // not yet below the durable checkpoint: next pass
		}
		if err := e.erase(l); err != nil {
			return fmt.Errorf("store: erase %s/%d: %w", q.d.Origin, q.d.Seq, err)
		}
		done = append(done, q.key)
	}
	if err := e.sync(); err != nil {
		return err
	}
	if len(done) > 0 {
		s.log.Info("erased redacted payloads from the log", "events", len(done))
	}
	return s.db.Update(func(txn *badger.Txn) error {
		for _, k := range done {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// eraser holds the segment files one pass writes to.
type eraser struct {
	s     *Store
	files map[uint32]*os.File
}

func (e *eraser) file(id uint32) (*os.File, error) {
	if f, ok := e.files[id]; ok {
		return f, nil
	}
	f, err := os.OpenFile(segmentPath(e.s.segs.dir, id), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	e.files[id] = f
	return f, nil
}

// erase overwrites the event at loc with its erased form and rewrites its
// record's CRC.
func (e *eraser) erase(loc location) error {
	f, err := e.file(loc.segment)
	if os.IsNotExist(err) {
		return nil // the segment is gone, and the payload with it
	}
	if err != nil {
		return err
	}
	start, n, err := findRecord(f, loc)
	if err != nil {
		return err
	}
	payload := make([]byte, n)
	if _, err := f.ReadAt(payload, start+frameHeader); err != nil {
		return err
	}
	rel := loc.offset - (start + frameHeader)
	enc := payload[rel : rel+int64(loc.length)]
	erased, changed, err := event.Erased(enc)
	if err != nil || !changed {
		return err
	}
	copy(enc, erased)
	if _, err := f.WriteAt(erased, loc.offset); err != nil {
		return err
	}
	var crc [4]byte
	binary.BigEndian.PutUint32(crc[:], crc32.Checksum(payload, crcTable))
	_, err = f.WriteAt(crc[:], start+4)
	return err
}

// findRecord returns the offset and payload length of the record of f
// that holds loc, walking the frame headers from the segment's start.
func findRecord(f *os.File, loc location) (int64, int64, error) {
	var hdr [frameHeader]byte
	for off := int64(len(segMagic)); off < loc.offset; {
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			return 0, 0, fmt.Errorf("store: read record header at %d: %w", off, err)
		}
		n := int64(binary.BigEndian.Uint32(hdr[:]))
		if n == 0 || n > maxRecordBytes {
			return 0, 0, fmt.Errorf("store: bad record header at %d", off)
		}
		if end := off + frameHeader + n; loc.offset+int64(loc.length) <= end {
			if loc.offset < off+frameHeader {
				break
			}
			return off, n, nil
		} else {
			off = end
		}
	}
	return 0, 0, fmt.Errorf("store: no record holds offset %d", loc.offset)
}

func (e *eraser) sync() error {
	for id, f := range e.files {
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			return fmt.Errorf("store: fdatasync segment %d after erasing: %w", id, err)
		}
	}
	return nil
}

func (e *eraser) close() {
	for _, f := range e.files {
		f.Close()
	}
}
