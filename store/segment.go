package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

const (
	segMagic       = "RUMORLG1" // first bytes of every segment file
	frameHeader    = 8          // u32 length + u32 CRC-32C of the payload
	maxRecordBytes = 256 << 20  // sanity bound on one record
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errTorn marks a record that is incomplete or fails its checksum.
var errTorn = errors.New("store: torn record")

// segments is the directory of segment files. The writer goroutine owns the
// append side (cur, curID, curSize); readers share the read-only handles
// under mu.
type segments struct {
	dir string

	mu      sync.Mutex
	readers map[uint32]*os.File

	cur     *os.File
	curID   uint32
	curSize int64        // where the next record goes: the end of the last one
	retired []*os.File   // earlier append targets, still synced by the syncer
	ahead   zeroAhead    // keeps cur zero-filled past curSize (prealloc.go)
	direct  directWriter // writes bulk records past the page cache (direct.go)
	limit   int64        // the segment size after which the writer rotates
}

func segmentPath(dir string, id uint32) string {
	return filepath.Join(dir, fmt.Sprintf("%08d.seg", id))
}

// openSegments opens (creating if needed) the log directory.
func openSegments(dir string, limit int64) (*segments, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create log dir: %w", err)
	}
	return &segments{dir: dir, readers: map[uint32]*os.File{}, limit: limit}, nil
}

// list returns the ids of the segment files present, ascending.
func (s *segments) list() ([]uint32, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("store: list segments: %w", err)
	}
	var ids []uint32
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".seg")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 32)
		if err != nil {
			continue
		}
		ids = append(ids, uint32(id))
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// create starts a new, empty segment and makes it the append target. The
// previous target is made durable first, so that a record in the new
// segment is never on disk while an earlier one in the old segment is
// not: replay may then take a zeroed region at the end of a segment for
// its clean end.
func (s *segments) create(id uint32) error {
	if s.cur != nil {
		s.ahead.wait()
		if err := unix.Fdatasync(int(s.cur.Fd())); err != nil {
			return fmt.Errorf("store: sync segment before rotation: %w", err)
		}
	}
	f, err := os.OpenFile(segmentPath(s.dir, id), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("store: create segment: %w", err)
	}
	if _, err := f.Write([]byte(segMagic)); err != nil {
		f.Close()
		return fmt.Errorf("store: write segment header: %w", err)
	}
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		f.Close()
		return fmt.Errorf("store: sync segment header: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	if s.cur != nil {
		s.mu.Lock() // Prune closes retired files it deletes
		s.retired = append(s.retired, s.cur)
		s.mu.Unlock()
	}
	if err := s.direct.reset(); err != nil {
		f.Close()
		return fmt.Errorf("store: close direct handle: %w", err)
	}
	s.cur, s.curID, s.curSize = f, id, int64(len(segMagic))
	s.ahead.reset(f, s.curSize)
	s.ahead.maybeExtend(s.curSize, s.limit, zeroStep)
	return nil
}

// resume makes an existing segment the append target at size, the end of
// its last good record. When torn, the bytes past size (a record never
// acknowledged) are overwritten with zeros and made durable, so that a
// later replay finds a clean end there; a zero-filled tail is kept as it
// is, for the records to come.
func (s *segments) resume(id uint32, size int64, torn bool) error {
	f, err := os.OpenFile(segmentPath(s.dir, id), os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("store: open segment for append: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("store: stat segment: %w", err)
	}
	if torn {
		if err := writeZeros(f, size, st.Size()-size); err != nil {
			f.Close()
			return fmt.Errorf("store: clear torn segment tail: %w", err)
		}
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			f.Close()
			return fmt.Errorf("store: sync cleared segment tail: %w", err)
		}
	}
	if err := s.direct.reset(); err != nil {
		f.Close()
		return fmt.Errorf("store: close direct handle: %w", err)
	}
	s.cur, s.curID, s.curSize = f, id, size
	s.ahead.reset(f, max(st.Size(), size))
	s.ahead.maybeExtend(size, s.limit, zeroStep)
	return nil
}

// appendRecord writes one framed record at the end of the log and returns
// the offset of its payload. On a failed write the bytes are cleared back
// to zeros, as far as that still works; the record is never acknowledged
// either way.
//
// lone tells whether the log serves one commit at a time (see stepFor);
// remote, whether the record holds only events from peers, which a large
// record writes past the page cache (see direct.go).
func (s *segments) appendRecord(frame []byte, lone, remote bool) (int64, error) {
	off := s.curSize
	end := off + int64(len(frame))
	s.ahead.reserve(end)
	var done bool
	var err error
	if remote {
		done, err = s.direct.write(s.dir, s.curID, s.cur, frame, off)
	}
	if !done && err == nil {
		_, err = s.cur.WriteAt(frame, off)
	}
	if err != nil {
		_ = writeZeros(s.cur, off, int64(len(frame)))
		return 0, fmt.Errorf("store: append to segment: %w", err)
	}
	s.curSize = end
	s.ahead.wrote(end)
	s.ahead.maybeExtend(end, s.limit, stepFor(int64(len(frame)), lone))
	return off + frameHeader, nil
}

// phase is where in a page the next record starts (see recordBuilder).
func (s *segments) phase() int { return int(s.curSize % directPage) }

// readAt returns length bytes of segment id at off.
func (s *segments) readAt(id uint32, off int64, length uint32) ([]byte, error) {
	return s.readInto(nil, id, off, length)
}

// readInto is readAt into b when it has room for length bytes.
func (s *segments) readInto(b []byte, id uint32, off int64, length uint32) ([]byte, error) {
	f, err := s.reader(id)
	if err != nil {
		return nil, err
	}
	if uint32(cap(b)) < length {
		b = make([]byte, length)
	}
	b = b[:length]
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("store: read segment %d at %d: %w", id, off, err)
	}
	return b, nil
}

func (s *segments) reader(id uint32) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.readers[id]; ok {
		return f, nil
	}
	f, err := os.Open(segmentPath(s.dir, id))
	if err != nil {
		return nil, fmt.Errorf("store: open segment %d: %w", id, err)
	}
	s.readers[id] = f
	return f, nil
}

// close closes every file handle.
func (s *segments) close() error {
	s.ahead.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := []error{s.direct.reset()}
	for id, f := range s.readers {
		errs = append(errs, f.Close())
		delete(s.readers, id)
	}
	for _, f := range append(s.retired, s.cur) {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	s.cur, s.retired = nil, nil
	return errors.Join(errs...)
}

// scan calls fn for each complete record of segment id from offset from
// (0 means just after the header) and returns the offset just past the last
// good record. It stops without error at the end of the records: a clean
// end when only zeros follow (segments are zero-filled ahead of the
// writer), torn when anything else does; the caller decides what to do.
func (s *segments) scan(id uint32, from int64, fn func(payloadOff int64, payload []byte) error) (end int64, torn bool, err error) {
	// Only the part from from on is read: at a restart that is what follows
	// the checkpoint, usually little, not the whole segment.
	f, err := os.Open(segmentPath(s.dir, id))
	if err != nil {
		return 0, false, fmt.Errorf("store: read segment %d: %w", id, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, false, fmt.Errorf("store: read segment %d: %w", id, err)
	}
	hdr := make([]byte, len(segMagic))
	if _, err := f.ReadAt(hdr, 0); err != nil || string(hdr) != segMagic {
		return 0, false, fmt.Errorf("store: segment %d has no valid header", id)
	}
	base := min(max(from, int64(len(segMagic))), st.Size())
	data := make([]byte, st.Size()-base)
	if _, err := f.ReadAt(data, base); err != nil {
		return 0, false, fmt.Errorf("store: read segment %d: %w", id, err)
	}
	off := int64(0)
	for off < int64(len(data)) {
		payload, err := parseFrame(data[off:])
		if err != nil {
			return base + off, !allZero(data[off:]), nil
		}
		if err := fn(base+off+frameHeader, payload); err != nil {
			return base + off, false, err
		}
		off += frameHeader + int64(len(payload))
	}
	return base + off, false, nil
}

// parseFrame returns the payload of the frame at the start of b.
func parseFrame(b []byte) ([]byte, error) {
	if len(b) < frameHeader {
		return nil, errTorn
	}
	n := binary.BigEndian.Uint32(b)
	if n == 0 || n > maxRecordBytes || int64(len(b)) < frameHeader+int64(n) {
		return nil, errTorn
	}
	payload := b[frameHeader : frameHeader+int(n)]
	if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(b[4:]) {
		return nil, errTorn
	}
	return payload, nil
}

// syncDir makes a directory's entries (a new file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: open dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: sync dir: %w", err)
	}
	return nil
}
