package syncproto

import (
	"testing"
)

// BenchmarkCatchUp100k syncs 100,000 events with 256-byte payloads (10
// origins, sealed every 10 events) into an empty replica, and reports the
// bytes on the wire, both directions, per byte of the events' canonical
// encodings (wire/payload).
func BenchmarkCatchUp100k(b *testing.B) {
	src := NewMemReplica()
	var all []testBatch
	for _, o := range newOrigins(b, 10, 7000) {
		l := buildLog(b, o, 10_000, 10, 256, 0)
		all = append(all, l...)
		applyAll(b, src, l)
	}
	payload := encodedBytes(all)
	b.SetBytes(int64(payload))
	var o SimOutcome
	for b.Loop() {
		dst := NewMemReplica()
		o = runSession(b, 1, dst, src, SessionConfig{})
		if o.Initiator.Applied != 100_000 {
			b.Fatalf("applied %d", o.Initiator.Applied)
		}
	}
	wire := o.Initiator.BytesOut + o.Initiator.BytesIn
	b.ReportMetric(float64(wire)/float64(payload), "wire/payload")
	b.ReportMetric(float64(o.Frames), "frames")
	b.ReportMetric(float64(o.Responder.RoundTrips), "sender-round-trips")
}

// BenchmarkInSync1000Origins runs the session of two replicas holding the
// same events of 1,000 origins and reports the bytes each way.
func BenchmarkInSync1000Origins(b *testing.B) {
	a := NewMemReplica()
	for i, o := range newOrigins(b, 1000, 1000) {
		applyAll(b, a, buildLog(b, o, 1+i%5, 2, 32, 0))
	}
	c := a.Clone()
	var o SimOutcome
	for b.Loop() {
		o = runSession(b, 1, a, c, SessionConfig{})
	}
	if o.Initiator.RoundTrips != 1 {
		b.Fatalf("%d round trips", o.Initiator.RoundTrips)
	}
	b.ReportMetric(float64(o.Initiator.BytesOut), "bytes-a→b")
	b.ReportMetric(float64(o.Initiator.BytesIn), "bytes-b→a")
	b.ReportMetric(float64(o.Initiator.RoundTrips), "round-trips")
}
