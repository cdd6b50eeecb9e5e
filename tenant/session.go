package tenant

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// SessionCookie is the name of the admin console's session cookie.
const SessionCookie = "minishop_session"

// Session lifetimes: a session ends after SessionIdle without use, and after
// SessionMax whatever happens.
var (
	SessionIdle = 12 * time.Hour
	SessionMax  = 7 * 24 * time.Hour
)

// Principal is who makes an admin request: a signed-in user, or an API token.
type Principal struct {
	UserID   int64
	Email    string
	Operator bool
	Agencies []AgencyRole // agencies the user works for

	TokenID     int64 // set for API tokens
	TokenTenant int64
	TokenRole   string

	sessionHash []byte
}

// AgencyRole is a user's role in an agency.
type AgencyRole struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// Subjects are the policy subjects the principal acts as: the user, and
// each agency they work for.
func (p *Principal) Subjects() []string {
	s := []string{UserSubject(p.UserID)}
	for _, a := range p.Agencies {
		s = append(s, AgencySubject(a.ID))
	}
	return s
}

// Actor is the principal as the audit log records it.
func (p *Principal) Actor(ip string) scope.Actor {
	if p.TokenID != 0 {
		return scope.Actor{Kind: "token", ID: strconv.FormatInt(p.TokenID, 10), IP: ip}
	}
	return scope.Actor{Kind: "user", ID: strconv.FormatInt(p.UserID, 10) + " " + p.Email, IP: ip}
}

// SessionInfo describes one of a user's sessions.
type SessionInfo struct {
	ID         string    `json:"id"` // a short hash, not the cookie
	IP         *string   `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

// StartSession creates a server-side session and returns the cookie value
// (shown only here; stored hashed).
func (a *Accounts) StartSession(ctx context.Context, userID int64, ip, userAgent string) (string, time.Time, error) {
	token, hash := newSecret(32)
	exp := time.Now().Add(SessionMax)
	var ipv any
	if ip != "" {
		ipv = ip
	}
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	err := a.db.WithContext(ctx).Exec(`INSERT INTO sessions (id_hash, user_id, ip, user_agent, expires_at) VALUES (?, ?, ?, ?, ?)`,
		db.Bytes(hash), userID, ipv, userAgent, exp).Error
	return token, exp, err
}

// SessionPrincipal returns the principal of a live session cookie, or
// unauthorized. Use extends the idle expiry (written at most once a minute).
func (a *Accounts) SessionPrincipal(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, errs.E(errs.Unauthorized, "unauthorized", "sign in to continue")
	}
	hash := secretHash(token)
	var row struct {
		UserID     int64
		Email      string
		Operator   bool
		LastSeenAt time.Time
	}
	err := a.db.WithContext(ctx).Raw(`SELECT s.user_id, u.email, u.operator, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = ? AND s.revoked_at IS NULL AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => ?)`,
		hash, SessionIdle.Seconds()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.E(errs.Unauthorized, "unauthorized", "your session has ended; sign in again")
	}
	if err != nil {
		return nil, err
	}
	if time.Since(row.LastSeenAt) > time.Minute {
		_ = a.db.WithContext(ctx).Exec(`UPDATE sessions SET last_seen_at = now() WHERE id_hash = ?`, hash).Error
	}
	p := &Principal{UserID: row.UserID, Email: row.Email, Operator: row.Operator, sessionHash: hash}
	if err := a.db.WithContext(ctx).Raw(`SELECT a.id, a.name, m.role FROM agency_members m JOIN agencies a ON a.id = m.agency_id
		WHERE m.user_id = ? ORDER BY a.id`, row.UserID).Scan(&p.Agencies).Error; err != nil {
		return nil, err
	}
	return p, nil
}

// EndSession revokes the session of p (sign out).
func (a *Accounts) EndSession(ctx context.Context, p *Principal) error {
	if p.sessionHash == nil {
		return nil
	}
	return a.db.WithContext(ctx).Exec(`UPDATE sessions SET revoked_at = now() WHERE id_hash = ?`, p.sessionHash).Error
}

func shortID(hash []byte) string { return base32NoPad(hash[:10]) }

// Sessions lists the user's live sessions.
func (a *Accounts) Sessions(ctx context.Context, p *Principal) ([]SessionInfo, error) {
	var rows []struct {
		IDHash     []byte
		IP         *string
		UserAgent  string
		CreatedAt  time.Time
		LastSeenAt time.Time
		ExpiresAt  time.Time
	}
	err := a.db.WithContext(ctx).Raw(`SELECT id_hash, host(ip) AS ip, user_agent, created_at, last_seen_at, expires_at FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > now() AND last_seen_at > now() - make_interval(secs => ?)
		ORDER BY last_seen_at DESC LIMIT 100`, p.UserID, SessionIdle.Seconds()).Scan(&rows).Error
	out := make([]SessionInfo, 0, len(rows))
	for _, r := range rows {
		out = append(out, SessionInfo{ID: shortID(r.IDHash), IP: r.IP, UserAgent: r.UserAgent, CreatedAt: r.CreatedAt,
			LastSeenAt: r.LastSeenAt, ExpiresAt: r.ExpiresAt, Current: string(r.IDHash) == string(p.sessionHash)})
	}
	return out, err
}

// RevokeSession ends one of the user's sessions by its listed id.
func (a *Accounts) RevokeSession(ctx context.Context, p *Principal, id string) error {
	var rows []struct{ IDHash []byte }
	if err := a.db.WithContext(ctx).Raw(`SELECT id_hash FROM sessions WHERE user_id = ? AND revoked_at IS NULL`, p.UserID).Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		if strings.EqualFold(shortID(r.IDHash), id) {
			return a.db.WithContext(ctx).Exec(`UPDATE sessions SET revoked_at = now() WHERE id_hash = ?`, db.Bytes(r.IDHash)).Error
		}
	}
	return errs.E(errs.NotFound, "session_not_found", "no such session")
}
