package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/store"
)

// Redactor redacts events for DELETE /v1/events/{id}. *store.Store
// implements it; see store.Store.Redact for its errors.
type Redactor interface {
	// Redact redacts the event with the given id as this node's device and
	// returns the redaction and the redaction event's ack once durable.
	Redact(ctx context.Context, id uuid.UUID) (*event.Redaction, store.Ack, error)
}

// RedactionJSON is the answer of DELETE /v1/events/{id}: the redacted
// event's dot and id, who redacted it and when, and the redaction event
// that carries the redaction to the mesh (null when the event was already
// redacted: its redaction may have come from a peer).
type RedactionJSON struct {
	EventID    string   `json:"event_id"`
	DeviceID   string   `json:"device_id"`
	Seq        uint64   `json:"seq"`
	Redacted   bool     `json:"redacted"`
	RedactedBy string   `json:"redacted_by"`
	RedactedAt int64    `json:"redacted_at"`
	Redaction  *ackJSON `json:"redaction"`
}

// deleteEvent redacts an event: 202 with the redaction event's dot once it
// is durable and in effect here (it reaches the peers asynchronously), 200
// if the event was already redacted (idempotent), 403 if this device may
// not redact it (neither its origin nor an --operator), 404 if the event is
// not held here, 409 for a redaction event (a redaction cannot be undone).
func (s *Server) deleteEvent(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Redactor == nil {
		writeError(w, http.StatusNotFound, "redaction is not available on this node")
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("event id %q is not a UUID", r.PathValue("id")))
		return
	}
	red, ack, err := s.cfg.Redactor.Redact(r.Context(), id)
	switch {
	case err == nil:
		out := redactionJSON(red)
		out.Redaction = &ackJSON{EventID: ack.EventID.String(), DeviceID: ack.DeviceID, Seq: ack.Seq}
		writeJSON(w, http.StatusAccepted, out)
	case errors.Is(err, store.ErrAlreadyRedacted):
		writeJSON(w, http.StatusOK, redactionJSON(red))
	case errors.Is(err, event.ErrNotAllowed):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, store.ErrNotRedactable), errors.Is(err, event.ErrInvalid): // a redaction event; a type that is not UTF-8
		writeError(w, http.StatusConflict, err.Error())
	default:
		s.storeError(w, r, err)
	}
}

func redactionJSON(r *event.Redaction) RedactionJSON {
	return RedactionJSON{EventID: r.ID.String(), DeviceID: r.Device, Seq: r.Seq, Redacted: true,
		RedactedBy: r.Redactor, RedactedAt: r.At}
}

// checkReserved refuses inputs of the reserved redaction type: a client
// redacts with DELETE, never by posting a redaction event.
func checkReserved(inputs []event.Input) error {
	for i := range inputs {
		if inputs[i].Type == event.RedactionType {
			if len(inputs) > 1 {
				return fmt.Errorf("event %d: %w", i+1, store.ErrReservedType)
			}
			return store.ErrReservedType
		}
	}
	return nil
}
