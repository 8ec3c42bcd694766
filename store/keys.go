package store

import (
	"encoding/binary"
	"fmt"

	"github.com/rumor-sync/rumor/crdt"
)

// Badger key prefixes. Every key starts with one of these bytes.
const (
	prefixEvent   = 'e' // e | len(origin) | origin | first seq(8 BE) → run (see run.go)
	prefixID      = 'i' // i | id[0:6] (ms) | origin number (4 BE) | first seq (8 BE) → bucket (see idindex.go)
	prefixOrigin  = 'o' // o | origin → origin number (4 BE), assigned in order of first sight
	prefixContext = 'c' // c | origin → crdt.Context.EncodeOrigin
	prefixAgg     = 'a' // a | window | len(type) | type | start(8, sign-flipped BE) → crdt.Agg
	prefixSeal    = 's' // s | len(origin) | origin | seq(8 BE) → event.Seal
	prefixMeta    = 'm' // m | name → value
	// PrefixBlobs is the key prefix under which the node keeps its cas.Store.
	PrefixBlobs = 'b'
	// PrefixArchive is the key prefix under which a sink caches its
	// archived watermarks (sink.BadgerCache).
	PrefixArchive = 'w'
	// PrefixSinkState is the key prefix under which a sink keeps the state
	// of its redaction manifest and the blob references of what it
	// archived (sink.Ledger).
	PrefixSinkState = 'k'
)

var (
	keyCheckpoint = []byte("mcheckpoint")
	keyFormat     = []byte("mformat")
)

// formatVersion is the on-disk format this code writes and reads; Open
// migrates older ones (see migrate.go). 2: run values carry their received
// time. 3: the event_id index keeps buckets of events, not one key per
// event (idindex.go).
const formatVersion = 3

func originKey(prefix byte, origin string, extra int) []byte {
	k := make([]byte, 0, 2+len(origin)+extra)
	k = append(k, prefix, byte(len(origin)))
	return append(k, origin...)
}

func eventKey(d crdt.Dot) []byte {
	return binary.BigEndian.AppendUint64(originKey(prefixEvent, d.Origin, 8), d.Seq)
}

func decodeEventKey(k []byte) (crdt.Dot, error) {
	if len(k) < 2 || k[0] != prefixEvent || len(k) != 2+int(k[1])+8 {
		return crdt.Dot{}, fmt.Errorf("store: corrupt event key %x", k)
	}
	n := int(k[1])
	return crdt.Dot{Origin: string(k[2 : 2+n]), Seq: binary.BigEndian.Uint64(k[2+n:])}, nil
}

func contextKey(origin string) []byte { return append([]byte{prefixContext}, origin...) }

func sealKey(origin string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(originKey(prefixSeal, origin, 8), seq)
}

func aggPrefix(w crdt.Window, typ string) []byte {
	k := []byte{prefixAgg, byte(w), byte(len(typ))}
	return append(k, typ...)
}

func aggKey(k crdt.AggKey) []byte {
	return binary.BigEndian.AppendUint64(aggPrefix(k.Window, k.Type), uint64(k.Start)^(1<<63))
}

func decodeAggKey(b []byte) (crdt.AggKey, error) {
	if len(b) < 3 || b[0] != prefixAgg || len(b) != 3+int(b[2])+8 {
		return crdt.AggKey{}, fmt.Errorf("store: corrupt aggregate key %x", b)
	}
	n := int(b[2])
	start := int64(binary.BigEndian.Uint64(b[3+n:]) ^ (1 << 63))
	return crdt.AggKey{Type: string(b[3 : 3+n]), Window: crdt.Window(b[1]), Start: start}, nil
}

// checkpoint is the position in the log up to which badger is complete.
type checkpoint struct {
	segment uint32
	offset  int64
}

func (c checkpoint) encode() []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 12), c.segment)
	return binary.BigEndian.AppendUint64(b, uint64(c.offset))
}

func decodeCheckpoint(b []byte) (checkpoint, error) {
	if len(b) != 12 {
		return checkpoint{}, fmt.Errorf("store: corrupt checkpoint of %d bytes", len(b))
	}
	return checkpoint{binary.BigEndian.Uint32(b), int64(binary.BigEndian.Uint64(b[4:]))}, nil
}
