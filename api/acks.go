package api

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/rumor-sync/rumor/store"
)

// ackJSON is one entry of the ingest response, as encoding/json would
// write it; appendAcks writes the same bytes without reflection.
type ackJSON struct {
	EventID  string `json:"event_id"`
	DeviceID string `json:"device_id"`
	Seq      uint64 `json:"seq"`
}

// writeAcks answers an ingest with its acks: {"events":[...]}. A 1,000
// event batch's answer took encoding/json a sixth of the request's CPU.
func writeAcks(w http.ResponseWriter, acks []store.Ack) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(appendAcks(make([]byte, 0, 16+len(acks)*128), acks))
}

// appendAcks appends the JSON of the ingest response, byte for byte what
// writeJSON(map[string]any{"events": []ackJSON}) writes, newline included.
func appendAcks(b []byte, acks []store.Ack) []byte {
	b = append(b, `{"events":[`...)
	var device string
	var quoted []byte // device, quoted: a batch's acks share one
	for i, a := range acks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"event_id":"`...)
		b = appendUUID(b, a.EventID)
		b = append(b, `","device_id":`...)
		if quoted == nil || a.DeviceID != device {
			device, quoted = a.DeviceID, appendJSONString(nil, a.DeviceID)
		}
		b = append(b, quoted...)
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, a.Seq, 10)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

// appendUUID appends id in its canonical 8-4-4-4-12 hex form.
func appendUUID(b []byte, id [16]byte) []byte {
	var s [36]byte
	hex.Encode(s[0:8], id[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], id[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], id[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], id[8:10])
	s[23] = '-'
	hex.Encode(s[24:], id[10:16])
	return append(b, s[:]...)
}

// appendJSONString appends s quoted as encoding/json quotes it: as it is
// when every byte is printable ASCII that needs no escape (a peer ID
// always is), through encoding/json otherwise.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
