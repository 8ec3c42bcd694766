package event

// Encoded is one event's canonical encoding (Event.AppendBinary, in its
// stored form: the redacted form for a redacted event) with its seq. A
// store hands events out this way to be sent on without decoding and
// re-encoding them.
type Encoded struct {
	Seq   uint64
	Bytes []byte
}

// Redacted reports whether the encoding is of a redacted event.
func (e Encoded) Redacted() bool { return len(e.Bytes) > 0 && e.Bytes[0] == redactedVersion }
