package cas

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// independentCID computes a CID with go-multihash and go-cid only.
func independentCID(t testing.TB, codec uint64, data []byte) cid.Cid {
	t.Helper()
	sum := sha256.Sum256(data)
	m, err := mh.Encode(sum[:], mh.SHA2_256)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(codec, m)
}

func TestSumKnownCIDs(t *testing.T) {
	for _, tc := range []struct {
		data string
		want string // "" when only the independent computation is known
	}{
		{"", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
		{"hello world\n", ""},
		{"x", ""},
	} {
		got := Sum([]byte(tc.data)).String()
		ind := independentCID(t, cid.Raw, []byte(tc.data)).String()
		if got != ind {
			t.Errorf("Sum(%q) = %s, independently %s", tc.data, got, ind)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("Sum(%q) = %s, want %s", tc.data, got, tc.want)
		}
		if !strings.HasPrefix(got, "bafkrei") {
			t.Errorf("Sum(%q) = %s, want prefix bafkrei", tc.data, got)
		}
		if mhSum, _ := mh.Sum([]byte(tc.data), mh.SHA2_256, -1); cid.NewCidV1(cid.Raw, mhSum).String() != got {
			t.Errorf("Sum(%q) disagrees with multihash.Sum", tc.data)
		}
	}
}

func TestParseCID(t *testing.T) {
	data := []byte("hello world\n")
	raw := Sum(data).String()
	rootC := sumRoot([]byte("some root")).String()
	sha512Sum := sha512.Sum512(data)
	m512, _ := mh.Encode(sha512Sum[:], mh.SHA2_512)
	blake, _ := mh.Sum(data, mh.BLAKE2B_MIN+31, -1)
	ident, _ := mh.Sum(data, mh.IDENTITY, -1)
	v0 := cid.NewCidV0(must(mh.Sum(data, mh.SHA2_256, -1))).String()
	b58, _ := Sum(data).StringOfBase('z')
	upper, _ := Sum(data).StringOfBase('B')
	for _, tc := range []struct {
		name, in string
		ok       bool
		msg      string // substring of the error
	}{
		{"raw", raw, true, ""},
		{"root", rootC, true, ""},
		{"empty", "", false, "empty"},
		{"cidv0", v0, false, "CIDv0"},
		{"base58 v1", b58, false, "base32"},
		{"base32 upper", upper, false, "base32"},
		{"sha2-512", cid.NewCidV1(cid.Raw, m512).String(), false, "sha2-256"},
		{"blake2b", cid.NewCidV1(cid.Raw, blake).String(), false, "sha2-256"},
		{"identity", cid.NewCidV1(cid.Raw, ident).String(), false, "sha2-256"},
		{"dag-pb", independentCID(t, cid.DagProtobuf, data).String(), false, "codec"},
		{"dag-json", independentCID(t, cid.DagJSON, data).String(), false, "codec"},
		{"truncated", raw[:len(raw)-3], false, ""},
		{"trailing", raw + "a", false, ""},
		{"garbage", "b!!!!", false, ""},
		{"not a cid", "hello", false, "base32"},
		{"too long", "b" + strings.Repeat("a", 200), false, "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCID(tc.in)
			if tc.ok {
				if err != nil || c.String() != tc.in {
					t.Fatalf("ParseCID(%q) = %v, %v", tc.in, c, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidCID) {
				t.Fatalf("ParseCID(%q) error %v, want ErrInvalidCID", tc.in, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ParseCID(%q) error %q does not mention %q", tc.in, err, tc.msg)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestMethodsRejectInvalidCIDs(t *testing.T) {
	s := memStore(t)
	v0 := cid.NewCidV0(must(mh.Sum([]byte("x"), mh.SHA2_256, -1)))
	for _, c := range []cid.Cid{cid.Undef, v0, independentCID(t, cid.DagProtobuf, []byte("x"))} {
		_, err := s.Has(c)
		wantErr(t, err, ErrInvalidCID)
		_, err = s.Stat(c)
		wantErr(t, err, ErrInvalidCID)
		_, err = s.GetBlock(c)
		wantErr(t, err, ErrInvalidCID)
		wantErr(t, s.PutBlock(c, []byte("x")), ErrInvalidCID)
		_, err = s.Links(c)
		wantErr(t, err, ErrInvalidCID)
		_, err = s.Missing(c)
		wantErr(t, err, ErrInvalidCID)
		wantErr(t, s.Delete(c), ErrInvalidCID)
		_, _, err = s.Open(t.Context(), c)
		wantErr(t, err, ErrInvalidCID)
	}
}

func FuzzParseCID(f *testing.F) {
	data := []byte("hello world\n")
	f.Add(Sum(data).String())
	f.Add(sumRoot(data).String())
	f.Add(cid.NewCidV0(must(mh.Sum(data, mh.SHA2_256, -1))).String())
	f.Add(independentCID(f, cid.DagProtobuf, data).String())
	f.Add("bafkrei")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCID(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidCID) {
				t.Fatalf("ParseCID(%q): %v does not wrap ErrInvalidCID", s, err)
			}
			return
		}
		if c.String() != s {
			t.Fatalf("ParseCID(%q) = %s", s, c)
		}
		if _, err := kindOf(c); err != nil {
			t.Fatalf("ParseCID(%q) accepted %v", s, err)
		}
		if again, err := ParseCID(c.String()); err != nil || !again.Equals(c) {
			t.Fatalf("reparse of %s: %v, %v", c, again, err)
		}
	})
}
