package mesh

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/hashicorp/memberlist"
)

func TestAddressPeer(t *testing.T) {
	id := "12D3KooWHGMzQp4L7mJL1NtrNPXziqdHUGi31hQYXDqgdoxHYCUc"
	for _, a := range []memberlist.Address{
		{Name: id, Addr: "127.0.0.1:1"},
		{Addr: id},
	} {
		if p, err := addressPeer(a); err != nil || p.String() != id {
			t.Errorf("addressPeer(%v) = %v, %v", a, p, err)
		}
	}
	if _, err := addressPeer(memberlist.Address{Addr: "127.0.0.1:1"}); err == nil {
		t.Error("an address without a peer ID resolved")
	}
}

func TestReadFrame(t *testing.T) {
	frame := func(n uint64, body []byte) []byte {
		return append(binary.AppendUvarint(nil, n), body...)
	}
	tests := []struct {
		name string
		in   []byte
		want []byte
		ok   bool
	}{
		{"packet", frame(3, []byte("abc")), []byte("abc"), true},
		{"empty packet", frame(0, nil), []byte{}, true},
		{"largest", frame(maxPacket, make([]byte, maxPacket)), make([]byte, maxPacket), true},
		{"too large", frame(maxPacket+1, make([]byte, maxPacket+1)), nil, false},
		{"short body", frame(5, []byte("abc")), nil, false},
		{"no length", nil, nil, false},
		{"bad varint", bytes.Repeat([]byte{0xff}, 11), nil, false},
	}
	for _, tt := range tests {
		got, err := readFrame(bufio.NewReader(bytes.NewReader(tt.in)))
		if tt.ok != (err == nil) || (tt.ok && !bytes.Equal(got, tt.want)) {
			t.Errorf("%s: readFrame = %d bytes, %v; want ok=%v", tt.name, len(got), err, tt.ok)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(append(binary.AppendUvarint(nil, 3), "abc"...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := readFrame(bufio.NewReader(bytes.NewReader(b)))
		if err == nil && len(got) > maxPacket {
			t.Fatalf("read %d bytes, limit %d", len(got), maxPacket)
		}
	})
}
