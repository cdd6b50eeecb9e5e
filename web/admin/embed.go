// Package admin serves the admin console, a single-page application built by
// Vite into dist/app and embedded in the binary.
//
// The console is mounted at /admin/: requests arrive with their full path
// (/admin/, /admin/s/nordic-skin/catalog, /admin/assets/index-abc123.js).
// Existing files are served as they are; hashed files under assets/ are
// cached for a year; any other path is a route of the application and gets
// index.html, which is never cached without revalidation. Until the console
// is built (scripts/web-build.sh, run by `make run`), a page says so.
package admin

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// dist holds the Vite build in dist/app. dist/.gitkeep keeps the directory
// (and so this pattern) valid before the first build; "all:" includes files
// whose names start with a dot or an underscore, which Vite may emit.
//
//go:embed all:dist
var dist embed.FS

// Prefix is the path the console is mounted at.
const Prefix = "/admin/"

// Header values the handler sets.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
	cacheNone       = "no-store"

	// CSP is the Content-Security-Policy of the console's HTML. Vite emits
	// module scripts from the same origin and no inline script; Ant Design
	// injects <style> elements at run time, hence 'unsafe-inline' for styles
	// only. Images may be data: or blob: URLs (previews before upload).
	CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; " +
		"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

// Handler serves the embedded console. Mount it for every method on
// /admin/*: it answers GET and HEAD, and 405 otherwise.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist/app")
	if err != nil { // only for an invalid pattern, which "dist/app" is not
		panic(err)
	}
	return HandlerFS(sub)
}

// HandlerFS serves the console from fsys, whose root holds index.html and
// assets/ (what Vite writes to dist/app).
func HandlerFS(fsys fs.FS) http.Handler {
	return &handler{fsys: fsys}
}

type handler struct {
	fsys fs.FS
	// files caches what was read from fsys, by name: the files of a build
	// do not change while it is served (the embedded one never does).
	files sync.Map // string -> *entry
}

// entry is a file of the build, with what serving it needs.
type entry struct {
	data  []byte
	ctype string
	etag  string // quoted; of the identity encoding

	gzOnce sync.Once
	gz     []byte // gzip encoding; nil when not worth it
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == strings.TrimSuffix(Prefix, "/") {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	if !strings.HasPrefix(p, Prefix) {
		http.NotFound(w, r)
		return
	}
	// path.Clean resolves "." and ".." without ever leaving the root.
	name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(p, Prefix)), "/")

	if name == "assets" || strings.HasPrefix(name, "assets/") {
		f := h.file(name)
		if f == nil {
			// A missing hashed file means a stale or broken page: never
			// answer it with index.html, which would then run as a script.
			w.Header().Set("Cache-Control", cacheNone)
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", cacheImmutable)
		h.serve(w, r, name, f, false)
		return
	}

	index := h.file("index.html")
	if index == nil {
		notBuilt(w)
		return
	}
	if name != "" && name != "index.html" {
		if f := h.file(name); f != nil {
			// Unhashed files copied from public/ (favicon, robots.txt).
			w.Header().Set("Cache-Control", cacheRevalidate)
			h.serve(w, r, name, f, true)
			return
		}
	}
	// The application itself, for / and every client-side route.
	htmlHeaders(w.Header())
	w.Header().Set("Cache-Control", cacheRevalidate)
	h.serve(w, r, "index.html", index, true)
}

// file returns the regular file name, or nil when there is none (missing,
// a directory, or an invalid name). Absent files are not remembered, so a
// build that appears later (HandlerFS on a directory) is picked up.
func (h *handler) file(name string) *entry {
	if v, ok := h.files.Load(name); ok {
		return v.(*entry)
	}
	if name == "" || !fs.ValidPath(name) {
		return nil
	}
	st, err := fs.Stat(h.fsys, name)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	data, err := fs.ReadFile(h.fsys, name)
	if err != nil {
		return nil
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == ".html" {
		ctype = "text/html; charset=utf-8"
	}
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	sum := sha256.Sum256(data)
	e := &entry{data: data, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	v, _ := h.files.LoadOrStore(name, e)
	return v.(*entry)
}

// serve writes f with its type, its ETag when asked (revalidated files), and
// gzip when the client accepts it and it is worth it. HEAD, conditional and
// range requests are handled by http.ServeContent.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, name string, f *entry, etag bool) {
	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	body, tag := f.data, f.etag
	if compressible(f.ctype) && len(f.data) >= 1024 {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			if z := f.gzipped(); z != nil {
				body = z
				tag = strings.TrimSuffix(f.etag, `"`) + `-gz"`
				hd.Set("Content-Encoding", "gzip")
			}
		}
	}
	if etag {
		hd.Set("ETag", tag)
	}
	// A zero time keeps ServeContent from sending Last-Modified (embedded
	// files have none); the ETag or the immutable cache stands in for it.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// gzipped returns the gzip encoding of the file, or nil if it is no smaller.
func (f *entry) gzipped() []byte {
	f.gzOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		if _, err := zw.Write(f.data); err != nil {
			return
		}
		if err := zw.Close(); err != nil {
			return
		}
		if b.Len() < len(f.data) {
			f.gz = b.Bytes()
		}
	})
	return f.gz
}

func compressible(ctype string) bool {
	t, _, _ := strings.Cut(ctype, ";")
	switch strings.TrimSpace(t) {
	case "text/html", "text/css", "text/javascript", "application/javascript",
		"application/json", "image/svg+xml", "text/plain", "application/manifest+json":
		return true
	}
	return false
}

// acceptsGzip reports whether the request accepts the gzip coding with a
// non-zero quality.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// htmlHeaders sets the security headers of an HTML response.
func htmlHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
}

// notBuiltPage is served (503) when dist/app/index.html is missing.
const notBuiltPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Minishop admin console: not built</title>
<style>
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
font:15px/1.6 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
background:#f5f6fa;color:#1f2937}
main{max-width:32rem;margin:1.5rem;padding:2rem 2.25rem;background:#fff;border-radius:12px;
box-shadow:0 1px 3px rgba(16,24,40,.1),0 1px 2px rgba(16,24,40,.06)}
h1{font-size:1.25rem;margin:0 0 .75rem}
code{background:#f1f3f9;padding:.1rem .35rem;border-radius:4px;font-size:.9em}
p{margin:.5rem 0}
</style>
</head>
<body>
<main>
<h1>The admin console is not built</h1>
<p>This Minishop binary was built without the admin console.</p>
<p>Run <code>make run</code>, which builds the console and the binary, or build
it alone with <code>scripts/web-build.sh</code> and then rebuild the binary.</p>
</main>
</body>
</html>
`

func notBuilt(w http.ResponseWriter) {
	htmlHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", cacheNone)
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, notBuiltPage)
}

// Built reports whether the embedded console has been built; when it has
// not, Handler serves a page saying how to build it.
func Built() bool {
	_, err := fs.Stat(dist, "dist/app/index.html")
	return err == nil
}
