package sink

import (
	"encoding/binary"
	"time"

	"github.com/rumor-sync/rumor/event"
)

// Row is one archived event: one row of a Parquet file. The columns are
// typed so that DuckDB, Spark or pandas read them as they are:
//
//	event_id     STRING     the event's UUIDv7, canonical text form
//	device_id    STRING     origin device (textual peer id)
//	seq          INT64      per-origin sequence number, contiguous from 1
//	ts           TIMESTAMP  event time, milliseconds, UTC
//	type         STRING     event type
//	schema       INT64      payload schema version
//	payload      JSON       the payload object, as compact JSON text; {} when redacted
//	blobs        LIST<STRING> CIDs of the blobs it references (archived under blobs/<cid>); empty when redacted
//	received_at  TIMESTAMP  when the event became durable on the sink, milliseconds, UTC
//	redacted     BOOLEAN    the event was redacted (its payload and blobs are gone)
//	redacted_by  STRING     the device that redacted it; NULL unless redacted
//	redacted_at  TIMESTAMP  when it was redacted (the redactor's clock), milliseconds, UTC; NULL unless redacted
//
// A redacted event keeps its header (event_id, device_id, seq, ts, type,
// schema) and received_at, with payload {} and no blobs, as the API shows
// it. (payload stays a required column: parquet-go v0.32.0 cannot write an
// optional JSON column.)
type Row struct {
	EventID    string    `parquet:"event_id"`
	DeviceID   string    `parquet:"device_id,dict"`
	Seq        int64     `parquet:"seq,delta"`
	TS         time.Time `parquet:"ts,timestamp(millisecond:utc)"`
	Type       string    `parquet:"type,dict"`
	Schema     int64     `parquet:"schema"`
	Payload    string    `parquet:"payload,json"`
	Blobs      []string  `parquet:"blobs,list"`
	ReceivedAt time.Time `parquet:"received_at,timestamp(millisecond:utc)"`
	Redacted   bool      `parquet:"redacted"`
	RedactedBy string    `parquet:"redacted_by,optional,dict"`
	RedactedAt time.Time `parquet:"redacted_at,optional,timestamp(millisecond:utc)"`
}

// RowOf returns the row of event e, received at receivedAt (epoch ms). A
// redacted event (e.Redaction set, as the store returns it) gives a
// redacted row (see Redact).
func RowOf(e *event.Event, receivedAt int64) Row {
	r := Row{
		EventID: e.ID.String(), DeviceID: e.Device, Seq: int64(e.Seq),
		TS: time.UnixMilli(e.TS).UTC(), Type: e.Type, Schema: int64(e.Schema),
		ReceivedAt: time.UnixMilli(receivedAt).UTC(),
	}
	if e.Redaction != nil {
		r.Redact(e.Redaction)
		return r
	}
	r.Payload = string(e.Payload)
	if r.Payload == "" {
		r.Payload = emptyPayload
	}
	if len(e.Blobs) > 0 {
		r.Blobs = make([]string, len(e.Blobs))
		for i, c := range e.Blobs {
			r.Blobs[i] = c.String()
		}
	}
	return r
}

// Redact turns r into the row of its event redacted by x: payload {}, no
// blobs, and who redacted it when. It is how a file already
// archived is rewritten, and gives the row RowOf gives for the redacted
// event, so a range has the same bytes whichever way it was written.
func (r *Row) Redact(x *event.Redaction) {
	r.Payload, r.Blobs = emptyPayload, nil
	r.Redacted, r.RedactedBy, r.RedactedAt = true, x.Redactor, time.UnixMilli(x.At).UTC()
}

// Targets reports whether x is a redaction of the event of row r: the
// same dot, id and header.
func (r *Row) Targets(x *event.Redaction) bool {
	return r.DeviceID == x.Device && r.Seq == int64(x.Seq) && r.EventID == x.ID.String() &&
		r.TS.Equal(time.UnixMilli(x.TS)) && r.Type == x.Type && r.Schema == int64(x.Schema)
}

// PartitionDate returns the partition date of e: the UTC date of the time
// in its event id (UUIDv7), YYYY-MM-DD. The id's time is when the origin
// created the event, taken from its clock as it assigned the seq, so the
// dates of one origin's seqs only go forward (unless that clock was set
// back); the writer still cuts a file at every change of date, so a file
// always holds one date. The id's time, not ts: ts is given by the client
// and may be anything.
func PartitionDate(e *event.Event) string { return dayDate(partitionDay(e)) }

// partitionDay returns the day number (since the Unix epoch, UTC) of e's
// partition date.
func partitionDay(e *event.Event) int64 {
	var b [8]byte
	copy(b[2:], e.ID[:6])
	return int64(binary.BigEndian.Uint64(b[:])) / msPerDay
}

// emptyPayload is the payload of a row without one, and of a redacted row.
const emptyPayload = "{}"

const msPerDay = 24 * 60 * 60 * 1000

// dayDate formats a day number as YYYY-MM-DD.
func dayDate(day int64) string {
	return time.UnixMilli(day * msPerDay).UTC().Format(time.DateOnly)
}
