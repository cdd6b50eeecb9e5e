package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"
)

// jscode2session serves GET /sns/jscode2session, exchanging a single-use
// js_code for the user's openid and a fresh session_key.
func (s *Server) jscode2session(w http.ResponseWriter, r *http.Request) {
	const api = "jscode2session"
	if r.Method != http.MethodGet {
		s.wxError(w, ctSNS, api, "", 43001)
		return
	}
	q := r.URL.Query()
	appID, secret, code := q.Get("appid"), q.Get("secret"), q.Get("js_code")
	if errcode := s.checkCredentials(appID, secret); errcode != 0 {
		s.wxError(w, ctSNS, api, appID, errcode)
		return
	}
	if code == "" {
		s.wxError(w, ctSNS, api, appID, 41008)
		return
	}
	if q.Get("grant_type") != "authorization_code" {
		s.wxError(w, ctSNS, api, appID, 40002)
		return
	}

	sess, errcode := s.redeem(appID, code)
	if errcode != 0 {
		s.wxError(w, ctSNS, api, appID, errcode)
		return
	}
	s.log.Info("sandbox: wechat api", "api", api, "appid", appID, "openid", sess.OpenID)
	writeJSON(w, ctSNS, http.StatusOK, sess)
}

type sessionReply struct {
	SessionKey string `json:"session_key"`
	OpenID     string `json:"openid"`
	UnionID    string `json:"unionid,omitempty"`
}

// redeem checks code against appID and the per-user minute quota, and marks
// it used. It returns a WeChat errcode on failure.
func (s *Server) redeem(appID, code string) (sessionReply, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now, false)

	// A forced fault leaves the code unused, so a client that retries after
	// a transient error (-1) can still succeed, as with the real service.
	if errcode := s.app(appID).takeFault("jscode2session"); errcode != 0 {
		return sessionReply{}, errcode
	}
	c := s.codes[code]
	// WeChat does not say whether a code exists for another app; it is just
	// "invalid code".
	if c == nil || !now.Before(c.expires) || c.appID != appID {
		return sessionReply{}, 40029
	}
	// The quota counts every call for the user, including replays of a used
	// code, which is how retry storms hit 45011 in the field.
	key := appID + " " + c.openID
	start := now.Truncate(time.Minute)
	win := s.logins[key]
	if win == nil || !win.start.Equal(start) {
		win = &window{start: start}
		s.logins[key] = win
	}
	win.n++
	if win.n > loginPerMinute {
		return sessionReply{}, 45011
	}
	if c.used {
		return sessionReply{}, 40163
	}
	c.used = true

	key16 := make([]byte, 16)
	rand.Read(key16)
	return sessionReply{
		SessionKey: base64.StdEncoding.EncodeToString(key16),
		OpenID:     c.openID,
		UnionID:    c.unionID,
	}, 0
}

// openIDFor derives a stable openid for a user of an app, shaped like a real
// one: "o" plus 27 URL-safe base64 characters.
func (s *Server) openIDFor(appID, user string) string {
	return "o" + base64.RawURLEncoding.EncodeToString(macBytes(s.seed, "openid:"+appID+"\x00"+user))[:27]
}

func validOpenID(id string) bool {
	return len(id) == 28 && id[0] == 'o' && inAlphabet(id, base64URL)
}

func inAlphabet(s, alphabet string) bool {
	for i := 0; i < len(s); i++ {
		ok := false
		for j := 0; j < len(alphabet); j++ {
			if s[i] == alphabet[j] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

type loginCodeRequest struct {
	AppID   string `json:"appid"`
	OpenID  string `json:"openid"`
	User    string `json:"user"`
	UnionID string `json:"unionid"`
}

type loginCodeReply struct {
	Code      string `json:"code"`
	OpenID    string `json:"openid"`
	UnionID   string `json:"unionid,omitempty"`
	ExpiresIn int    `json:"expires_in"`
}

// controlLoginCode serves POST /sandbox/v1/wx-login-code: what wx.login()
// does on the phone, handing out a js_code for a new or an existing user.
func (s *Server) controlLoginCode(w http.ResponseWriter, r *http.Request) {
	var req loginCodeRequest
	if !decodeControl(w, r, &req) {
		return
	}
	switch {
	case req.AppID == "":
		writeControlError(w, http.StatusBadRequest, "invalid", `"appid" is required`)
		return
	case !validAppID(req.AppID):
		writeControlError(w, http.StatusBadRequest, "invalid", `"appid" must be "wx" followed by 16 lowercase hex characters`)
		return
	case req.OpenID != "" && req.User != "":
		writeControlError(w, http.StatusBadRequest, "invalid", `give "openid" or "user", not both`)
		return
	case req.OpenID != "" && !validOpenID(req.OpenID):
		writeControlError(w, http.StatusBadRequest, "invalid", `"openid" must be 28 characters: "o" followed by letters, digits, "-" or "_"`)
		return
	case len(req.User) > 128:
		writeControlError(w, http.StatusBadRequest, "invalid", `"user" must be at most 128 bytes`)
		return
	case req.UnionID != "" && (len(req.UnionID) > 64 || !inAlphabet(req.UnionID, base64URL)):
		writeControlError(w, http.StatusBadRequest, "invalid", `"unionid" must be at most 64 letters, digits, "-" or "_"`)
		return
	}

	openID := req.OpenID
	switch {
	case req.User != "":
		openID = s.openIDFor(req.AppID, req.User)
	case openID == "":
		openID = s.openIDFor(req.AppID, "anonymous:"+randomString(alnum, 32))
	}
	code := randomString(alnum, 32)

	s.mu.Lock()
	now := s.now()
	s.sweep(now, false)
	if len(s.codes) >= maxCodes {
		s.sweep(now, true)
	}
	full := len(s.codes) >= maxCodes
	if !full {
		s.codes[code] = &loginCode{appID: req.AppID, openID: openID, unionID: req.UnionID, expires: now.Add(codeTTL)}
	}
	s.mu.Unlock()
	if full {
		writeControlError(w, http.StatusTooManyRequests, "rate_limited", "too many unused login codes; wait for some to expire")
		return
	}
	writeJSON(w, ctJSON, http.StatusOK, loginCodeReply{
		Code:      code,
		OpenID:    openID,
		UnionID:   req.UnionID,
		ExpiresIn: int(codeTTL / time.Second),
	})
}
