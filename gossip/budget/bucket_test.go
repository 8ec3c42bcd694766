package budget

import (
	"math"
	"math/big"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestBucketTable(t *testing.T) {
	const rate, burst = 1000, 500 // bytes/s, bytes
	tests := []struct {
		name  string
		steps []struct {
			at   time.Duration // since t0
			n    int64
			wait time.Duration
		}
	}{
		{"within the burst", []struct {
			at   time.Duration
			n    int64
			wait time.Duration
		}{{0, 500, 0}}},
		{"over the burst waits for the excess", []struct {
			at   time.Duration
			n    int64
			wait time.Duration
		}{{0, 1500, time.Second}}},
		{"debt accumulates", []struct {
			at   time.Duration
			n    int64
			wait time.Duration
		}{{0, 500, 0}, {0, 100, 100 * time.Millisecond}, {0, 100, 200 * time.Millisecond}}},
		{"time repays debt", []struct {
			at   time.Duration
			n    int64
			wait time.Duration
		}{{0, 1000, 500 * time.Millisecond}, {500 * time.Millisecond, 0, 0}, {time.Second, 750, 250 * time.Millisecond}}},
		{"idle time refills no more than the burst", []struct {
			at   time.Duration
			n    int64
			wait time.Duration
		}{{0, 500, 0}, {time.Hour, 1000, 500 * time.Millisecond}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Bucket
			for i, s := range tt.steps {
				if got := b.Reserve(t0.Add(s.at), s.n, rate, burst); got != s.wait {
					t.Fatalf("step %d: wait %v, want %v", i, got, s.wait)
				}
			}
		})
	}
}

func TestCost(t *testing.T) {
	for _, tt := range []struct {
		n, rate int64
		want    time.Duration
	}{
		{0, 1, 0}, {1, 1, time.Second}, {1, 3, 333333334}, {3, 3, time.Second}, {-5, 3, 0},
		{1 << 30, 1 << 30, time.Second}, {math.MaxInt64, 1, math.MaxInt64},
	} {
		if got := cost(tt.n, tt.rate, true); got != tt.want {
			t.Errorf("cost(%d, %d) = %v, want %v", tt.n, tt.rate, got, tt.want)
		}
		if down := cost(tt.n, tt.rate, false); down > tt.want || down < tt.want-1 {
			t.Errorf("cost(%d, %d) rounded down = %v, want %v or a nanosecond less", tt.n, tt.rate, down, tt.want)
		}
	}
}

func TestBurstAndPiece(t *testing.T) {
	for _, tt := range []struct{ rate, burst int64 }{{4096, 1024}, {1 << 20, 256 << 10}, {1 << 30, 1 << 20}, {1, 1024}} {
		if got := Burst(tt.rate); got != tt.burst || Piece(tt.rate) != int(tt.burst) {
			t.Errorf("Burst(%d) = %d, want %d", tt.rate, got, tt.burst)
		}
	}
}

// reservation is one drawn request and when its bytes may go.
type reservation struct {
	at, send time.Time
	n        int64
}

// drawRun makes reservations at drawn, nondecreasing times: sometimes the
// caller waits its turn before the next one, sometimes it asks at once,
// sometimes it idles.
func drawRun(t *rapid.T, b *Bucket, rate, burst int64) []reservation {
	now := t0
	var out []reservation
	for range rapid.IntRange(1, 60).Draw(t, "reservations") {
		n := rapid.Int64Range(0, 3*burst+10).Draw(t, "n")
		w := b.Reserve(now, n, rate, burst)
		out = append(out, reservation{at: now, send: now.Add(w), n: n})
		switch rapid.IntRange(0, 2).Draw(t, "caller") {
		case 0:
			now = now.Add(w) // waits its turn, as the stream writer does
		case 1: // asks again at once
		case 2:
			now = now.Add(time.Duration(rapid.Int64Range(0, int64(3*time.Second)).Draw(t, "idle")))
		}
	}
	return out
}

// The bucket's law: by any time T, the bytes allowed out since t0 are at
// most burst + rate·(T − t0); and send times never go backwards.
func TestBucketNeverExceedsTheRate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rate := rapid.Int64Range(1, 10<<20).Draw(t, "rate")
		burst := rapid.Int64Range(0, 1<<20).Draw(t, "burst")
		var b Bucket
		run := drawRun(t, &b, rate, burst)
		var sent int64
		for i, r := range run {
			if i > 0 && r.send.Before(run[i-1].send) {
				t.Fatalf("reservation %d may go at %v, before %d's %v", i, r.send, i-1, run[i-1].send)
			}
			if r.send.Before(r.at) {
				t.Fatalf("negative wait")
			}
			sent += r.n
			// bytes·1s <= burst·1s + rate·elapsed, in exact integers
			elapsed := r.send.Sub(t0)
			lhs := new(big.Int).Mul(big.NewInt(sent), big.NewInt(int64(time.Second)))
			rhs := new(big.Int).Mul(big.NewInt(rate), big.NewInt(int64(elapsed)))
			rhs.Add(rhs, new(big.Int).Mul(big.NewInt(burst), big.NewInt(int64(time.Second))))
			if lhs.Cmp(rhs) > 0 {
				t.Fatalf("by %v after t0, %d bytes allowed at %d B/s with burst %d", elapsed, sent, rate, burst)
			}
		}
	})
}

// The bucket does not hold back more than the rate needs: a caller that
// always waits its turn sends M bytes within (M − burst)/rate, plus a
// nanosecond of rounding per reservation.
func TestBucketIsNotTooStrict(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rate := rapid.Int64Range(1, 10<<20).Draw(t, "rate")
		burst := rapid.Int64Range(0, 1<<20).Draw(t, "burst")
		var b Bucket
		now, sent := t0, int64(0)
		k := rapid.IntRange(1, 50).Draw(t, "reservations")
		for range k {
			n := rapid.Int64Range(0, 2*burst+10).Draw(t, "n")
			now = now.Add(b.Reserve(now, n, rate, burst))
			sent += n
		}
		need := time.Duration(math.Ceil(float64(max(sent-burst, 0)) / float64(rate) * 1e9))
		if took := now.Sub(t0); took > need+time.Duration(k)+1 {
			t.Fatalf("%d bytes at %d B/s (burst %d) took %v, need only %v", sent, rate, burst, took, need)
		}
	})
}
