// Package budget is the bandwidth budget per peer: a token bucket for the
// bytes a node sends to each peer, with the accounting that shows it
// works (bytes, bytes that waited, time waited).
//
// The package is pure: Bucket computes waits from the times it is given,
// and Set reads its injected clock; neither sleeps. The caller (gossip's
// stream writer) reserves each piece before writing it and waits the
// returned duration first:
//
//	s := budget.NewSet(clock.Real{})
//	for len(b) > 0 {
//		n := min(len(b), budget.Piece(rate))
//		time.Sleep(s.Reserve(peer, n, rate)) // or a timer and the context
//		w.Write(b[:n])
//		b = b[n:]
//	}
//
// The law a Bucket keeps: of the bytes reserved from time t0 on, those
// whose wait has passed by time T number at most burst + rate·(T − t0).
package budget
