package mesh

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// metaVersion is the first byte of every encoded nodeMeta.
const metaVersion = 1

// errMeta is wrapped by every decodeMeta error.
var errMeta = errors.New("mesh: bad node meta")

// nodeMeta is what a node advertises in its memberlist node metadata: its
// role and the addresses it can be dialled on (without the /p2p part,
// since the memberlist node name is the peer ID).
//
// Encoding: version byte (1), role length byte, role, then for each
// address a uvarint length and the multiaddr's binary form. The whole must
// fit memberlist.MetaMaxSize (512 bytes); encode drops addresses that do
// not fit, loopback ones first.
type nodeMeta struct {
	Role  string
	Addrs []multiaddr.Multiaddr
}

// encode returns m in at most limit bytes.
func (m nodeMeta) encode(limit int) []byte {
	buf := make([]byte, 0, limit)
	buf = append(buf, metaVersion, byte(len(m.Role)))
	buf = append(buf, m.Role...)
	for _, a := range dialOrder(m.Addrs) {
		b := a.Bytes()
		if len(buf)+binary.MaxVarintLen16+len(b) > limit {
			continue
		}
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		buf = append(buf, b...)
	}
	return buf
}

// decodeMeta parses the output of encode, validating every address.
func decodeMeta(b []byte) (nodeMeta, error) {
	var m nodeMeta
	if len(b) < 2 || b[0] != metaVersion {
		return m, fmt.Errorf("%w: missing or unknown version", errMeta)
	}
	n := int(b[1])
	b = b[2:]
	if n > len(b) || !validToken(string(b[:n]), "-") {
		return m, fmt.Errorf("%w: bad role", errMeta)
	}
	m.Role, b = string(b[:n]), b[n:]
	for len(b) > 0 {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nodeMeta{}, fmt.Errorf("%w: bad address length", errMeta)
		}
		a, err := multiaddr.NewMultiaddrBytes(b[k : k+int(l)])
		if err != nil {
			return nodeMeta{}, fmt.Errorf("%w: %w", errMeta, err)
		}
		m.Addrs = append(m.Addrs, a)
		b = b[k+int(l):]
	}
	return m, nil
}

// dialOrder returns addrs with loopback addresses last, so that when the
// metadata is full it is the least useful addresses that are dropped.
func dialOrder(addrs []multiaddr.Multiaddr) []multiaddr.Multiaddr {
	out := slices.Clone(addrs)
	slices.SortStableFunc(out, func(a, b multiaddr.Multiaddr) int {
		return boolInt(isLoopback(a)) - boolInt(isLoopback(b))
	})
	return out
}

func isLoopback(a multiaddr.Multiaddr) bool {
	ip, err := manet.ToIP(a)
	return err == nil && ip.IsLoopback()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// placeholder is the IP and port every node advertises to memberlist. The
// transport routes by node name (the peer ID), so they are never dialled;
// they only satisfy memberlist's address fields.
var placeholder = struct {
	IP   net.IP
	Port int
}{net.IPv4(127, 0, 0, 1), 1}
