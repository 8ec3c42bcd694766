package syncproto

import (
	"fmt"
	"math/rand/v2"
)

// Faults are per-frame probabilities of network misbehaviour in a SimNet,
// each in [0, 1].
type Faults struct {
	Loss    float64 // the frame is dropped
	Dup     float64 // the frame is delivered twice
	Reorder float64 // the frame is delivered after a later one
	Corrupt float64 // one to three of the frame's bytes are flipped
}

// SimNet runs sessions between MemReplicas over a deterministic in-memory
// network: every message is encoded as a frame, maybe lost, duplicated,
// reordered or corrupted, then decoded (a frame that does not decode aborts
// the receiving session) and stepped. Which frame or apply confirmation
// happens next is drawn from Rand, so one seed gives one interleaving.
// When nothing can happen, both sessions tick, so lost frames end in
// timeouts. Each side's SessionConfig.Version is the newest version that
// side speaks; the session runs in the highest both speak, as the libp2p
// transport negotiates it. Simulators and tests reuse it; it is not safe
// for concurrent use.
type SimNet struct {
	Rand     *rand.Rand // the only source of randomness; required
	Faults   Faults     // misbehaviour applied to every frame
	MaxSteps int        // bound on delivery steps per session; 0 means 10,000,000
	// OnFrame, when not nil, sees every frame a session sends (from is 0 for
	// the initiator, 1 for the responder), before any fault.
	OnFrame func(from int, m Message, frame []byte)

	codec Codec // the running session's version
}

// SimOutcome is what one simulated session did.
type SimOutcome struct {
	Initiator, Responder Result // each side's session result
	Frames               int    // frames sent by both sides
	Lost                 int    // frames dropped
	Duplicated           int    // frames delivered twice
	Reordered            int    // frames delivered before an older one
	Corrupted            int    // frames with flipped bytes
	Rejected             int    // frames that did not decode
	Ticks                int    // rounds of ticks
	Steps                int    // deliveries and apply confirmations
	Version              uint8  // the protocol version the session ran in
}

type simSide struct {
	s       *Session
	r       *MemReplica
	in      [][]byte // frames to deliver to this side, oldest first
	applies []Apply  // emitted, not yet persisted
	res     Result
	done    bool
}

// Run runs one session, a initiating, until both sides are done, and
// persists every Apply either emitted (a failed session's earlier applies
// are verified and stay valid). The error reports a broken driver
// invariant (an unencodable message, an Apply MemReplica refuses, the step
// bound); a failed session is reported in its Result.
func (n *SimNet) Run(a, b *MemReplica, cfgA, cfgB SessionConfig) (SimOutcome, error) {
	var o SimOutcome
	v, ok := Negotiate(UpTo(cfgA.withDefaults().Version), UpTo(cfgB.withDefaults().Version))
	if !ok {
		return o, fmt.Errorf("syncproto: SimNet: no common protocol version")
	}
	cfgA.Version, cfgB.Version, n.codec, o.Version = v, v, Codec{version: v}, v
	sides := [2]*simSide{{s: NewSession(cfgA, a, true), r: a}, {s: NewSession(cfgB, b, false), r: b}}
	for i, sd := range sides {
		if err := n.handle(&o, &sides, i, sd.s.Start()); err != nil {
			return o, err
		}
	}
	maxSteps := n.MaxSteps
	if maxSteps <= 0 {
		maxSteps = 10_000_000
	}
	for !sides[0].done || !sides[1].done {
		if err := n.step(&o, &sides); err != nil {
			return o, err
		}
		if o.Steps > maxSteps {
			return o, fmt.Errorf("syncproto: SimNet: more than %d steps", maxSteps)
		}
	}
	for _, sd := range sides {
		for _, ap := range sd.applies {
			if _, err := sd.r.Apply(ap); err != nil {
				return o, err
			}
		}
		sd.applies = nil
	}
	o.Initiator, o.Responder = sides[0].res, sides[1].res
	return o, nil
}

// step performs one random action, or a round of ticks if none is possible.
func (n *SimNet) step(o *SimOutcome, sides *[2]*simSide) error {
	var acts [4]int // side*2 + kind (0 deliver, 1 persist)
	k := 0
	for i, sd := range sides {
		if len(sd.in) > 0 {
			acts[k], k = i*2, k+1
		}
		if len(sd.applies) > 0 {
			acts[k], k = i*2+1, k+1
		}
	}
	if k == 0 {
		o.Ticks++
		for i, sd := range sides {
			if !sd.done {
				if err := n.handle(o, sides, i, sd.s.Tick()); err != nil {
					return err
				}
			}
		}
		return nil
	}
	o.Steps++
	act := acts[n.Rand.IntN(k)]
	i, sd := act/2, sides[act/2]
	if act%2 == 1 {
		ap := sd.applies[0]
		sd.applies = sd.applies[1:]
		if _, err := sd.r.Apply(ap); err != nil {
			return err
		}
		if sd.done {
			return nil
		}
		return n.handle(o, sides, i, sd.s.Applied(1))
	}
	idx := 0
	if len(sd.in) > 1 && n.roll(n.Faults.Reorder) {
		idx = n.Rand.IntN(len(sd.in))
		if idx != 0 {
			o.Reordered++
		}
	}
	frame := sd.in[idx]
	sd.in = append(sd.in[:idx], sd.in[idx+1:]...)
	m, err := n.codec.DecodeFrame(frame)
	var rd Ready
	if err != nil {
		o.Rejected++
		rd = sd.s.Abort(err)
	} else {
		rd, _ = sd.s.Step(m)
	}
	return n.handle(o, sides, i, rd)
}

// handle routes side i's Ready: frames to the peer through the faults,
// applies to the side's queue.
func (n *SimNet) handle(o *SimOutcome, sides *[2]*simSide, i int, rd Ready) error {
	sd, peer := sides[i], sides[1-i]
	for _, m := range rd.Send {
		frame, err := n.codec.AppendFrame(nil, m)
		if err != nil {
			return fmt.Errorf("syncproto: SimNet: side %d sent an unencodable %s: %w", i, m.Type(), err)
		}
		o.Frames++
		if n.OnFrame != nil {
			n.OnFrame(i, m, frame)
		}
		if peer.done {
			continue // the stream is closed
		}
		if n.roll(n.Faults.Loss) {
			o.Lost++
			continue
		}
		if n.roll(n.Faults.Corrupt) {
			o.Corrupted++
			frame = n.corrupt(frame)
		}
		peer.in = append(peer.in, frame)
		if n.roll(n.Faults.Dup) {
			o.Duplicated++
			peer.in = append(peer.in, frame)
		}
	}
	if rd.Done && len(rd.Apply) > 0 {
		return fmt.Errorf("syncproto: SimNet: side %d: a Ready with both Done and Apply", i)
	}
	sd.applies = append(sd.applies, rd.Apply...)
	if rd.Done {
		sd.done, sd.res, sd.in = true, rd.Result, nil
	}
	return nil
}

func (n *SimNet) roll(p float64) bool { return p > 0 && n.Rand.Float64() < p }

// corrupt returns a copy of frame with one to three bytes flipped.
func (n *SimNet) corrupt(frame []byte) []byte {
	c := append([]byte(nil), frame...)
	for k := 1 + n.Rand.IntN(3); k > 0; k-- {
		c[n.Rand.IntN(len(c))] ^= byte(1 + n.Rand.IntN(255))
	}
	return c
}
