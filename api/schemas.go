package api

import (
	"fmt"
	"net/http"

	"github.com/rumor-sync/rumor/event"
)

// payloadError is an ingest request's event whose payload fails the
// schema registry: 400 with the event's index in the request and the JSON
// pointer of the failing field.
type payloadError struct {
	Error   string `json:"error"`
	Index   int    `json:"event_index"`
	Pointer string `json:"pointer"`
}

// checkPayloads runs Config.CheckPayload on every input, answering 400
// for the first that fails. It reports whether all passed.
func (s *Server) checkPayloads(w http.ResponseWriter, inputs []event.Input) bool {
	if s.cfg.CheckPayload == nil {
		return true
	}
	for i := range inputs {
		in := &inputs[i]
		err := s.cfg.CheckPayload(in.Type, in.Schema, in.Payload)
		if err == nil {
			continue
		}
		body := payloadError{Error: fmt.Sprintf("event %d: %v", i, err), Index: i}
		if p, ok := err.(interface{ JSONPointer() string }); ok {
			body.Pointer = p.JSONPointer()
		}
		writeJSON(w, http.StatusBadRequest, body)
		return false
	}
	return true
}
