// Package sandbox is a local stand-in for api.weixin.qq.com. It speaks the
// real wire format of Mini Program login (jscode2session) and access tokens
// (cgi-bin/stable_token, cgi-bin/token), including WeChat's habit of
// answering errors with HTTP 200 and a JSON errcode, so that a client which
// passes against the sandbox passes against WeChat. A small control API under
// /sandbox/v1/ plays the phone's wx.login(), hands out app credentials and
// injects faults.
//
// Apps are not stored: an app's id and secret are derived from the server's
// seed (see AppFor), so the same seed gives the same apps after a restart.
// Everything else (login codes, tokens, quotas) lives in memory.
package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Lifetimes and quotas of the real service, as documented by WeChat (see the
// wire-format reference, section 1).
const (
	codeTTL           = 5 * time.Minute
	tokenLifetime     = 7200 * time.Second
	tokenOverlap      = 5 * time.Minute // stable: renewed this long before expiry; classic: old token lives this long
	forceGap          = 30 * time.Second
	forcePerDay       = 20
	classicPerDay     = 2000
	loginPerMinute    = 100
	maxBody           = 64 << 10
	maxCodes          = 100_000 // outstanding login codes; bounds memory against a runaway test
	maxFaultsQueued   = 10_000
	sweepEvery        = time.Minute
	expiredTokenGrace = 2 * time.Hour // long enough to tell "expired" (42001) from "unknown" (40001)
)

// cst is China Standard Time. Daily quotas reset at midnight Beijing time;
// China has no daylight saving, so a fixed zone is exact and needs no tzdata.
var cst = time.FixedZone("CST", 8*3600)

// Options configures a Server.
type Options struct {
	// Seed is the secret from which app ids and secrets are derived. It must
	// be at least 16 bytes; keep it stable to keep apps valid across restarts.
	Seed []byte
	// Now is the clock; nil means time.Now. Tests inject a fake clock to
	// expire codes and tokens. It must be safe for concurrent use.
	Now func() time.Time
	// Logger receives one record per WeChat API call (never secrets); nil
	// discards them.
	Logger *slog.Logger
	// PayTimeScale compresses WeChat Pay's notification retry schedule and
	// refund delay (0.001 turns 15 s into 15 ms); 0 means 1, real time.
	PayTimeScale float64
}

// Server is the in-memory state of the sandbox. It is safe for concurrent
// use; create it with New.
type Server struct {
	seed []byte
	now  func() time.Time
	log  *slog.Logger

	mu        sync.Mutex
	codes     map[string]*loginCode // js_code -> code
	logins    map[string]*window    // appid+" "+openid -> calls in the current minute
	tokens    map[string]*token     // access_token -> token
	apps      map[string]*appState  // appid -> state
	lastSweep time.Time

	pay *payState // WeChat Pay (pay*.go)
}

type loginCode struct {
	appID, openID, unionID string
	expires                time.Time
	used                   bool
}

type window struct {
	start time.Time
	n     int
}

type token struct {
	value   string
	appID   string
	expires time.Time
	revoked time.Time // zero unless a newer token replaced this one
}

type appState struct {
	stable     *token
	stablePrev *token // the token stable replaced, still inside its overlap
	classic    *token

	fetches int // token requests with valid credentials, for broker tests

	lastForce  time.Time
	forceDay   string
	forces     int
	classicDay string
	classics   int

	faults map[string][]fault // api -> queued forced errors
}

type fault struct {
	errcode int
	left    int
}

// New returns a Server configured by opts. It fails if the seed is shorter
// than 16 bytes, since a short seed would make app secrets guessable.
func New(opts Options) (*Server, error) {
	if len(opts.Seed) < 16 {
		return nil, fmt.Errorf("sandbox: seed must be at least 16 bytes, got %d", len(opts.Seed))
	}
	s := &Server{
		seed:   append([]byte(nil), opts.Seed...),
		now:    opts.Now,
		log:    opts.Logger,
		codes:  make(map[string]*loginCode),
		logins: make(map[string]*window),
		tokens: make(map[string]*token),
		apps:   make(map[string]*appState),
		pay:    newPayState(opts.PayTimeScale),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Handler returns the HTTP handler serving both the WeChat routes
// (/sns/jscode2session, /cgi-bin/stable_token, /cgi-bin/token) and the control
// API under /sandbox/v1/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/sns/jscode2session", s.jscode2session)
	mux.HandleFunc("/cgi-bin/stable_token", s.stableToken)
	mux.HandleFunc("/cgi-bin/token", s.classicToken)

	control := map[string]http.HandlerFunc{
		"/sandbox/v1/wx-login-code": s.controlLoginCode,
		"/sandbox/v1/apps":          s.controlApps,
		"/sandbox/v1/faults":        s.controlFaults,
		"/sandbox/v1/expire-token":  s.controlExpireToken,
	}
	s.mountPay(mux, control)
	s.mountPayCustoms(mux, control)
	s.mountCustoms(mux, control)
	s.mountKuaidi100(mux, control)
	s.mountShipping(mux, control)
	mux.HandleFunc("/sandbox/", func(w http.ResponseWriter, r *http.Request) {
		writeControlError(w, http.StatusNotFound, "not_found", "no such sandbox endpoint: "+r.URL.Path)
	})
	for path, h := range control {
		mux.HandleFunc("POST "+path, h)
		// Registered separately so a wrong method gets a JSON error rather
		// than the mux's plain-text 405.
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", http.MethodPost)
			writeControlError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST with a JSON body")
		})
	}
	return mux
}

// AppFor derives a sandbox Mini Program app from key (for example
// "tenant:42"): appID is "wx" followed by 16 lowercase hex characters and
// secret is 32 lowercase hex characters, both HMAC-SHA256 of seed. The same
// seed and key always give the same app, and the sandbox accepts exactly the
// secret derived this way for any well-formed appid.
func AppFor(seed []byte, key string) (appID, secret string) {
	appID = "wx" + mac(seed, "appid:"+key)[:16]
	return appID, secretFor(seed, appID)
}

func secretFor(seed []byte, appID string) string {
	return mac(seed, "secret:"+appID)[:32]
}

func mac(seed []byte, msg string) string {
	return hex.EncodeToString(macBytes(seed, msg))
}

func macBytes(seed []byte, msg string) []byte {
	h := hmac.New(sha256.New, seed)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// validAppID reports whether id has the shape of a Mini Program appid.
func validAppID(id string) bool {
	if len(id) != 18 || id[:2] != "wx" {
		return false
	}
	for i := 2; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkCredentials returns the WeChat errcode for an appid/secret pair, or 0.
// The order follows real replies: a missing field is named before a bad one.
func (s *Server) checkCredentials(appID, secret string) int {
	switch {
	case appID == "":
		return 41002
	case !validAppID(appID):
		return 40013
	case secret == "":
		return 41004
	case !hmac.Equal([]byte(secret), []byte(secretFor(s.seed, appID))):
		return 40125
	}
	return 0
}

// errmsgs are the messages WeChat sends with each errcode. A rid suffix is
// appended when replying.
var errmsgs = map[int]string{
	-1:    "system error",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40013: "invalid appid",
	40014: "invalid access_token",
	40029: "invalid code",
	40125: "invalid appsecret",
	40163: "code been used",
	40226: "code blocked",
	41002: "appid missing",
	41004: "appsecret missing",
	41008: "missing code",
	42001: "access_token expired",
	43001: "require GET method",
	43002: "require POST method",
	44002: "empty post data",
	45009: "reach max api daily quota limit",
	45011: "api minute-quota reach limit mustslower retry next minute",
	47001: "data format error",
}

// rid imitates WeChat's request id: the first part is the Unix time in hex,
// the other two are random.
func rid(now time.Time) string {
	return fmt.Sprintf("%08x-%08x-%08x", uint32(now.Unix()), mrand.Uint32(), mrand.Uint32())
}

// wxError writes a WeChat-style error: HTTP 200, errcode and errmsg ending in
// " rid: …".
func (s *Server) wxError(w http.ResponseWriter, contentType, api, appID string, errcode int) {
	msg, ok := errmsgs[errcode]
	if !ok {
		msg = "sandbox injected error"
	}
	id := rid(s.now())
	s.log.Info("sandbox: wechat api error", "api", api, "appid", appID, "errcode", errcode, "rid", id)
	writeJSON(w, contentType, http.StatusOK, struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}{errcode, msg + " rid: " + id})
}

// Content types of the real replies: the sns endpoints answer JSON labelled
// text/plain, which clients must tolerate.
const (
	ctSNS    = "text/plain"
	ctCGIBin = "application/json; encoding=utf-8"
	ctJSON   = "application/json"
)

func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own fixed structs are encoded here.
		panic("sandbox: encoding reply: " + err.Error())
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// randomString returns n characters drawn uniformly from alphabet using
// crypto/rand, for codes and tokens that must not be guessable.
func randomString(alphabet string, n int) string {
	if len(alphabet) == 0 || len(alphabet) > 256 {
		panic("sandbox: bad alphabet")
	}
	// Rejection sampling keeps the distribution uniform.
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+16)
	for len(out) < n {
		rand.Read(buf)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

const (
	alnum     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base64URL = alnum + "-_"
)

// app returns the state of appID, creating it. Callers hold s.mu.
func (s *Server) app(appID string) *appState {
	a := s.apps[appID]
	if a == nil {
		a = &appState{faults: make(map[string][]fault)}
		s.apps[appID] = a
	}
	return a
}

// takeFault pops one queued forced error for api, or returns 0. Callers hold
// s.mu.
func (a *appState) takeFault(api string) int {
	q := a.faults[api]
	if len(q) == 0 {
		return 0
	}
	code := q[0].errcode
	q[0].left--
	if q[0].left <= 0 {
		q = q[1:]
	}
	if len(q) == 0 {
		delete(a.faults, api)
	} else {
		a.faults[api] = q
	}
	return code
}

// sweep drops expired login codes, finished rate windows and long-dead tokens
// so memory tracks live state only. It runs at most once a minute unless
// forced. Callers hold s.mu.
func (s *Server) sweep(now time.Time, force bool) {
	if !force && now.Sub(s.lastSweep) < sweepEvery {
		return
	}
	s.lastSweep = now
	for k, c := range s.codes {
		if !now.Before(c.expires) {
			delete(s.codes, k)
		}
	}
	for k, w := range s.logins {
		if now.Sub(w.start) >= time.Minute {
			delete(s.logins, k)
		}
	}
	for k, t := range s.tokens {
		if now.Sub(t.deadAt()) >= expiredTokenGrace {
			delete(s.tokens, k)
		}
	}
}
