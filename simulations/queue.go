package simulations

import "github.com/rumor-sync/rumor/gossip/syncproto"

// kind is what a queued item does when its time comes.
type kind uint8

const (
	kDeliver   kind = iota // a message reaches a session side
	kHello                 // a synthesized HELLO reaches a session side (fast path)
	kTick                  // a session's tick
	kPersist               // a node's oldest pending apply becomes durable
	kAE                    // a node's anti-entropy timer
	kIngest                // a workload ingest at a node
	kBurst                 // a burst ingest at a node
	kChurn                 // a churn transition (crash or restart) of a node
	kOutage                // an outage transition (offline/online) of a node
	kAction                // a scheduled action (arg: index)
	kPartition             // a partition starts or heals (arg: index*2 + heal)
	kSample                // a metrics sample
	kSettle                // Duration is over: stop the workload and new faults
)

// item is one entry of the event queue. Items at the same time run in the
// order they were queued (seq), which makes a run deterministic.
type item struct {
	at   int64 // virtual nanoseconds
	seq  uint64
	kind kind
	side uint8 // receiving side of a session
	node int32
	gen  uint32 // the node's or session's generation when queued
	arg  int64
	sess *session
	msg  syncproto.Message
}

// queue is a 4-ary min-heap of items by (at, seq).
type queue struct {
	items []item
	seq   uint64
}

func (q *queue) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func (q *queue) push(it item) {
	q.seq++
	it.seq = q.seq
	q.items = append(q.items, it)
	i := len(q.items) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !q.less(i, p) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

func (q *queue) len() int { return len(q.items) }

func (q *queue) pop() item {
	top := q.items[0]
	n := len(q.items) - 1
	q.items[0] = q.items[n]
	q.items[n] = item{}
	q.items = q.items[:n]
	i := 0
	for {
		m := i
		for c := 4*i + 1; c <= 4*i+4 && c < n; c++ {
			if q.less(c, m) {
				m = c
			}
		}
		if m == i {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top
}
