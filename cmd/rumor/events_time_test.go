package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestEventsInTimeOrder pages through the time-ordered view with the
// cursor the command prints on stderr.
func TestEventsInTimeOrder(t *testing.T) {
	n := runNode(t, "--offline")
	n.must(t, ndjsonLines(0, 5, "tick"), "emit", "--file", "-")
	page := func(args ...string) (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append(append([]string{"events", "--order", "time", "--limit", "3"}, args...), "--node", n.url)
		if err := run(context.Background(), args, strings.NewReader(""), &out, &errOut); err != nil {
			t.Fatalf("rumor %s: %v", strings.Join(args, " "), err)
		}
		return out.String(), errOut.String()
	}
	out, errOut := page()
	l := lines(out)
	if len(l) != 4 || !strings.HasPrefix(l[0], "HLC") || !strings.Contains(l[1], `{"i":0}`) || !strings.Contains(l[3], `{"i":2}`) {
		t.Fatalf("first page:\n%s", out)
	}
	cursor, ok := strings.CutPrefix(strings.TrimSpace(errOut), "next page: --cursor ")
	if !ok {
		t.Fatalf("no cursor on stderr: %q", errOut)
	}
	out, _ = page("--cursor", cursor)
	if l := lines(out); len(l) != 3 || !strings.Contains(l[1], `{"i":3}`) || !strings.Contains(l[2], `{"i":4}`) {
		t.Fatalf("second page:\n%s", out)
	}
	n.fails(t, "parameter cursor: not a valid cursor (pass a page's Rumor-Next-Cursor back unchanged)", "events", "--order", "time", "--cursor", "nope")
}
