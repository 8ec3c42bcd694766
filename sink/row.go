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
//	payload      JSON       the payload object, as compact JSON text
//	blobs        LIST<STRING> CIDs of the blobs it references (archived under blobs/<cid>)
//	received_at  TIMESTAMP  when the event became durable on the sink, milliseconds, UTC
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
}

// RowOf returns the row of event e, received at receivedAt (epoch ms).
func RowOf(e *event.Event, receivedAt int64) Row {
	r := Row{
		EventID: e.ID.String(), DeviceID: e.Device, Seq: int64(e.Seq),
		TS: time.UnixMilli(e.TS).UTC(), Type: e.Type, Schema: int64(e.Schema),
		Payload: string(e.Payload), ReceivedAt: time.UnixMilli(receivedAt).UTC(),
	}
	if len(e.Payload) == 0 {
		r.Payload = "{}"
	}
	if len(e.Blobs) > 0 {
		r.Blobs = make([]string, len(e.Blobs))
		for i, c := range e.Blobs {
			r.Blobs[i] = c.String()
		}
	}
	return r
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

const msPerDay = 24 * 60 * 60 * 1000

// dayDate formats a day number as YYYY-MM-DD.
func dayDate(day int64) string {
	return time.UnixMilli(day * msPerDay).UTC().Format(time.DateOnly)
}
