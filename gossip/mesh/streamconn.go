package mesh

import (
	"net"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// peerAddr is a net.Addr naming a peer: memberlist logs it and passes it
// back to the transport, which routes by peer ID.
type peerAddr peer.ID

// Network returns "libp2p".
func (a peerAddr) Network() string { return "libp2p" }

// String returns the peer ID.
func (a peerAddr) String() string { return peer.ID(a).String() }

// streamConn presents a libp2p stream as the net.Conn memberlist's stream
// transport wants. Deadlines, reads, writes and Close are the stream's.
type streamConn struct {
	network.Stream
}

// LocalAddr returns our peer ID.
func (c streamConn) LocalAddr() net.Addr { return peerAddr(c.Conn().LocalPeer()) }

// RemoteAddr returns the remote peer ID.
func (c streamConn) RemoteAddr() net.Addr { return peerAddr(c.Conn().RemotePeer()) }

var (
	_ net.Addr = peerAddr("")
	_ net.Conn = streamConn{}
)
