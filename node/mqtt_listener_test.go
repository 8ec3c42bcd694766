package node

import (
	"context"
	"testing"
	"time"

	"github.com/rumor-sync/rumor/event"
)

// TestMQTTListenerClosesItsClients checks the broker's listener shutdown:
// it disconnects its clients itself and never calls mochi's own client
// shutdown, which lists them through the Clients.GetByListener that can
// deadlock (tcpListener).
func TestMQTTListenerClosesItsClients(t *testing.T) {
	g := &gate{called: make(chan event.Input), release: make(chan error)}
	b, err := startBroker(context.Background(), "127.0.0.1:0", 1<<20, g, nil, logger())
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	c := dialMQTT(t, b.addr, nil)
	ln, ok := b.srv.Listeners.Get("tcp")
	if !ok {
		t.Fatal("no tcp listener")
	}
	if _, ok := ln.(tcpListener); !ok {
		t.Fatalf("the broker listens with %T, not tcpListener", ln)
	}
	ln.Close(func(string) { t.Error("the listener handed its clients to mochi's GetByListener shutdown") })
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the client is still connected after its listener closed")
	}
	for _, cl := range b.srv.Clients.GetAll() {
		if !cl.Closed() {
			t.Errorf("client %s still open", cl.ID)
		}
	}
}
