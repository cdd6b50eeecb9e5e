package tenant

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"image/png"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/vault"
)

// User is a person who signs in to the admin console. Users are global: one
// email, one password, one login, whatever shops and agencies they work for.
type User struct {
	ID          int64     `json:"id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	TOTPEnabled bool      `json:"totp_enabled"`
	Operator    bool      `json:"operator"`
	CreatedAt   time.Time `json:"created_at"`
}

// PasswordParams are the argon2id parameters (OWASP's baseline: 19 MiB,
// two passes, one lane). Tests may lower them.
var PasswordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Lockout thresholds: within the window, an account locks after
// accountLimit failures and an IP after ipLimit.
const (
	lockWindow   = 15 * time.Minute
	accountLimit = 10
	ipLimit      = 50
)

// Accounts manages users, passwords, two-factor and sign-in.
type Accounts struct {
	db     *gorm.DB
	keys   *vault.Keyring
	rdb    *redis.Client
	log    *slog.Logger
	issuer string
	params *argon2id.Params
	dummy  string // a hash to compare against for unknown emails, so timing does not tell
}

// NewAccounts wires Accounts.
func NewAccounts(g *gorm.DB, keys *vault.Keyring, rdb *redis.Client, log *slog.Logger, params *argon2id.Params) *Accounts {
	if params == nil {
		params = PasswordParams
	}
	d, _ := argon2id.CreateHash("not a real password", params)
	return &Accounts{db: g, keys: keys, rdb: rdb, log: log, issuer: "Minishop", params: params, dummy: d}
}

// NormalizeEmail lower-cases and trims an email and checks its shape.
func NormalizeEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	at := strings.LastIndex(e, "@")
	if len(e) > 254 || at < 1 || at == len(e)-1 || !strings.Contains(e[at:], ".") || strings.ContainsAny(e, " \t\r\n<>,;") {
		return "", errs.E(errs.Invalid, "invalid_email", "enter an email address such as name@example.com").WithDetails(map[string]string{"field": "email"})
	}
	return e, nil
}

// ValidatePassword enforces a minimum length (and a sane maximum): length is
// what makes a password strong.
func ValidatePassword(p string) error {
	n := utf8.RuneCountInString(p)
	if n < 10 {
		return errs.E(errs.Invalid, "weak_password", "the password must be at least 10 characters long").WithDetails(map[string]string{"field": "password"})
	}
	if len(p) > 512 {
		return errs.E(errs.Invalid, "invalid_password", "the password must be at most 512 bytes").WithDetails(map[string]string{"field": "password"})
	}
	return nil
}

// CreateUser creates a user with a password. A taken email is a conflict.
func (a *Accounts) CreateUser(ctx context.Context, email, name, password string) (*User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 120 {
		return nil, errs.E(errs.Invalid, "invalid_name", "the name must be at most 120 characters")
	}
	return a.createUser(ctx, a.db, email, name, password)
}

func (a *Accounts) createUser(ctx context.Context, tx *gorm.DB, email, name, password string) (*User, error) {
	hash, err := argon2id.CreateHash(password, a.params)
	if err != nil {
		return nil, err
	}
	var u User
	err = tx.WithContext(ctx).Raw(`INSERT INTO users (email, name, password_hash) VALUES (?, ?, ?)
		RETURNING id, email, name, operator, created_at`, email, name, hash).Scan(&u).Error
	if db.IsUniqueViolation(err, "") {
		return nil, errs.E(errs.Conflict, "email_taken", "an account with this email already exists; sign in instead")
	}
	return &u, err
}

// UserByEmail returns the user with email, or not_found.
func (a *Accounts) UserByEmail(ctx context.Context, email string) (*User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	return a.user(ctx, "email = ?", email)
}

// UserByID returns the user with id, or not_found.
func (a *Accounts) UserByID(ctx context.Context, id int64) (*User, error) {
	return a.user(ctx, "id = ?", id)
}

func (a *Accounts) user(ctx context.Context, where string, arg any) (*User, error) {
	var u User
	err := a.db.WithContext(ctx).Raw(`SELECT id, email, name, operator, created_at, totp_enabled_at IS NOT NULL AS totp_enabled
		FROM users WHERE `+where, arg).Take(&u).Error
	if err != nil {
		return nil, db.NotFound(err, "user_not_found", "no such user")
	}
	return &u, nil
}

// SetOperator makes a user a platform operator (or not).
func (a *Accounts) SetOperator(ctx context.Context, userID int64, on bool) error {
	return a.db.WithContext(ctx).Exec(`UPDATE users SET operator = ?, updated_at = now() WHERE id = ?`, on, userID).Error
}

// SetPassword replaces a user's password and signs them out everywhere.
func (a *Accounts) SetPassword(ctx context.Context, userID int64, password string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	hash, err := argon2id.CreateHash(password, a.params)
	if err != nil {
		return err
	}
	return a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE users SET password_hash = ?, updated_at = now() WHERE id = ?`, hash, userID).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE sessions SET revoked_at = now() WHERE user_id = ? AND revoked_at IS NULL`, userID).Error
	})
}

// Credentials are what a person types to sign in.
type Credentials struct {
	Email    string `json:"email" binding:"required"`
	Password string `json:"password" binding:"required"`
	TOTP     string `json:"totp"` // a 6-digit code or a recovery code; required once two-factor is on
}

func hashKey(s string) string {
	h := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(h[:12])
}

func (a *Accounts) throttleKeys(email, ip string) (acct, addr string) {
	return "minishop:login:fail:acct:" + hashKey(email), "minishop:login:fail:ip:" + hashKey(ip)
}

// checkThrottle refuses sign-in for a locked account or IP. With Redis down
// it lets the attempt through (argon2id still makes guessing slow) and logs.
func (a *Accounts) checkThrottle(ctx context.Context, email, ip string) error {
	acct, addr := a.throttleKeys(email, ip)
	for _, k := range []struct {
		key   string
		limit int64
	}{{acct, accountLimit}, {addr, ipLimit}} {
		n, err := a.rdb.Get(ctx, k.key).Int64()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			a.log.Warn("sign-in throttle unavailable", "err", err)
			return nil
		}
		if n >= k.limit {
			ttl, _ := a.rdb.TTL(ctx, k.key).Result()
			mins := int(ttl.Minutes()) + 1
			return errs.E(errs.RateLimited, "too_many_attempts",
				fmt.Sprintf("too many failed sign-in attempts; try again in %d minute(s)", mins)).
				WithDetails(map[string]int{"retry_after_seconds": int(ttl.Seconds())})
		}
	}
	return nil
}

func (a *Accounts) recordFailure(ctx context.Context, email, ip string) {
	acct, addr := a.throttleKeys(email, ip)
	pipe := a.rdb.TxPipeline()
	for _, k := range []string{acct, addr} {
		pipe.Incr(ctx, k)
		pipe.ExpireNX(ctx, k, lockWindow)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		a.log.Warn("sign-in throttle unavailable", "err", err)
	}
}

// SignIn checks credentials (and the second factor when enabled). Wrong
// email or password are indistinguishable; repeated failures lock the account
// and the IP for a while (429).
func (a *Accounts) SignIn(ctx context.Context, c Credentials, ip string) (*User, error) {
	email := strings.ToLower(strings.TrimSpace(c.Email))
	if err := a.checkThrottle(ctx, email, ip); err != nil {
		return nil, err
	}
	bad := errs.E(errs.Unauthorized, "invalid_credentials", "the email or password is not correct")
	var row struct {
		ID            int64
		PasswordHash  string
		TOTPSealed    []byte
		TOTPEnabledAt *time.Time
	}
	err := a.db.WithContext(ctx).Raw(`SELECT id, password_hash, totp_sealed, totp_enabled_at FROM users WHERE email = ?`, email).Scan(&row).Error
	if err != nil {
		return nil, err
	}
	hash := row.PasswordHash
	if row.ID == 0 {
		hash = a.dummy
	}
	ok, err := argon2id.ComparePasswordAndHash(c.Password, hash)
	if err != nil || !ok || row.ID == 0 {
		a.recordFailure(ctx, email, ip)
		return nil, bad
	}
	if row.TOTPEnabledAt != nil {
		code := strings.TrimSpace(c.TOTP)
		if code == "" {
			return nil, errs.E(errs.Unauthorized, "totp_required", "enter the 6-digit code from your authenticator app, or a recovery code")
		}
		if !a.checkSecondFactor(ctx, row.ID, row.TOTPSealed, code) {
			a.recordFailure(ctx, email, ip)
			return nil, errs.E(errs.Unauthorized, "invalid_totp", "the code is not correct or was already used")
		}
	}
	acct, _ := a.throttleKeys(email, ip)
	_ = a.rdb.Del(ctx, acct).Err()
	return a.UserByID(ctx, row.ID)
}

func totpPurpose(userID int64) string { return "totp/" + strconv.FormatInt(userID, 10) }

// checkSecondFactor accepts a current TOTP code (once: a replayed code within
// its window is refused) or an unused recovery code (then used up).
func (a *Accounts) checkSecondFactor(ctx context.Context, userID int64, sealed []byte, code string) bool {
	if len(code) == 6 {
		secret, err := a.keys.OpenGlobal(totpPurpose(userID), sealed)
		if err != nil {
			a.log.Error("opening a TOTP secret failed", "user_id", userID, "err", err)
			return false
		}
		ok, _ := totp.ValidateCustom(code, string(secret), time.Now(), totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if !ok {
			return false
		}
		// One use per code: remember it for its whole validity window.
		set, err := a.rdb.SetNX(ctx, fmt.Sprintf("minishop:totp:used:%d:%s", userID, code), 1, 2*time.Minute).Result()
		return err != nil || set
	}
	h := recoveryHash(code)
	res := a.db.WithContext(ctx).Exec(`UPDATE recovery_codes SET used_at = now() WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`, userID, h)
	return res.Error == nil && res.RowsAffected == 1
}

func recoveryHash(code string) []byte {
	c := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	h := sha256.Sum256([]byte("minishop recovery code:" + c))
	return h[:]
}

// Enrollment is what a user needs to add Minishop to an authenticator app.
type Enrollment struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
	QRCodePNG  string `json:"qr_png_base64"`
}

// BeginTOTP generates a new TOTP secret for the user (replacing an
// unconfirmed one). Two-factor is on only after ConfirmTOTP.
func (a *Accounts) BeginTOTP(ctx context.Context, userID int64) (*Enrollment, error) {
	u, err := a.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.TOTPEnabled {
		return nil, errs.E(errs.Conflict, "totp_enabled", "two-factor sign-in is already on; turn it off first to enrol a new device")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: a.issuer, AccountName: u.Email})
	if err != nil {
		return nil, err
	}
	sealed, err := a.keys.SealGlobal(totpPurpose(userID), []byte(key.Secret()))
	if err != nil {
		return nil, err
	}
	if err := a.db.WithContext(ctx).Exec(`UPDATE users SET totp_sealed = ?, updated_at = now() WHERE id = ?`, sealed, userID).Error; err != nil {
		return nil, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &Enrollment{Secret: key.Secret(), OTPAuthURL: key.URL(), QRCodePNG: base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// ConfirmTOTP turns two-factor on once the user proves a code, and returns
// ten single-use recovery codes (shown once; stored hashed).
func (a *Accounts) ConfirmTOTP(ctx context.Context, userID int64, code string) ([]string, error) {
	var row struct{ TOTPSealed []byte }
	if err := a.db.WithContext(ctx).Raw(`SELECT totp_sealed FROM users WHERE id = ? AND totp_enabled_at IS NULL`, userID).Scan(&row).Error; err != nil {
		return nil, err
	}
	sealed := row.TOTPSealed
	if sealed == nil {
		return nil, errs.E(errs.Conflict, "no_enrollment", "start two-factor enrolment first")
	}
	if !a.checkSecondFactor(ctx, userID, sealed, strings.TrimSpace(code)) {
		return nil, errs.E(errs.Invalid, "invalid_totp", "the code is not correct; check the time on your phone and try the next code")
	}
	codes := make([]string, 10)
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM recovery_codes WHERE user_id = ?`, userID).Error; err != nil {
			return err
		}
		for i := range codes {
			b := make([]byte, 5)
			_, _ = rand.Read(b)
			raw := strings.ToLower(base32NoPad(b))
			codes[i] = raw[:4] + "-" + raw[4:]
			if err := tx.Exec(`INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, db.Bytes(recoveryHash(codes[i]))).Error; err != nil {
				return err
			}
		}
		return tx.Exec(`UPDATE users SET totp_enabled_at = now(), updated_at = now() WHERE id = ?`, userID).Error
	})
	return codes, err
}

// DisableTOTP turns two-factor off after checking the password.
func (a *Accounts) DisableTOTP(ctx context.Context, userID int64, password string) error {
	var hash string
	if err := a.db.WithContext(ctx).Raw(`SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&hash).Error; err != nil {
		return err
	}
	if ok, _ := argon2id.ComparePasswordAndHash(password, hash); !ok {
		return errs.E(errs.Invalid, "invalid_password", "the password is not correct")
	}
	return a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM recovery_codes WHERE user_id = ?`, userID).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE users SET totp_sealed = NULL, totp_enabled_at = NULL, updated_at = now() WHERE id = ?`, userID).Error
	})
}
