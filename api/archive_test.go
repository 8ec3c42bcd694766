package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rumor-sync/rumor/api"
	"github.com/rumor-sync/rumor/cas"
	"github.com/rumor-sync/rumor/store"
)

const archDev = "12D3KooWEdWH7SVJFZ15VoJsq8Cahny1TsykHeZkwKrDeGHi555E"

func TestParseArchiveQuery(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want api.ArchiveQuery
		ok   bool
	}{
		{"", api.ArchiveQuery{Limit: api.DefaultArchiveLimit}, true},
		{"device=" + archDev + "&date=2025-03-01&after=100&limit=5", api.ArchiveQuery{Device: archDev, Date: "2025-03-01", After: 100, Limit: 5}, true},
		{"device=&date=&after=&limit=", api.ArchiveQuery{Limit: api.DefaultArchiveLimit}, true},
		{"after=5", api.ArchiveQuery{}, false},
		{"device=nope", api.ArchiveQuery{}, false},
		{"date=2025-02-30", api.ArchiveQuery{}, false},
		{"date=2025-3-1", api.ArchiveQuery{}, false},
		{"limit=0", api.ArchiveQuery{}, false},
		{"limit=10001", api.ArchiveQuery{}, false},
		{"after=-1&device=" + archDev, api.ArchiveQuery{}, false},
		{"limit=1&limit=2", api.ArchiveQuery{}, false},
		{"colour=blue", api.ArchiveQuery{}, false},
		{"%zz", api.ArchiveQuery{}, false},
	} {
		got, err := api.ParseArchiveQuery(tc.raw)
		if tc.ok != (err == nil) || tc.ok && got != tc.want {
			t.Errorf("ParseArchiveQuery(%q) = %+v, %v", tc.raw, got, err)
		}
		if err != nil && !errors.Is(err, api.ErrInvalidQuery) {
			t.Errorf("ParseArchiveQuery(%q): %v does not wrap ErrInvalidQuery", tc.raw, err)
		}
	}
}

// FuzzParseArchiveQuery checks the parser never panics and that what it
// accepts encodes back to an equal query.
func FuzzParseArchiveQuery(f *testing.F) {
	f.Add("device=" + archDev + "&date=2025-03-01&after=100&limit=5")
	f.Add("limit=10000&date=1970-01-01")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := api.ParseArchiveQuery(raw)
		if err != nil {
			return
		}
		again, err := api.ParseArchiveQuery(q.Encode())
		if err != nil || again != q {
			t.Fatalf("%q parsed as %+v, encoded as %q, parsed back as %+v (%v)", raw, q, q.Encode(), again, err)
		}
	})
}

func TestArchiveEndpoint(t *testing.T) {
	e := newEnv(t)
	get := func(h http.Handler, q string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/archive"+q, nil))
		return rec
	}
	if rec := get(e.handler, ""); rec.Code != http.StatusNotFound {
		t.Fatalf("device node: %d %s", rec.Code, rec.Body)
	}
	var asked api.ArchiveQuery
	blobs, err := cas.New(e.store.DB(), []byte{store.PrefixBlobs})
	if err != nil {
		t.Fatal(err)
	}
	s, err := api.New(api.Config{
		Events: e.store, Blobs: blobs, MaxBody: 1 << 10, MaxBlob: 1,
		Info: func() api.Info { return api.Info{Role: "sink"} },
		Archive: func(q api.ArchiveQuery) api.ArchiveList {
			asked = q
			return api.ArchiveList{Listed: true, Watermarks: map[string]uint64{archDev: 7},
				Files: []api.ArchiveFile{{Name: "events/x", Device: archDev, Date: "2025-03-01", First: 1, Last: 7, Rows: 7, Bytes: 99}}}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec := get(s, "?limit=x"); rec.Code != http.StatusBadRequest {
		t.Fatalf("bad limit: %d %s", rec.Code, rec.Body)
	}
	rec := get(s, "?device="+archDev+"&after=3")
	var out api.ArchiveList
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	if asked.Device != archDev || asked.After != 3 || asked.Limit != api.DefaultArchiveLimit || len(out.Files) != 1 || out.Files[0].Rows != 7 || out.Watermarks[archDev] != 7 {
		t.Fatalf("asked %+v, answered %+v", asked, out)
	}
}
