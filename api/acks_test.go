package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/store"
)

// referenceAcks is the ingest response as encoding/json writes it.
func referenceAcks(t testing.TB, acks []store.Ack) []byte {
	out := make([]ackJSON, len(acks))
	for i, a := range acks {
		out[i] = ackJSON{EventID: a.EventID.String(), DeviceID: a.DeviceID, Seq: a.Seq}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(map[string]any{"events": out}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAppendAcksMatchesEncodingJSON(t *testing.T) {
	id := uuid.MustParse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
	for _, acks := range [][]store.Ack{
		nil,
		{{EventID: id, DeviceID: "12D3KooWLRPJAA5o6Gj3SDbvvwxWxpKJqpgqsCmXD3FoSbT9ZtYT", Seq: 1}},
		{{EventID: uuid.UUID{}, DeviceID: "", Seq: 0}, {EventID: id, DeviceID: "a\"b\\c<d>&e\x01\x7f\u2028é\xff", Seq: 1<<64 - 1}},
	} {
		if got, want := appendAcks(nil, acks), referenceAcks(t, acks); !bytes.Equal(got, want) {
			t.Errorf("appendAcks:\n%s\nencoding/json:\n%s", got, want)
		}
	}
}

func FuzzAppendAcks(f *testing.F) {
	f.Add([]byte{1, 2, 3}, "12D3KooW", uint64(7))
	f.Add([]byte{}, "\x00\"<\u2028\xfe", uint64(1<<63))
	f.Fuzz(func(t *testing.T, idBytes []byte, device string, seq uint64) {
		var id uuid.UUID
		copy(id[:], idBytes)
		acks := []store.Ack{{EventID: id, DeviceID: device, Seq: seq}, {EventID: id, DeviceID: device, Seq: seq + 1}}
		if got, want := appendAcks(nil, acks), referenceAcks(t, acks); !bytes.Equal(got, want) {
			t.Fatalf("appendAcks:\n%q\nencoding/json:\n%q", got, want)
		}
	})
}
