package event

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"strconv"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
	"pgregory.net/rapid"
)

// genCID draws a CID of any version, codec and hash that fits MaxCIDLen.
func genCID(t *rapid.T, label string) cid.Cid {
	data := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, label+".data")
	hash := rapid.SampledFrom([]uint64{mh.SHA2_256, mh.SHA2_512, mh.IDENTITY, mh.BLAKE3}).Draw(t, label+".hash")
	digest, err := mh.Sum(data, hash, -1)
	if err != nil {
		t.Fatal(err)
	}
	if hash == mh.SHA2_256 && rapid.Bool().Draw(t, label+".v0") {
		return cid.NewCidV0(digest)
	}
	codec := rapid.SampledFrom([]uint64{cid.Raw, cid.DagProtobuf, cid.DagCBOR, cid.DagJSON, 0x300001}).Draw(t, label+".codec")
	return cid.NewCidV1(codec, digest)
}

// genEvent draws an event that the codec can carry: every size within its
// limit, but no semantic rule enforced.
var genEvent = rapid.Custom(func(t *rapid.T) *Event {
	var e Event
	copy(e.ID[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "id"))
	e.Device = string(rapid.SliceOfN(rapid.Byte(), 0, MaxDeviceLen).Draw(t, "device"))
	e.Seq = rapid.Uint64().Draw(t, "seq")
	e.TS = rapid.Int64().Draw(t, "ts")
	e.Type = rapid.StringN(0, -1, MaxTypeLen).Draw(t, "type")
	e.Schema = rapid.Uint32().Draw(t, "schema")
	if p := rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, "payload"); len(p) > 0 {
		e.Payload = p
	}
	for i := range rapid.IntRange(0, 4).Draw(t, "blobs") {
		e.Blobs = append(e.Blobs, genCID(t, "blob"+strconv.Itoa(i)))
	}
	copy(e.Prev[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "prev"))
	return &e
})

func TestPropCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genEvent.Draw(t, "event")
		prefix := rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(t, "prefix")
		b := e.AppendBinary(append([]byte(nil), prefix...))
		if !bytes.Equal(b[:len(prefix)], prefix) {
			t.Fatal("prefix clobbered")
		}
		enc := b[len(prefix):]
		if e.EncodedLen() != len(enc) {
			t.Fatalf("EncodedLen %d, encoding %d", e.EncodedLen(), len(enc))
		}
		var got Event
		if err := got.UnmarshalBinary(enc); err != nil {
			t.Fatalf("UnmarshalBinary: %v", err)
		}
		if !reflect.DeepEqual(&got, e) {
			t.Fatalf("got  %+v\nwant %+v", got, *e)
		}
		if !bytes.Equal(got.AppendBinary(nil), enc) || got.Hash() != e.Hash() {
			t.Fatal("re-encoding differs")
		}
	})
}

// genJSON draws a JSON value of bounded depth built from types that
// encoding/json round-trips exactly.
func genJSON(depth int) *rapid.Generator[any] {
	leaves := []*rapid.Generator[any]{
		rapid.Map(rapid.String(), func(s string) any { return s }),
		rapid.Map(rapid.Int64(), func(n int64) any { return n }),
		rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		rapid.Just[any](nil),
	}
	if depth == 0 {
		return rapid.OneOf(leaves...)
	}
	inner := genJSON(depth - 1)
	return rapid.OneOf(append(leaves,
		rapid.Map(rapid.MapOfN(rapid.String(), inner, 0, 4), func(m map[string]any) any { return m }),
		rapid.Map(rapid.SliceOfN(inner, 0, 4), func(s []any) any { return s }),
	)...)
}

func TestPropParseInput(t *testing.T) {
	payloads := rapid.MapOfN(rapid.String(), genJSON(2), 0, 6)
	rapid.Check(t, func(t *rapid.T) {
		obj := map[string]any{}
		want := Input{Type: rapid.StringN(1, -1, MaxTypeLen).Draw(t, "type"), Schema: DefaultSchema, Payload: json.RawMessage(`{}`)}
		obj["type"] = want.Type
		if rapid.Bool().Draw(t, "has ts") {
			want.TS, want.HasTS = rapid.Int64().Draw(t, "ts"), true
			obj["ts"] = want.TS
		}
		if rapid.Bool().Draw(t, "has schema") {
			want.Schema = rapid.Uint32().Draw(t, "schema")
			obj["schema"] = want.Schema
		}
		if rapid.Bool().Draw(t, "has payload") {
			p := payloads.Draw(t, "payload")
			compact, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			obj["payload"], want.Payload = p, compact
		}
		if n := rapid.IntRange(0, 3).Draw(t, "blobs"); n > 0 {
			var strs []string
			for i := range n {
				c := genCID(t, "blob"+strconv.Itoa(i))
				if c.Version() == 0 {
					c = cid.NewCidV1(cid.DagProtobuf, c.Hash())
				}
				want.Blobs = append(want.Blobs, c)
				strs = append(strs, c.String())
			}
			obj["blobs"] = strs
		}
		var b []byte
		var err error
		if rapid.Bool().Draw(t, "indent") {
			b, err = json.MarshalIndent(obj, " ", "\t")
		} else {
			b, err = json.Marshal(obj)
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseInput(b)
		if err != nil {
			t.Fatalf("ParseInput(%s): %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseInput(%s)\ngot  %+v\nwant %+v", b, got, want)
		}
	})
}

// TestPropJSONInt checks jsonInt against exact rational arithmetic.
func TestPropJSONInt(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		whole := rapid.StringMatching(`-?(0|[1-9][0-9]{0,21})`).Draw(t, "whole")
		lit := whole
		if frac := rapid.StringMatching(`[0-9]{0,6}`).Draw(t, "frac"); frac != "" {
			lit += "." + frac
		}
		if rapid.Bool().Draw(t, "has exp") {
			lit += rapid.SampledFrom([]string{"e", "E"}).Draw(t, "e") +
				rapid.SampledFrom([]string{"", "+", "-"}).Draw(t, "sign") +
				strconv.Itoa(rapid.IntRange(0, 30).Draw(t, "exp"))
		}
		r, ok := new(big.Rat).SetString(lit)
		if !ok {
			t.Fatalf("big.Rat rejects %s", lit)
		}
		wantOK := r.IsInt() && r.Num().IsInt64()
		got, gotOK := jsonInt([]byte(lit))
		if gotOK != wantOK || (wantOK && got != r.Num().Int64()) {
			t.Fatalf("jsonInt(%s) = %d, %v; exact value %s", lit, got, gotOK, r.RatString())
		}
		if gotOK && lit == whole && got != mustParseInt(t, lit) {
			t.Fatalf("jsonInt(%s) disagrees with strconv", lit)
		}
	})
}

func mustParseInt(t *rapid.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("ParseInt(%s): %v", s, err)
	}
	return n
}
