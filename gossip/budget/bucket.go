package budget

import (
	"math"
	"math/bits"
	"time"
)

// Bucket is a token bucket of up to burst bytes refilled at rate bytes
// per second, kept as the generic cell rate algorithm's single time (the
// theoretical arrival time, tat): the bucket is full when tat is not
// after now, and each byte moves tat on by 1/rate s. A reservation may
// overdraw the bucket; it then waits until the overdraft is repaid, so
// pieces of any size pass without starving. The zero Bucket is full.
// Not safe for concurrent use.
type Bucket struct {
	tat time.Time
}

// Reserve takes n bytes at time now and returns how long the caller must
// wait before sending them (0 when the bucket holds them). rate (> 0) and
// burst (>= 0) are read on every call, so a new rate applies at once.
// Times must not go backwards across calls.
func (b *Bucket) Reserve(now time.Time, n, rate, burst int64) time.Duration {
	if b.tat.Before(now) {
		b.tat = now // full: unused time does not pile up beyond the burst
	}
	b.tat = b.tat.Add(cost(n, rate, true))
	wait := b.tat.Sub(now) - cost(burst, rate, false)
	return max(wait, 0)
}

// cost is the time n bytes take at rate bytes/s, rounded so that the
// bucket never grants more than the rate: a byte's cost up, the burst's
// allowance down.
func cost(n, rate int64, up bool) time.Duration {
	if n <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(n), uint64(time.Second))
	if hi >= uint64(rate) {
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, uint64(rate))
	if r > 0 && up {
		q++
	}
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(q)
}

// Burst is the bucket size used for a rate: a quarter second of it,
// within [1 KiB, 1 MiB].
func Burst(rate int64) int64 { return min(max(rate/4, 1<<10), 1<<20) }

// Piece is the most bytes to reserve and write at once under rate, so
// that the stream flows in small steps rather than in bursts.
func Piece(rate int64) int { return int(Burst(rate)) }
