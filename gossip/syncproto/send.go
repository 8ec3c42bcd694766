package syncproto

import (
	"github.com/rumor-sync/rumor/crdt"
	"github.com/rumor-sync/rumor/event"
)

// sender streams what the peer misses as DELTA frames, at most Window
// unacknowledged.
type sender struct {
	ranges   []crdt.Range // still to send, sorted by origin then From
	cur      crdt.Range   // the range being sent; cur.From is the next seq
	active   bool         // cur is being sent
	origin   string       // origin of the last frame sent
	through  uint64       // last seq of origin sent
	runBytes int          // payload bytes of the unsealed run in progress
	inflight int          // DELTA frames not yet acknowledged
	runs     int          // sealed runs sent
	frames   int          // DELTA frames sent
	acked    int          // ACKs received
	mark     int          // frames sent when the last stall ended
	stalled  bool         // the window filled with more to send
	evBytes  int          // payload bytes sent, for the event size estimate
	evCount  int          // events sent
	// In protocol version 1, cap is the last seq the run being sent may
	// reach (a held seal before a redacted event), when capped.
	cap    uint64
	capped bool
	// Memory reused from one DELTA to the next: the stored encodings of
	// the run being framed (copied into the frame at once), and a frame
	// the driver has written and handed back with Sent.
	readEncs  []event.Encoded
	readBuf   []byte
	spareSend []byte
}

func (sn *sender) more() bool { return sn.active || len(sn.ranges) > 0 }

// pump sends DELTA frames while the window allows, then DONE once
// everything is sent.
func (s *Session) pump() error {
	sn := &s.snd
	for !s.sentDone {
		if !sn.more() {
			s.send(&Done{})
			s.sentDone = true
			return nil
		}
		if sn.inflight >= s.cfg.Window {
			sn.stalled = true
			return nil
		}
		d, err := s.nextDelta()
		if err != nil {
			return err
		}
		if d != nil {
			sn.inflight++
			sn.frames++
			s.send(d)
		}
	}
	return nil
}

// nextDelta reads the next frame's events; nil if the next range turned
// out to be sent already (by an earlier run reaching beyond its range).
func (s *Session) nextDelta() (*Delta, error) {
	sn := &s.snd
	if !sn.active {
		r := sn.ranges[0]
		sn.ranges = sn.ranges[1:]
		if r.Origin == sn.origin && r.From <= sn.through {
			r.From = sn.through + 1
		}
		if r.From > r.To || r.From == 0 {
			return nil, nil
		}
		sn.cur, sn.active = r, true
	}
	if s.cfg.Version < Version2 && sn.runBytes == 0 && s.capV1() {
		return nil, nil
	}
	o, from := sn.cur.Origin, sn.cur.From
	target := sn.target(sn.runLimit(s.cfg.RunBytes, s.cfg.MaxBatchBytes))
	if sn.capped {
		target = min(target, sn.cap)
	}
	d, count, last, err := s.readDelta(o, from, target)
	if err != nil {
		return nil, err
	}
	seal := d.Seal
	n := len(d.enc)
	sn.origin, sn.through = o, last
	sn.runBytes += n
	sn.evBytes += n
	sn.evCount += count
	sn.cur.From = last + 1
	if seal != nil {
		sn.runBytes = 0
		sn.runs++
		if last >= sn.cur.To {
			sn.active = false
		}
	} else if last == ^uint64(0) {
		return nil, localError("unsealed run of %s reaches the last seq", o)
	}
	s.res.EventsOut += uint64(count)
	s.sent.AddRange(crdt.Range{Origin: o, From: from, To: last})
	return d, nil
}

// runLimit is the size after which the run being sent ends at a seal: a
// session's first run is one batch, and each next one twice the last, up
// to runBytes. The receiver applies nothing before a run's seal, so a
// short first run starts its writes (and a catch-up's progress) sooner.
func (sn *sender) runLimit(runBytes, batch int) int {
	if sn.runs >= 16 { // past any limit: 1<<16 batches exceed MaxPendingBytes
		return runBytes
	}
	return min(runBytes, max(batch, 1)<<sn.runs)
}

// target is the seq at or after which the frame being read may end the run
// at a seal: the end of the range, or sooner once the run nears RunBytes.
// Past the range's end (a run that must still reach its seal) it is the
// next seq.
func (sn *sender) target(runBytes int) uint64 {
	from, to := sn.cur.From, sn.cur.To
	budget := runBytes - sn.runBytes
	if from > to || budget <= 0 {
		return from
	}
	avg := 512
	if sn.evCount > 0 {
		avg = max(1, sn.evBytes/sn.evCount)
	}
	k := uint64(budget / avg)
	if k == 0 {
		return from
	}
	if k-1 >= to-from {
		return to
	}
	return from + k - 1
}

// checkRead checks what the replica returned against the Replica contract.
func checkRead(origin string, from uint64, events []*event.Event, seal *event.Seal) error {
	if len(events) == 0 {
		return localError("replica holds %s/%d in its context but returned nothing (unsealed run?)", origin, from)
	}
	for i, e := range events {
		if e == nil || e.Device != origin || e.Seq != from+uint64(i) {
			return localError("replica returned a non-contiguous run of %s from %d", origin, from)
		}
	}
	last := events[len(events)-1]
	if seal != nil && (seal.Origin != origin || seal.Seq != last.Seq) {
		return localError("replica returned seal %s/%d for a run ending at %d", seal.Origin, seal.Seq, last.Seq)
	}
	return nil
}
