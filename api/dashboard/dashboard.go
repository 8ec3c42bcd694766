// Package dashboard serves rumor's operator page: one self-contained HTML
// page, a stylesheet and a script, embedded in the binary (devices have no
// internet, so nothing is loaded from elsewhere). The page polls the
// node's JSON API every two seconds (/v1/status, /v1/health, /v1/series,
// /v1/trace, /v1/aggregates) and draws everything itself, charts
// included, as inline SVG.
//
// Mount the handler on the exact root and on the asset prefix:
//
//	ui := dashboard.Handler()
//	mux.Handle("GET /{$}", ui)
//	mux.Handle("GET /ui/", ui)
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// AssetPrefix is the path under which the page's assets are served.
const AssetPrefix = "/ui/"

// csp allows only the page's own assets and API; the JavaScript builds
// the DOM itself, so neither inline scripts nor inline styles are needed.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

type handler struct {
	assets map[string]asset // by name under static/
}

// Handler returns the dashboard: the page at "/" and its assets under
// AssetPrefix. Any other path is a 404.
func Handler() http.Handler {
	h := handler{assets: map[string]asset{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		h.assets[strings.TrimPrefix(p, "static/")] = asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil { // the files are compiled in: this cannot happen
		panic("dashboard: embedded assets unreadable: " + err.Error())
	}
	return h
}

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := "index.html"
	if r.URL.Path != "/" {
		var ok bool
		if name, ok = strings.CutPrefix(r.URL.Path, AssetPrefix); !ok || name == "index.html" {
			name = ""
		}
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("ETag", a.etag)
	hd.Set("Cache-Control", "no-cache") // revalidate: a new binary may bring new assets
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
