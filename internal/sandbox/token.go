package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// live reports whether t is accepted at now.
func (t *token) live(now time.Time) bool {
	return now.Before(t.expires) && (t.revoked.IsZero() || now.Before(t.revoked))
}

// deadAt is when t stops being accepted, for whichever reason comes first.
func (t *token) deadAt() time.Time {
	if !t.revoked.IsZero() && t.revoked.Before(t.expires) {
		return t.revoked
	}
	return t.expires
}

// revokeAt makes t stop working at when, unless it already stops earlier.
func (t *token) revokeAt(when time.Time) {
	if t.revoked.IsZero() || when.Before(t.revoked) {
		t.revoked = when
	}
}

// issue mints a token for appID. Real tokens are a version number, an
// underscore and opaque URL-safe characters, well over 100 characters long;
// clients that truncate or mangle them should fail here too. Callers hold
// s.mu.
func (s *Server) issue(appID string, now time.Time) *token {
	t := &token{
		value:   "90_" + randomString(base64URL, 134),
		appID:   appID,
		expires: now.Add(tokenLifetime),
	}
	s.tokens[t.value] = t
	return t
}

type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

type stableRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// stableToken serves POST /cgi-bin/stable_token.
func (s *Server) stableToken(w http.ResponseWriter, r *http.Request) {
	const api = "stable_token"
	if r.Method != http.MethodPost {
		s.wxError(w, ctCGIBin, api, "", 43002)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.wxError(w, ctCGIBin, api, "", 47001)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		s.wxError(w, ctCGIBin, api, "", 44002)
		return
	}
	var req stableRequest
	// Unknown fields are ignored as WeChat does; wrong types (for example
	// "force_refresh":"true") are a format error.
	if err := json.Unmarshal(body, &req); err != nil {
		s.wxError(w, ctCGIBin, api, "", 47001)
		return
	}
	if errcode := s.checkCredentials(req.AppID, req.Secret); errcode != 0 {
		s.wxError(w, ctCGIBin, api, req.AppID, errcode)
		return
	}
	if req.GrantType != "client_credential" {
		s.wxError(w, ctCGIBin, api, req.AppID, 40002)
		return
	}
	reply, errcode := s.stable(req.AppID, req.ForceRefresh)
	if errcode != 0 {
		s.wxError(w, ctCGIBin, api, req.AppID, errcode)
		return
	}
	s.log.Info("sandbox: wechat api", "api", api, "appid", req.AppID, "force_refresh", req.ForceRefresh, "expires_in", reply.ExpiresIn)
	writeJSON(w, ctCGIBin, http.StatusOK, reply)
}

// stable applies the stable_token rules: normal calls share one token until
// it is within the overlap of expiry; a forced call replaces it at once,
// limited per day and spaced out.
func (s *Server) stable(appID string, force bool) (tokenReply, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now, false)
	a := s.app(appID)
	a.fetches++
	if errcode := a.takeFault("stable_token"); errcode != 0 {
		return tokenReply{}, errcode
	}

	// A forced call too soon after the last one does not refresh; it is
	// answered like a normal call.
	if force && !a.lastForce.IsZero() && now.Sub(a.lastForce) < forceGap {
		force = false
	}
	switch {
	case force:
		day := now.In(cst).Format(time.DateOnly)
		if a.forceDay != day {
			a.forceDay, a.forces = day, 0
		}
		if a.forces >= forcePerDay {
			return tokenReply{}, 45009
		}
		a.forces++
		a.lastForce = now
		for _, t := range []*token{a.stable, a.stablePrev} {
			if t != nil {
				t.revokeAt(now)
			}
		}
		a.stable, a.stablePrev = s.issue(appID, now), nil
	case a.stable == nil || !a.stable.live(now) || a.stable.deadAt().Sub(now) <= tokenOverlap:
		// The outgoing token keeps working until its own expiry, which is
		// the overlap the documentation promises.
		a.stable, a.stablePrev = s.issue(appID, now), a.stable
	}
	return tokenReply{
		AccessToken: a.stable.value,
		ExpiresIn:   int(a.stable.expires.Sub(now) / time.Second),
	}, 0
}

// classicToken serves GET /cgi-bin/token: every call mints a new token and
// the previous one stops working after the overlap.
func (s *Server) classicToken(w http.ResponseWriter, r *http.Request) {
	const api = "token"
	if r.Method != http.MethodGet {
		s.wxError(w, ctCGIBin, api, "", 43001)
		return
	}
	q := r.URL.Query()
	appID := q.Get("appid")
	if errcode := s.checkCredentials(appID, q.Get("secret")); errcode != 0 {
		s.wxError(w, ctCGIBin, api, appID, errcode)
		return
	}
	if q.Get("grant_type") != "client_credential" {
		s.wxError(w, ctCGIBin, api, appID, 40002)
		return
	}
	reply, errcode := s.classic(appID)
	if errcode != 0 {
		s.wxError(w, ctCGIBin, api, appID, errcode)
		return
	}
	s.log.Info("sandbox: wechat api", "api", api, "appid", appID)
	writeJSON(w, ctCGIBin, http.StatusOK, reply)
}

func (s *Server) classic(appID string) (tokenReply, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now, false)
	a := s.app(appID)
	a.fetches++
	if errcode := a.takeFault("token"); errcode != 0 {
		return tokenReply{}, errcode
	}
	day := now.In(cst).Format(time.DateOnly)
	if a.classicDay != day {
		a.classicDay, a.classics = day, 0
	}
	if a.classics >= classicPerDay {
		return tokenReply{}, 45009
	}
	a.classics++
	if a.classic != nil {
		a.classic.revokeAt(now.Add(tokenOverlap))
	}
	a.classic = s.issue(appID, now)
	return tokenReply{AccessToken: a.classic.value, ExpiresIn: int(tokenLifetime / time.Second)}, 0
}

// CheckAccessToken reports which app a live token belongs to (errcode 0).
// Otherwise appID is empty and errcode is what WeChat would answer: 40014 for
// a string that is not shaped like a token, 40001 for an unknown token or one
// replaced by a newer token, 42001 for an expired one. Sandbox endpoints that
// take access_token use it to answer like WeChat.
func (s *Server) CheckAccessToken(tok string) (appID string, errcode int) {
	if len(tok) < 16 || len(tok) > 512 || !inAlphabet(tok, base64URL) {
		return "", 40014
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t := s.tokens[tok]
	switch {
	case t == nil:
		return "", 40001
	case t.live(now):
		return t.appID, 0
	case !t.revoked.IsZero() && t.revoked.Before(t.expires) && !now.Before(t.revoked):
		return "", 40001
	default:
		return "", 42001
	}
}

// TokenFetches returns how many token requests (stable_token and token) for
// appID were well-formed and carried valid credentials, whatever they were
// answered (a forced fault or a quota error counts too). Tests of a token
// cache use it to count round trips to WeChat.
func (s *Server) TokenFetches(appID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[appID]; a != nil {
		return a.fetches
	}
	return 0
}

// expireTokens makes every live token of appID expire now.
func (s *Server) expireTokens(appID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for _, t := range s.tokens {
		if t.appID == appID && t.live(now) {
			t.expires = now
			n++
		}
	}
	return n
}
