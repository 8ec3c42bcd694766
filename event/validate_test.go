package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

func TestValidate(t *testing.T) {
	identity, err := mh.Sum([]byte(strings.Repeat("x", MaxCIDLen)), mh.IDENTITY, -1)
	if err != nil {
		t.Fatal(err)
	}
	longCID := cid.NewCidV1(cid.Raw, identity) // > MaxCIDLen bytes
	many := make([]cid.Cid, MaxBlobs+1)
	for i := range many {
		many[i] = testCID(t, "b")
	}
	tests := []struct {
		name   string
		mutate func(*Event)
		want   string // "" when the event is valid
	}{
		{"sample", func(*Event) {}, ""},
		{"type of 128 bytes", func(e *Event) { e.Type = strings.Repeat("t", MaxTypeLen) }, ""},
		{"device of 128 bytes", func(e *Event) { e.Device = strings.Repeat("d", MaxDeviceLen) }, ""},
		{"first event", func(e *Event) { e.Seq, e.Prev = 1, Hash{} }, ""},
		{"no blobs", func(e *Event) { e.Blobs = nil }, ""},
		{"max blobs", func(e *Event) { e.Blobs = many[:MaxBlobs] }, ""},
		{"empty payload object", func(e *Event) { e.Payload = json.RawMessage(`{}`) }, ""},
		{"payload of MaxPayloadLen", func(e *Event) {
			e.Payload = json.RawMessage(`{"k":"` + strings.Repeat("a", MaxPayloadLen-8) + `"}`)
		}, ""},
		{"empty type", func(e *Event) { e.Type = "" }, "empty type"},
		{"type of 129 bytes", func(e *Event) { e.Type = strings.Repeat("t", MaxTypeLen+1) }, "type longer"},
		{"empty device", func(e *Event) { e.Device = "" }, "device"},
		{"device of 129 bytes", func(e *Event) { e.Device = strings.Repeat("d", MaxDeviceLen+1) }, "device"},
		{"seq 0", func(e *Event) { e.Seq = 0 }, "seq 0"},
		{"nil id", func(e *Event) { e.ID = uuid.Nil }, "UUIDv7"},
		{"UUIDv4", func(e *Event) { e.ID = uuid.MustParse("9b2f3c1e-7d4a-4e8b-9c6d-2f1a3b4c5d6e") }, "UUIDv7"},
		{"v7 with NCS variant", func(e *Event) { e.ID[8] &= 0x3f }, "UUIDv7"},
		{"v7 with Microsoft variant", func(e *Event) { e.ID[8] = 0xc0 | e.ID[8]&0x1f }, "UUIDv7"},
		{"seq 1 with prev", func(e *Event) { e.Seq = 1 }, "predecessor"},
		{"seq 2 without prev", func(e *Event) { e.Seq, e.Prev = 2, Hash{} }, "predecessor"},
		{"too many blobs", func(e *Event) { e.Blobs = many }, "blobs"},
		{"nil payload", func(e *Event) { e.Payload = nil }, "payload"},
		{"array payload", func(e *Event) { e.Payload = json.RawMessage(`[1]`) }, "payload"},
		{"string payload", func(e *Event) { e.Payload = json.RawMessage(`"{}"`) }, "payload"},
		{"leading space payload", func(e *Event) { e.Payload = json.RawMessage(` {}`) }, "payload"},
		{"unterminated payload", func(e *Event) { e.Payload = json.RawMessage(`{"a":1`) }, "payload"},
		{"two objects payload", func(e *Event) { e.Payload = json.RawMessage(`{}{}`) }, "payload"},
		{"payload over limit", func(e *Event) {
			e.Payload = json.RawMessage(`{"k":"` + strings.Repeat("a", MaxPayloadLen-7) + `"}`)
		}, "payload larger"},
		{"CIDv0 blob", func(e *Event) { e.Blobs[1] = testCIDv0(t, "v0") }, "CIDv1"},
		{"undefined blob", func(e *Event) { e.Blobs[0] = cid.Undef }, "blob 0"},
		{"oversize blob", func(e *Event) { e.Blobs[1] = longCID }, "blob 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := clone(sampleEvent(t))
			tt.mutate(e)
			err := e.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				// A valid event always survives the codec.
				got, err := Decode(e.AppendBinary(nil))
				if err != nil || !reflect.DeepEqual(got, e) {
					t.Fatalf("valid event does not round-trip: %v", err)
				}
				return
			}
			wantInvalid(t, err, tt.want)
		})
	}
}

func TestToJSON(t *testing.T) {
	e := sampleEvent(t)
	j := e.ToJSON()
	want := JSON{
		EventID: e.ID.String(), DeviceID: e.Device, Seq: 42, TS: 1_700_000_000_123, Type: "page.view",
		Schema: 3, Payload: e.Payload, Blobs: []string{e.Blobs[0].String(), e.Blobs[1].String()},
		Prev: e.Prev.String(), HLC: "1700000000007.0007", // the id's first 8 bytes
	}
	if !reflect.DeepEqual(j, want) {
		t.Fatalf("got  %+v\nwant %+v", j, want)
	}
	b, err := json.Marshal(j)
	if err != nil || !json.Valid(b) {
		t.Fatalf("marshal: %v", err)
	}
	bare := &Event{ID: testID(1), Device: "d", Seq: 1, Type: "t"}
	b, err = json.Marshal(bare.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"payload":{}`) || !strings.Contains(s, `"blobs":[]`) ||
		!strings.Contains(s, `"prev":"`+strings.Repeat("0", 64)+`"`) {
		t.Fatalf("bare event JSON %s", s)
	}
}

func TestHashHelpers(t *testing.T) {
	var z Hash
	if !z.IsZero() || z.String() != strings.Repeat("0", 64) {
		t.Fatal("zero hash")
	}
	h := Hash{0: 0xab, 31: 0x01}
	if h.IsZero() || !strings.HasPrefix(h.String(), "ab00") || !strings.HasSuffix(h.String(), "01") {
		t.Fatalf("hash %s", h)
	}
}
