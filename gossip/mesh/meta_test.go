package mesh

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hashicorp/memberlist"
	"github.com/multiformats/go-multiaddr"
)

func mas(t testing.TB, ss ...string) []multiaddr.Multiaddr {
	t.Helper()
	out := make([]multiaddr.Multiaddr, len(ss))
	for i, s := range ss {
		out[i] = multiaddr.StringCast(s)
	}
	return out
}

func TestMetaRoundTrip(t *testing.T) {
	in := nodeMeta{Role: RoleSink, Addrs: mas(t,
		"/ip4/127.0.0.1/tcp/4001", "/ip4/192.168.1.20/tcp/4001", "/ip6/fe80::1/tcp/4001")}
	b := in.encode(memberlist.MetaMaxSize)
	got, err := decodeMeta(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/ip4/192.168.1.20/tcp/4001", "/ip6/fe80::1/tcp/4001", "/ip4/127.0.0.1/tcp/4001"}
	if got.Role != RoleSink || !slices.Equal(strs(got.Addrs), want) {
		t.Fatalf("decode(encode) = %v %v; want sink %v", got.Role, strs(got.Addrs), want)
	}
}

func TestMetaFitsLimitDroppingLoopbackFirst(t *testing.T) {
	var addrs []string
	for i := range 100 {
		addrs = append(addrs, fmt.Sprintf("/ip4/10.0.%d.1/tcp/4001", i))
	}
	addrs = append([]string{"/ip4/127.0.0.1/tcp/4001"}, addrs...)
	b := nodeMeta{Role: RoleDevice, Addrs: mas(t, addrs...)}.encode(memberlist.MetaMaxSize)
	if len(b) > memberlist.MetaMaxSize {
		t.Fatalf("encoded %d bytes, limit %d", len(b), memberlist.MetaMaxSize)
	}
	got, err := decodeMeta(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Addrs) < 40 || slices.ContainsFunc(got.Addrs, isLoopback) {
		t.Fatalf("kept %d addresses (loopback among them: %v)", len(got.Addrs), slices.ContainsFunc(got.Addrs, isLoopback))
	}
}

func TestDecodeMetaRejects(t *testing.T) {
	good := nodeMeta{Role: "device", Addrs: mas(t, "/ip4/10.0.0.1/tcp/1")}.encode(512)
	tests := map[string][]byte{
		"empty":            nil,
		"version only":     {metaVersion},
		"unknown version":  append([]byte{9}, good[1:]...),
		"role too long":    {metaVersion, 40},
		"role bad chars":   {metaVersion, 2, 'a', '/'},
		"empty role":       {metaVersion, 0},
		"addr length over": good[:len(good)-1],
		"bad multiaddr":    {metaVersion, 1, 'd', 3, 0xff, 0xff, 0xff},
		"bad varint":       {metaVersion, 1, 'd', 0xff},
	}
	for name, b := range tests {
		if m, err := decodeMeta(b); !errors.Is(err, errMeta) {
			t.Errorf("%s: decodeMeta(%x) = %+v, %v; want errMeta", name, b, m, err)
		}
	}
}

func FuzzDecodeMeta(f *testing.F) {
	f.Add(nodeMeta{Role: "device", Addrs: mas(f, "/ip4/10.0.0.1/tcp/1", "/ip6/::1/tcp/2")}.encode(512))
	f.Add([]byte{metaVersion, 1, 'd'})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			return
		}
		again, err := decodeMeta(m.encode(len(b) + 16))
		if err != nil || again.Role != m.Role || !slices.Equal(strs(again.Addrs), strs(dialOrder(m.Addrs))) {
			t.Fatalf("re-encoding %+v gave %+v, %v", m, again, err)
		}
	})
}

func strs(addrs []multiaddr.Multiaddr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}
