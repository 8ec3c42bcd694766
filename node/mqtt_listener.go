package node

import (
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// tcpListener is mochi's TCP listener with its client shutdown done
// without Clients.GetByListener. That method read-locks the client map
// twice (it calls Len under its own read lock): a client connecting or
// leaving between the two queues a writer, and the second read lock waits
// behind it forever (mochi-mqtt/server#488, unfixed in v2.7.9). The
// broker's Close then hung the node's shutdown; TestMQTTIngest caught it
// once in make test.
type tcpListener struct {
	*listeners.TCP
	srv *mqtt.Server
}

// Close stops listening and disconnects the listener's clients, listing
// them under a single read lock.
func (l tcpListener) Close(listeners.CloseFn) {
	l.TCP.Close(func(id string) {
		for _, cl := range l.srv.Clients.GetAll() {
			if cl.Net.Listener == id && !cl.Closed() {
				_ = l.srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
			}
		}
	})
}
