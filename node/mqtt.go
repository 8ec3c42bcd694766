package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/rumor-sync/rumor/event"
	"github.com/rumor-sync/rumor/internal/jsonscan"
	"github.com/rumor-sync/rumor/store"
)

// MQTTTopic is the topic prefix the broker ingests: a PUBLISH to
// MQTTTopic + "/<type>" whose body is a JSON object becomes one event of
// that type with that payload. Every other topic is plain MQTT.
const MQTTTopic = "rumor/events"

// Reasons an MQTT message is rejected, as counted in MQTTStats.Rejected.
const (
	RejectTopic     = "topic"      // no event type in the topic, or one too long
	RejectMalformed = "malformed"  // the body is not JSON
	RejectNotObject = "not_object" // the body is JSON but not an object
	RejectInvalid   = "invalid"    // the event fails validation (e.g. too large)
	RejectSchema    = "schema"     // the payload fails the schema registry (--schemas)
	RejectStore     = "store"      // the store failed to take it (shutting down)
)

var rejectReasons = [...]string{RejectTopic, RejectMalformed, RejectNotObject, RejectInvalid, RejectSchema, RejectStore}

// MQTTStats counts what the MQTT broker did with messages on MQTTTopic
// since the node started.
type MQTTStats struct {
	Received uint64            // messages published under MQTTTopic
	Ingested uint64            // of those, durably stored as events
	Rejected map[string]uint64 // the others, by reason (Reject* constants)
}

// ingester is what the broker needs of the store.
type ingester interface {
	Ingest(ctx context.Context, inputs []event.Input) ([]store.Ack, error)
}

var _ ingester = (*store.Store)(nil)

// broker is the embedded MQTT broker: mochi-mqtt with a hook that turns
// messages on MQTTTopic into events.
type broker struct {
	srv  *mqtt.Server
	addr string
	hook *ingestHook
}

// startBroker listens on addr and serves MQTT until close. ctx is only for
// its values: ingest runs to completion even while the node shuts down,
// so that a message is either acknowledged and stored or neither.
func startBroker(ctx context.Context, addr string, maxPacket int64, st ingester, check payloadCheck, log *slog.Logger) (*broker, error) {
	log = log.With("component", "mqtt")
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(min(maxPacket, math.MaxUint32))
	srv := mqtt.New(&mqtt.Options{
		Capabilities: caps,
		// mochi logs every start step at info; keep its warnings only.
		Logger: slog.New(minLevel{log.Handler(), slog.LevelWarn}),
	})
	hook := &ingestHook{ctx: context.WithoutCancel(ctx), store: st, check: check, log: log}
	if err := srv.AddHook(hook, nil); err != nil {
		return nil, fmt.Errorf("node: mqtt: %w", err)
	}
	ln := tcpListener{listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr}), srv}
	if err := srv.AddListener(ln); err != nil {
		srv.Close()
		return nil, fmt.Errorf("node: mqtt: listen on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("node: mqtt: %w", err)
	}
	b := &broker{srv: srv, addr: ln.Address(), hook: hook}
	log.Info("mqtt broker listening", "addr", b.addr, "topic", MQTTTopic+"/<type>")
	return b, nil
}

// close disconnects every client and stops listening. It returns once no
// message is being processed any more.
func (b *broker) close() error { return b.srv.Close() }

// ingestHook stores the messages published under MQTTTopic. mochi calls
// OnPublish from the client's read loop before it acknowledges, so a QoS 1
// PUBACK (QoS 2 PUBREC) goes out only after Ingest returned: after the
// event is durable.
type ingestHook struct {
	mqtt.HookBase
	ctx      context.Context
	store    ingester
	check    payloadCheck // nil: no schema registry
	log      *slog.Logger
	received atomic.Uint64
	ingested atomic.Uint64
	rejected [len(rejectReasons)]atomic.Uint64
}

func (h *ingestHook) ID() string { return "rumor-ingest" }

func (h *ingestHook) Provides(b byte) bool {
	return b == mqtt.OnPublish || b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

// OnConnectAuthenticate lets every client in: the broker is as open as the
// HTTP API, so bind it to an address only trusted devices reach.
func (h *ingestHook) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

// OnACLCheck lets every client publish and subscribe to every topic.
func (h *ingestHook) OnACLCheck(*mqtt.Client, string, bool) bool { return true }

// OnPublish ingests a message on MQTTTopic and passes every other one on.
func (h *ingestHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	typ, ours := topicType(pk.TopicName)
	if !ours {
		return pk, nil
	}
	h.received.Add(1)
	in, reason, err := mqttInput(typ, pk.Payload)
	if err == nil && h.check != nil {
		if err = h.check(in.Type, in.Schema, in.Payload); err != nil {
			reason = RejectSchema
		}
	}
	if err == nil {
		if _, err = h.store.Ingest(h.ctx, []event.Input{in}); err == nil {
			h.ingested.Add(1)
			return pk, nil // acknowledged and forwarded to subscribers by mochi
		}
		reason = RejectStore
	}
	h.count(reason)
	h.log.Warn("mqtt message rejected", "client", cl.ID, "topic", pk.TopicName, "qos", pk.FixedHeader.Qos,
		"reason", reason, "err", err)
	return pk, h.reject(cl, pk, reason, err)
}

// reject answers a message that was not stored, keeping the connection up
// unless the client would otherwise believe a failed store succeeded.
// It returns the error that tells mochi what to do next.
func (h *ingestHook) reject(cl *mqtt.Client, pk packets.Packet, reason string, err error) error {
	qos := pk.FixedHeader.Qos
	switch {
	case qos == 0:
		return packets.CodeSuccessIgnore // nothing to answer; not forwarded
	case cl.Properties.ProtocolVersion >= 5:
		// MQTT 5: a negative PUBACK (PUBREC for QoS 2) with a reason.
		ack := packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Puback},
			PacketID:    pk.PacketID,
			ReasonCode:  reasonCode(reason).Code,
			Properties:  packets.Properties{ReasonString: err.Error()},
		}
		if qos == 2 {
			ack.FixedHeader.Type = packets.Pubrec
		}
		if werr := cl.WritePacket(ack); werr != nil {
			h.log.Debug("mqtt: writing negative ack", "client", cl.ID, "err", werr)
		}
		return packets.ErrRejectPacket // mochi sends nothing more
	case reason == RejectStore:
		// MQTT 3 cannot refuse a message: drop the connection without an
		// ack so that the client delivers it again.
		cl.Stop(err)
		return packets.ErrRejectPacket
	default:
		// MQTT 3 cannot refuse a message: acknowledge it so the client
		// moves on, but neither store nor forward it.
		return packets.CodeSuccessIgnore
	}
}

func (h *ingestHook) count(reason string) {
	for i, r := range rejectReasons {
		if r == reason {
			h.rejected[i].Add(1)
			return
		}
	}
	panic("node: unknown MQTT reject reason " + reason)
}

func (h *ingestHook) stats() MQTTStats {
	s := MQTTStats{Received: h.received.Load(), Ingested: h.ingested.Load(), Rejected: map[string]uint64{}}
	for i, r := range rejectReasons {
		s.Rejected[r] = h.rejected[i].Load()
	}
	return s
}

// reasonCode is the MQTT 5 reason code for a reject reason.
func reasonCode(reason string) packets.Code {
	switch reason {
	case RejectTopic:
		return packets.ErrTopicNameInvalid
	case RejectStore:
		return packets.ErrServerUnavailable
	}
	return packets.ErrPayloadFormatInvalid
}

// topicType returns the event type of a topic under MQTTTopic, and
// whether the topic is under MQTTTopic at all. "rumor/events" itself is
// ours, with an empty (invalid) type.
func topicType(topic string) (typ string, ours bool) {
	if topic == MQTTTopic {
		return "", true
	}
	return strings.CutPrefix(topic, MQTTTopic+"/")
}

// mqttInput builds the event input for a message of type typ with body,
// applying exactly the checks of the HTTP API (event.ParseInput). On
// failure it returns the reject reason and an error for the client.
func mqttInput(typ string, body []byte) (event.Input, string, error) {
	switch {
	case typ == "":
		return event.Input{}, RejectTopic, errors.New("no event type in the topic: publish to " + MQTTTopic + "/<type>")
	case len(typ) > event.MaxTypeLen:
		return event.Input{}, RejectTopic, fmt.Errorf("event type in the topic is longer than %d bytes", event.MaxTypeLen)
	case !utf8.ValidString(typ):
		return event.Input{}, RejectTopic, errors.New("event type in the topic is not UTF-8")
	case typ == event.RedactionType:
		return event.Input{}, RejectTopic, fmt.Errorf("event type %q is reserved for redactions", typ)
	}
	body = bytes.TrimSpace(body)
	if !jsonscan.Valid(body) {
		return event.Input{}, RejectMalformed, errors.New("message is not JSON: publish one JSON object, the event's payload")
	}
	if body[0] != '{' {
		return event.Input{}, RejectNotObject, errors.New("message is not a JSON object: publish one JSON object, the event's payload")
	}
	quoted, err := json.Marshal(typ)
	if err != nil {
		return event.Input{}, RejectTopic, err
	}
	wire := make([]byte, 0, len(body)+len(quoted)+24)
	wire = append(append(append(wire, `{"type":`...), quoted...), `,"payload":`...)
	wire = append(append(wire, body...), '}')
	in, err := event.ParseInput(wire)
	if err != nil {
		return event.Input{}, RejectInvalid, err
	}
	return in, "", nil
}

// minLevel drops records below a level before they reach a handler.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(as), m.min}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{m.Handler.WithGroup(name), m.min}
}

// startMQTT starts the broker when cfg.MQTTAddr is set.
func (n *Node) startMQTT(ctx context.Context) error {
	if n.cfg.MQTTAddr == "" {
		return nil
	}
	st := observedStore{n.store, n.metrics, n.cfg.Clock} // timed like HTTP ingest
	b, err := startBroker(ctx, n.cfg.MQTTAddr, n.cfg.MaxBody, st, n.payloadCheck(), n.log)
	if err != nil {
		return err
	}
	n.netMu.Lock()
	n.mqtt = b
	n.netMu.Unlock()
	return nil
}

// stopMQTT closes the broker, if running, waiting for in-flight messages.
func (n *Node) stopMQTT() error {
	n.netMu.Lock()
	b := n.mqtt
	n.mqtt = nil
	n.netMu.Unlock()
	if b == nil {
		return nil
	}
	return b.close()
}

func (n *Node) broker() *broker {
	n.netMu.Lock()
	defer n.netMu.Unlock()
	return n.mqtt
}

// MQTTAddr returns the address the MQTT broker listens on, or "" when it
// is not running.
func (n *Node) MQTTAddr() string {
	if b := n.broker(); b != nil {
		return b.addr
	}
	return ""
}

// MQTTStats returns the MQTT ingest counters; zero when the broker is not
// running.
func (n *Node) MQTTStats() MQTTStats {
	if b := n.broker(); b != nil {
		return b.hook.stats()
	}
	return MQTTStats{Rejected: map[string]uint64{}}
}
