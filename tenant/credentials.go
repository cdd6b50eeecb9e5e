package tenant

// The credentials vault. Each tenant has two sets, test (the sandbox) and
// live, with one row per (mode, kind) in credentials: public fields in
// public, secrets sealed together in sealed with the tenant's data key (the
// tenant id, mode and kind in the associated data), and a masked hint of
// each secret in hints. No secret value ever leaves this file other than to
// the service it is for: responses carry hints, audit entries carry field
// names, errors say what is wrong with a field, never what it was.
//
// The mode rule: a tenant is live exactly while both its live miniprogram
// and live wechatpay sets are saved. Saving the second of them switches
// tenants.mode to live; deleting either switches it back to test. Every
// server process sees the change at once (the resolver's cache is told).
// The test miniprogram set belongs to the sandbox (provisioning creates it)
// and cannot be edited; only live sets can be deleted.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
)

// Credential kinds and modes.
const (
	KindMiniProgram = "miniprogram"
	ModeTest        = "test"
	ModeLive        = "live"
)

// Hint describes a secret without revealing it: whether it is set, when, and
// for long single-line secrets their last four characters.
type Hint struct {
	Set   bool       `json:"set"`
	Last4 string     `json:"last4,omitempty"`
	SetAt *time.Time `json:"set_at,omitempty"`
}

// MiniProgram is a tenant's Mini Program credentials for one mode.
type MiniProgram struct {
	Mode   string
	AppID  string
	Secret string // never serialised; callers pass it only to WeChat
}

// String formats the credentials without the secret.
func (m MiniProgram) String() string {
	return fmt.Sprintf("{Mode:%s AppID:%s Secret:[redacted]}", m.Mode, m.AppID)
}

// LogValue logs the credentials without the secret.
func (m MiniProgram) LogValue() slog.Value {
	return slog.GroupValue(slog.String("mode", m.Mode), slog.String("appid", m.AppID))
}

// hintOf masks a secret. Only secrets of 16 characters or more on one line
// show their last four: of a short secret that would be too much, and the
// end of a PEM block says nothing.
func hintOf(secret string, at time.Time) Hint {
	h := Hint{Set: secret != "", SetAt: &at}
	if len(secret) >= 16 && !strings.ContainsAny(secret, "\r\n") {
		h.Last4 = secret[len(secret)-4:]
	}
	return h
}

// putCredential stores a credential set, sealing secrets with the tenant's
// data key. With replace=false an existing set is left as it is (idempotent
// provisioning). tx must be scoped to tenantID.
func (s *Service) putCredential(ctx context.Context, tx *gorm.DB, tenantID int64, mode, kind string,
	public map[string]string, secrets map[string]string, replace bool) error {
	now := time.Now().UTC()
	hints := map[string]Hint{}
	for k, v := range secrets {
		hints[k] = hintOf(v, now)
	}
	pub := map[string]any{}
	for k, v := range public {
		pub[k] = v
	}
	return s.storeCredential(ctx, tx, tenantID, mode, kind, pub, secrets, hints, replace)
}

// storeCredential seals secrets and writes the row; replacing a row clears
// its verification, which spoke about the old values.
func (s *Service) storeCredential(ctx context.Context, tx *gorm.DB, tenantID int64, mode, kind string,
	public map[string]any, secrets map[string]string, hints map[string]Hint, replace bool) error {
	plain, err := json.Marshal(secrets)
	if err != nil {
		return err
	}
	sealed, err := s.keys.Seal(ctx, tx, tenantID, credentialPurpose(mode, kind), plain)
	if err != nil {
		return err
	}
	conflict := "DO NOTHING"
	if replace {
		conflict = `DO UPDATE SET public = EXCLUDED.public, sealed = EXCLUDED.sealed, hints = EXCLUDED.hints, updated_at = now(),
			verify_status = NULL, verify_message = '', verified_at = NULL, verify_requested_at = NULL`
	}
	return tx.WithContext(ctx).Exec(`INSERT INTO credentials (tenant_id, mode, kind, public, sealed, hints) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, mode, kind) `+conflict, tenantID, mode, kind, jsonString(public), db.Bytes(sealed), jsonString(hints)).Error
}

// The purpose binds a ciphertext to its row's mode and kind.
func credentialPurpose(mode, kind string) string { return "credentials/" + mode + "/" + kind }

// MiniProgramCredentials returns the Mini Program credentials of the tenant
// in ctx for the mode the tenant is in: the live ones once the tenant is
// live, else the sandbox ones.
func (s *Service) MiniProgramCredentials(ctx context.Context) (*MiniProgram, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return nil, errs.Wrap(db.ErrNoTenant, "credentials")
	}
	var out *MiniProgram
	err := db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		var rows []credRow
		if err := tx.Raw(`SELECT `+credColumns+` FROM credentials c JOIN tenants t ON t.id = c.tenant_id AND t.mode = c.mode
			WHERE c.tenant_id = ? AND c.kind = ?`, tid, KindMiniProgram).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return errs.E(errs.Conflict, "not_provisioned", "this shop has no Mini Program credentials yet; it is still being set up")
		}
		v, err := s.openRow(ctx, tx, tid, &rows[0])
		if err != nil {
			return err
		}
		out = &MiniProgram{Mode: rows[0].Mode, AppID: v.str("appid"), Secret: v.str("secret")}
		return nil
	})
	return out, err
}

// credRow is a credentials row.
type credRow struct {
	Mode              string
	Kind              string
	Public            []byte
	Sealed            []byte
	Hints             []byte
	UpdatedAt         time.Time
	VerifyStatus      *string
	VerifyMessage     string
	VerifiedAt        *time.Time
	VerifyRequestedAt *time.Time
}

const credColumns = `c.mode, c.kind, c.public, c.sealed, c.hints, c.updated_at, c.verify_status, c.verify_message, c.verified_at, c.verify_requested_at`

// loadRow returns the tenant's (mode, kind) row, or nil.
func loadRow(ctx context.Context, tx *gorm.DB, tid int64, mode, kind string) (*credRow, error) {
	var rows []credRow
	if err := tx.WithContext(ctx).Raw(`SELECT `+credColumns+` FROM credentials c WHERE c.tenant_id = ? AND c.mode = ? AND c.kind = ?`,
		tid, mode, kind).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// openRow returns all of a row's fields, secrets decrypted. A ciphertext
// that does not open (tampered, moved from another tenant or field, or
// sealed under a master key this process lacks) is an internal error that
// names the row, never its content.
func (s *Service) openRow(ctx context.Context, tx *gorm.DB, tid int64, r *credRow) (values, error) {
	v := values{}
	var pub map[string]any
	if err := json.Unmarshal(r.Public, &pub); err != nil {
		return nil, fmt.Errorf("credentials %s/%s of tenant %d: public fields: %w", r.Mode, r.Kind, tid, err)
	}
	for k, x := range pub {
		if l, ok := x.([]any); ok {
			v[k] = values{k: l}.list(k)
			continue
		}
		v[k] = x
	}
	plain, err := s.keys.Open(ctx, tx, tid, credentialPurpose(r.Mode, r.Kind), r.Sealed)
	if err != nil {
		return nil, fmt.Errorf("opening credentials %s/%s of tenant %d: %w", r.Mode, r.Kind, tid, err)
	}
	var sec map[string]string
	if err := json.Unmarshal(plain, &sec); err != nil {
		return nil, fmt.Errorf("credentials %s/%s of tenant %d: sealed fields are not a JSON object", r.Mode, r.Kind, tid)
	}
	for k, x := range sec {
		v[k] = x
	}
	return v, nil
}

// Verification is the state of a credential set's last check.
type Verification struct {
	// Status is ok (WeChat accepted the credentials), failed, format_checked
	// (only the format could be checked: no live check exists yet for the
	// kind), or pending (requested, never checked yet).
	Status      string     `json:"status"`
	Message     string     `json:"message"`
	CheckedAt   *time.Time `json:"checked_at"`
	RequestedAt *time.Time `json:"requested_at"`
	Pending     bool       `json:"pending"` // a check was requested after the last result
}

// CredentialSet is one (mode, kind) set as the console sees it: public
// fields and, for each secret, only a Hint.
type CredentialSet struct {
	Mode         string          `json:"mode"`
	Kind         string          `json:"kind"`
	Configured   bool            `json:"configured"`
	ManagedBy    string          `json:"managed_by,omitempty"` // "sandbox" for the test Mini Program
	Public       map[string]any  `json:"public"`
	Secrets      map[string]Hint `json:"secrets"`
	UpdatedAt    *time.Time      `json:"updated_at"`
	Verification *Verification   `json:"verification"` // null until a check is requested
}

// CredentialsOverview is every set of a tenant, by mode and kind, and the
// tenant's mode.
type CredentialsOverview struct {
	Mode        string                               `json:"mode"`
	Credentials map[string]map[string]*CredentialSet `json:"credentials"`
}

func verificationOf(r *credRow) *Verification {
	if r.VerifyStatus == nil && r.VerifyRequestedAt == nil {
		return nil
	}
	v := &Verification{Message: r.VerifyMessage, CheckedAt: r.VerifiedAt, RequestedAt: r.VerifyRequestedAt}
	if r.VerifyStatus != nil {
		v.Status = *r.VerifyStatus
	} else {
		v.Status = "pending"
	}
	v.Pending = r.VerifyRequestedAt != nil && (r.VerifiedAt == nil || r.VerifyRequestedAt.After(*r.VerifiedAt))
	return v
}

// setView builds what the console sees of a row (nil: not configured). Only
// the kind's public fields are copied from public, so nothing else can slip
// out.
func setView(mode, kind string, r *credRow) (*CredentialSet, error) {
	spec, err := specOf(kind)
	if err != nil {
		return nil, err
	}
	v := &CredentialSet{Mode: mode, Kind: kind, Public: map[string]any{}, Secrets: map[string]Hint{}}
	if mode == ModeTest && kind == KindMiniProgram {
		v.ManagedBy = "sandbox"
	}
	var pub map[string]any
	hints := map[string]Hint{}
	if r != nil {
		v.Configured = true
		if err := json.Unmarshal(r.Public, &pub); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(r.Hints, &hints); err != nil {
			return nil, err
		}
		v.UpdatedAt = &r.UpdatedAt
		v.Verification = verificationOf(r)
	}
	for _, f := range spec.fields {
		if f.secret {
			h := hints[f.name]
			if !h.Set {
				h = Hint{}
			}
			v.Secrets[f.name] = h
		} else if x, ok := pub[f.name]; ok {
			v.Public[f.name] = x
		}
	}
	return v, nil
}

// Credentials returns every credential set of the tenant in ctx, masked.
func (s *Service) Credentials(ctx context.Context) (*CredentialsOverview, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	out := &CredentialsOverview{Credentials: map[string]map[string]*CredentialSet{}}
	err = db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Raw(`SELECT mode FROM tenants WHERE id = ?`, tid).Scan(&out.Mode).Error; err != nil {
			return err
		}
		var rows []credRow
		if err := tx.Raw(`SELECT `+credColumns+` FROM credentials c WHERE c.tenant_id = ?`, tid).Scan(&rows).Error; err != nil {
			return err
		}
		for _, mode := range CredentialModes {
			out.Credentials[mode] = map[string]*CredentialSet{}
			for _, kind := range CredentialKinds {
				var row *credRow
				for i := range rows {
					if rows[i].Mode == mode && rows[i].Kind == kind {
						row = &rows[i]
					}
				}
				v, err := setView(mode, kind, row)
				if err != nil {
					return err
				}
				out.Credentials[mode][kind] = v
			}
		}
		return nil
	})
	localizeVerifications(ctx, out)
	return out, err
}

// SavedCredentials is the answer to a save: the set as now stored, the
// fields that changed (names only) and the tenant's mode afterwards.
type SavedCredentials struct {
	TenantMode    string         `json:"tenant_mode"`
	FieldsChanged []string       `json:"fields_changed"`
	Credential    *CredentialSet `json:"credential"`
}

// SaveCredentials validates and stores the (mode, kind) set of the tenant in
// ctx. in is the kind's input (see NewCredentialInput): omitted fields keep
// their stored value, empty ones are cleared, and the whole resulting set
// must be valid (invalid: details.field names the offending field). The test
// Mini Program is the sandbox's (unprocessable). Saving clears the last
// verification, writes an audit entry naming the changed fields, and may
// switch the tenant to live (see the mode rule above).
func (s *Service) SaveCredentials(ctx context.Context, mode, kind string, in any) (*SavedCredentials, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkMode(mode); err != nil {
		return nil, err
	}
	spec, err := specOf(kind)
	if err != nil {
		return nil, err
	}
	if mode == ModeTest && kind == KindMiniProgram {
		return nil, errs.E(errs.Unprocessable, "sandbox_managed",
			"the test Mini Program is the sandbox's and is set up automatically; save your own AppID and AppSecret under live")
	}
	given := provided(in)
	out := &SavedCredentials{FieldsChanged: []string{}}
	var invalidate []string
	err = db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		t, err := lockTenant(ctx, tx, tid)
		if err != nil {
			return err
		}
		row, err := loadRow(ctx, tx, tid, mode, kind)
		if err != nil {
			return err
		}
		cur := values{}
		oldHints := map[string]Hint{}
		if row != nil {
			if cur, err = s.openRow(ctx, tx, tid, row); err != nil {
				return err
			}
			if err := json.Unmarshal(row.Hints, &oldHints); err != nil {
				return err
			}
		}
		next := maps.Clone(cur)
		for k, v := range given {
			if empty(v) {
				delete(next, k)
			} else {
				next[k] = v
			}
		}
		if err := spec.validate(next); err != nil {
			return err
		}
		out.FieldsChanged = changedFields(cur, next)
		if row == nil || len(out.FieldsChanged) > 0 {
			public, secrets := map[string]any{}, map[string]string{}
			hints := map[string]Hint{}
			now := time.Now().UTC()
			for k, v := range next {
				if !spec.isSecret(k) {
					public[k] = v
					continue
				}
				secrets[k] = v.(string)
				if h, ok := oldHints[k]; ok && h.Set && !slices.Contains(out.FieldsChanged, k) {
					hints[k] = h
				} else {
					hints[k] = hintOf(v.(string), now)
				}
			}
			if err := s.storeCredential(ctx, tx, tid, mode, kind, public, secrets, hints, true); err != nil {
				return err
			}
		}
		if err := audit(ctx, tx, tid, "credentials.saved", "credentials:"+mode+"/"+kind,
			map[string]any{"mode": mode, "kind": kind, "created": row == nil, "fields_changed": out.FieldsChanged}); err != nil {
			return err
		}
		if invalidate, err = s.syncMode(ctx, tx, t); err != nil {
			return err
		}
		out.TenantMode = t.Mode
		if row, err = loadRow(ctx, tx, tid, mode, kind); err != nil {
			return err
		}
		out.Credential, err = setView(mode, kind, row)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(invalidate) > 0 {
		s.resolver.Changed(ctx, invalidate...)
	}
	return out, nil
}

// changedFields lists, sorted, the fields whose value differs (set, changed
// or cleared).
func changedFields(a, b values) []string {
	out := []string{}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	for k, v := range b {
		if !sameValue(a[k], v) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func sameValue(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []string:
		y, ok := b.([]string)
		return ok && slices.Equal(x, y)
	}
	return a == nil && b == nil
}

// DeleteCredentials removes the tenant's live (kind) set and returns the
// tenant's mode afterwards: removing the live miniprogram or wechatpay set
// puts a live tenant back in test mode. Test sets cannot be deleted
// (unprocessable); a set that is not there is not_found.
func (s *Service) DeleteCredentials(ctx context.Context, mode, kind string) (string, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return "", err
	}
	if err := checkMode(mode); err != nil {
		return "", err
	}
	if _, err := specOf(kind); err != nil {
		return "", err
	}
	if mode != ModeLive {
		return "", errs.E(errs.Unprocessable, "test_credentials_kept", "only live credentials can be deleted; edit test credentials instead")
	}
	var tenantMode string
	var invalidate []string
	err = db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		t, err := lockTenant(ctx, tx, tid)
		if err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM credentials WHERE tenant_id = ? AND mode = ? AND kind = ?`, tid, mode, kind)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.E(errs.NotFound, "credentials_not_found", "no "+mode+" "+kind+" credentials are saved")
		}
		if err := audit(ctx, tx, tid, "credentials.deleted", "credentials:"+mode+"/"+kind, map[string]any{"mode": mode, "kind": kind}); err != nil {
			return err
		}
		invalidate, err = s.syncMode(ctx, tx, t)
		tenantMode = t.Mode
		return err
	})
	if err != nil {
		return "", err
	}
	if len(invalidate) > 0 {
		s.resolver.Changed(ctx, invalidate...)
	}
	return tenantMode, nil
}

type lockedTenant struct {
	ID   int64
	Slug string
	Mode string
}

// lockTenant locks the tenant's row: credential changes of one tenant run
// one at a time, so two saves cannot both miss the other when deciding the
// tenant's mode, nor overwrite each other's fields.
func lockTenant(ctx context.Context, tx *gorm.DB, tid int64) (*lockedTenant, error) {
	var t lockedTenant
	err := tx.WithContext(ctx).Raw(`SELECT id, slug, mode FROM tenants WHERE id = ? FOR UPDATE`, tid).Take(&t).Error
	if err != nil {
		return nil, db.NotFound(err, "tenant_not_found", "this shop no longer exists")
	}
	return &t, nil
}

// syncMode applies the mode rule after a change of t's credentials and
// returns the resolver keys to invalidate once committed (none if the mode
// stays). tx holds t's lock.
func (s *Service) syncMode(ctx context.Context, tx *gorm.DB, t *lockedTenant) ([]string, error) {
	var n int64
	if err := tx.WithContext(ctx).Raw(`SELECT count(*) FROM credentials WHERE tenant_id = ? AND mode = ? AND kind IN (?, ?)`,
		t.ID, ModeLive, KindMiniProgram, KindWeChatPay).Scan(&n).Error; err != nil {
		return nil, err
	}
	want := ModeTest
	if n == 2 {
		want = ModeLive
	}
	if want == t.Mode {
		return nil, nil
	}
	if err := tx.WithContext(ctx).Exec(`UPDATE tenants SET mode = ?, updated_at = now() WHERE id = ?`, want, t.ID).Error; err != nil {
		return nil, err
	}
	if err := audit(ctx, tx, t.ID, "tenant.mode_changed", "tenant:"+t.Slug, map[string]any{"from": t.Mode, "to": want}); err != nil {
		return nil, err
	}
	t.Mode = want
	var domains []string
	if err := tx.WithContext(ctx).Raw(`SELECT domain FROM tenant_domains WHERE tenant_id = ?`, t.ID).Scan(&domains).Error; err != nil {
		return nil, err
	}
	keys := []string{slugKey(t.Slug)}
	for _, d := range domains {
		keys = append(keys, domainKey(d))
	}
	return keys, nil
}

// TaskVerifyCredentials is the task that checks a credential set.
const TaskVerifyCredentials = "credentials.verify"

// verifyRequest is the outbox payload of TaskVerifyCredentials.
type verifyRequest struct {
	Mode string `json:"mode"`
	Kind string `json:"kind"`
}

// RequestVerification schedules a check of the tenant's (mode, kind) set by
// the worker (TaskVerifyCredentials, through the outbox in the same
// transaction) and returns the verification state, now pending. A set that
// is not saved is not_found.
func (s *Service) RequestVerification(ctx context.Context, mode, kind string) (*Verification, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkMode(mode); err != nil {
		return nil, err
	}
	if _, err := specOf(kind); err != nil {
		return nil, err
	}
	var out *Verification
	err = db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE credentials SET verify_requested_at = clock_timestamp() WHERE tenant_id = ? AND mode = ? AND kind = ?`, tid, mode, kind)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.E(errs.NotFound, "credentials_not_found", "no "+mode+" "+kind+" credentials are saved; save them before verifying")
		}
		if err := outbox.Add(ctx, tx, outbox.Message{Kind: TaskVerifyCredentials, TenantID: tid, Data: verifyRequest{Mode: mode, Kind: kind}}); err != nil {
			return err
		}
		if err := audit(ctx, tx, tid, "credentials.verify_requested", "credentials:"+mode+"/"+kind, map[string]any{"mode": mode, "kind": kind}); err != nil {
			return err
		}
		row, err := loadRow(ctx, tx, tid, mode, kind)
		if err != nil {
			return err
		}
		out = verificationOf(row)
		return nil
	})
	return out, err
}
