package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEventsRedact(t *testing.T) {
	n := runNode(t, "--offline")
	var ack struct {
		Events []struct {
			EventID string `json:"event_id"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(n.must(t, "", "emit", "door.open", `{"who":"alice","value":1}`, "--json")), &ack); err != nil {
		t.Fatal(err)
	}
	id := ack.Events[0].EventID
	if out := n.must(t, "", "events", "redact", id); !strings.HasPrefix(out, "redacted event "+id+" (") {
		t.Fatalf("redact printed %q", out)
	}
	if out := n.must(t, "", "events", "redact", id); !strings.Contains(out, "was already redacted by "+n.id) {
		t.Fatalf("second redact printed %q", out)
	}
	list := n.must(t, "", "events")
	if strings.Contains(list, "alice") || !strings.Contains(list, "(redacted by") || !strings.Contains(list, "rumor.redaction") {
		t.Fatalf("events after redaction:\n%s", list)
	}
	if js := n.must(t, "", "events", "--json", "--type", "door.open"); !strings.Contains(js, `"redacted":true`) {
		t.Fatalf("events --json: %s", js)
	}
	n.fails(t, `"x" is not an event id (a UUID)`, "events", "redact", "x")
	n.fails(t, "store: not found: event 019ab3c4-0000-7000-8000-000000000000", "events", "redact", "019ab3c4-0000-7000-8000-000000000000")
}

func TestNodeRejectsBadOperator(t *testing.T) {
	err := run(t.Context(), []string{"node", "--offline", "--data", t.TempDir(), "--operator", "nope"}, strings.NewReader(""), new(strings.Builder), new(strings.Builder))
	if err == nil || !strings.Contains(err.Error(), `operator "nope" is not a device id`) {
		t.Fatalf("got %v", err)
	}
}
