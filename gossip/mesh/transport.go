package mesh

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

const (
	// maxPacket bounds an inbound memberlist packet. Memberlist builds
	// packets to fit UDPBufferSize (1400 bytes), so this is generous.
	maxPacket = 64 << 10
	// maxSends bounds outbound packets in flight; beyond it packets are
	// dropped, as a UDP socket would.
	maxSends = 256
	// packetReadTimeout bounds reading one inbound packet.
	packetReadTimeout = 5 * time.Second
)

// errTransportClosed is returned by dials once the transport has shut down.
var errTransportClosed = errors.New("mesh: memberlist transport closed")

// transport carries memberlist over libp2p: every packet is one short
// libp2p stream on the packet protocol carrying one length-prefixed frame
// (closed once read), and every
// memberlist stream is a libp2p stream on the stream protocol. Nodes are
// addressed by name, which is their peer ID; memberlist's IP and port are
// placeholders. Sends never block memberlist: each runs in its own
// goroutine, bounded by sendTimeout and by maxSends in flight; like UDP,
// a packet that cannot be sent is dropped, not reported.
type transport struct {
	host        host.Host
	packetProto protocol.ID
	streamProto protocol.ID
	sendTimeout time.Duration
	log         *slog.Logger

	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	sends    chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup
}

func newTransport(h host.Host, packetProto, streamProto protocol.ID, sendTimeout time.Duration, log *slog.Logger) *transport {
	t := &transport{
		host:        h,
		packetProto: packetProto,
		streamProto: streamProto,
		sendTimeout: sendTimeout,
		log:         log,
		packetCh:    make(chan *memberlist.Packet),
		streamCh:    make(chan net.Conn),
		sends:       make(chan struct{}, maxSends),
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	h.SetStreamHandler(packetProto, t.handlePacket)
	h.SetStreamHandler(streamProto, t.handleStream)
	return t
}

// FinalAdvertiseAddr returns the placeholder address: routing is by name.
func (t *transport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return placeholder.IP, placeholder.Port, nil
}

// WriteTo sends a packet to the node whose peer ID is addr.
func (t *transport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress sends a packet to the node named in a, asynchronously.
func (t *transport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	id, err := addressPeer(a)
	if err != nil {
		return time.Time{}, err
	}
	select {
	case t.sends <- struct{}{}:
	default:
		t.log.Debug("memberlist packet dropped: too many in flight", "peer", id)
		return time.Now(), nil
	}
	frame := binary.AppendUvarint(make([]byte, 0, len(b)+binary.MaxVarintLen32), uint64(len(b)))
	frame = append(frame, b...)
	if !t.spawn(func() { t.send(id, frame) }) {
		<-t.sends // shut down: dropped, like a packet to a closed socket
	}
	return time.Now(), nil
}

// send delivers one framed packet on a new stream.
func (t *transport) send(id peer.ID, frame []byte) {
	defer func() { <-t.sends }()
	ctx, cancel := context.WithTimeout(t.ctx, t.sendTimeout)
	defer cancel()
	s, err := t.host.NewStream(ctx, id, t.packetProto)
	if err != nil {
		t.log.Debug("memberlist packet: open stream", "peer", id, "err", err)
		return
	}
	deadline, _ := ctx.Deadline()
	_ = s.SetDeadline(deadline)
	if _, err := s.Write(frame); err != nil {
		t.log.Debug("memberlist packet: write", "peer", id, "err", err)
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

// handlePacket reads one framed packet (uvarint length, then the bytes)
// and hands it to memberlist without waiting for the sender to close.
func (t *transport) handlePacket(s network.Stream) {
	_ = s.SetReadDeadline(time.Now().Add(packetReadTimeout))
	buf, err := readFrame(bufio.NewReaderSize(s, 64))
	now := time.Now()
	if err != nil {
		t.log.Debug("memberlist packet rejected", "peer", s.Conn().RemotePeer(), "err", err)
		_ = s.Reset()
		return
	}
	_ = s.Close()
	p := &memberlist.Packet{Buf: buf, From: peerAddr(s.Conn().RemotePeer()), Timestamp: now}
	select {
	case t.packetCh <- p:
	case <-t.ctx.Done():
	}
}

// readFrame reads a uvarint length of at most maxPacket and that many bytes.
func readFrame(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxPacket {
		return nil, fmt.Errorf("mesh: packet of %d bytes exceeds %d", n, maxPacket)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func (t *transport) handleStream(s network.Stream) {
	select {
	case t.streamCh <- streamConn{s}:
	case <-t.ctx.Done():
		_ = s.Reset()
	}
}

// PacketCh returns the inbound packets.
func (t *transport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

// StreamCh returns the inbound streams.
func (t *transport) StreamCh() <-chan net.Conn { return t.streamCh }

// DialTimeout opens a stream to the node whose peer ID is addr.
func (t *transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout opens a stream to the node named in a.
func (t *transport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	id, err := addressPeer(a)
	if err != nil {
		return nil, err
	}
	if t.ctx.Err() != nil {
		return nil, errTransportClosed
	}
	ctx, cancel := context.WithTimeout(t.ctx, timeout)
	defer cancel()
	s, err := t.host.NewStream(ctx, id, t.streamProto)
	if err != nil {
		return nil, fmt.Errorf("mesh: memberlist stream to %s: %w", id, err)
	}
	return streamConn{s}, nil
}

// Shutdown stops the transport: in-flight sends are cancelled and waited
// for, and inbound streams are refused. It is idempotent.
func (t *transport) Shutdown() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	t.host.RemoveStreamHandler(t.packetProto)
	t.host.RemoveStreamHandler(t.streamProto)
	t.wg.Wait()
	return nil
}

// spawn runs f in a goroutine Shutdown waits for, unless already shut down.
func (t *transport) spawn(f func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
	return true
}

// addressPeer returns the peer a memberlist address names: its Name, or
// else its Addr if that is a peer ID.
func addressPeer(a memberlist.Address) (peer.ID, error) {
	name := a.Name
	if name == "" {
		name = a.Addr
	}
	id, err := peer.Decode(name)
	if err != nil {
		return "", fmt.Errorf("mesh: memberlist address %s names no peer: %w", a.String(), err)
	}
	return id, nil
}

var _ memberlist.NodeAwareTransport = (*transport)(nil)
