package tenant

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// Team manages who works on which shop: memberships, invitations, agencies
// and agencies' access to shops. Every change to a role assignment is
// handed to the Authorizer, which applies it on every process at once.
type Team struct {
	db        *gorm.DB
	accounts  *Accounts
	authz     *Authorizer
	mail      Mailer
	publicURL string
	hosts     *Resolver // names shops by their storefront address (SetResolver)
}

// NewTeam wires a Team. publicURL is where links in emails point.
func NewTeam(g *gorm.DB, accounts *Accounts, authz *Authorizer, mail Mailer, publicURL string) *Team {
	return &Team{db: g, accounts: accounts, authz: authz, mail: mail, publicURL: strings.TrimRight(publicURL, "/")}
}

// InvitationTTL is how long an invitation link works.
var InvitationTTL = 7 * 24 * time.Hour

// Member is a user's membership in a tenant.
type Member struct {
	UserID    int64     `json:"user_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

func tenantOf(ctx context.Context) (int64, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return 0, errs.Wrap(db.ErrNoTenant, "team")
	}
	return tid, nil
}

// Members lists the tenant's members.
func (t *Team) Members(ctx context.Context) ([]Member, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	out := []Member{}
	err = t.db.WithContext(ctx).Raw(`SELECT m.user_id, u.email, u.name, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.tenant_id = ? ORDER BY m.created_at, m.user_id LIMIT 1000`, tid).Scan(&out).Error
	return out, err
}

// AddMember gives an existing user a role in the tenant of ctx (operator CLI
// and accepted invitations). A current member gets the new role.
func (t *Team) AddMember(ctx context.Context, userID int64, role string) error {
	if !ValidRole(role) {
		return errs.E(errs.Invalid, "invalid_role", "role must be one of "+strings.Join(TenantRoles, ", "))
	}
	tid, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	err = t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO memberships (tenant_id, user_id, role) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()`, tid, userID, role).Error; err != nil {
			return err
		}
		if err := t.ensureOwner(tx, tid); err != nil {
			return err
		}
		return auditIn(ctx, tx, tid, "member.added", "user:"+strconv.FormatInt(userID, 10), map[string]any{"role": role})
	})
	if err != nil {
		return err
	}
	t.authz.Changed(ctx, UserSubject(userID), tid)
	return nil
}

// auditIn writes an audit entry for tid inside a transaction that is not
// otherwise tenant-scoped.
func auditIn(ctx context.Context, tx *gorm.DB, tid int64, action, object string, data map[string]any) error {
	if err := tx.Exec("SELECT set_config('app.tenant_id', ?, true)", strconv.FormatInt(tid, 10)).Error; err != nil {
		return err
	}
	return audit(ctx, tx, tid, action, object, data)
}

// ensureOwner fails the transaction if the tenant would be left without an
// owner. The owner rows are locked, so two concurrent demotions cannot both pass.
func (t *Team) ensureOwner(tx *gorm.DB, tid int64) error {
	var owners []int64
	if err := tx.Raw(`SELECT user_id FROM memberships WHERE tenant_id = ? AND role = 'owner' FOR UPDATE`, tid).Scan(&owners).Error; err != nil {
		return err
	}
	if len(owners) == 0 {
		return errs.E(errs.Conflict, "last_owner", "a shop must keep at least one owner; make someone else owner first")
	}
	return nil
}

// SetRole changes a member's role. Only a principal allowed
// ownership:transfer may make or unmake owners; the last owner stays.
func (t *Team) SetRole(ctx context.Context, p *Principal, userID int64, role string) (*Member, error) {
	if !ValidRole(role) {
		return nil, errs.E(errs.Invalid, "invalid_role", "role must be one of "+strings.Join(TenantRoles, ", "))
	}
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	canOwn := p.TokenID == 0 && t.authz.Allowed(tid, "ownership:transfer", p.Subjects()...)
	err = t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur string
		if err := tx.Raw(`SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ? FOR UPDATE`, tid, userID).Scan(&cur).Error; err != nil {
			return err
		}
		if cur == "" {
			return errs.E(errs.NotFound, "member_not_found", "no such member in this shop")
		}
		if (cur == RoleOwner || role == RoleOwner) && cur != role && !canOwn {
			return errs.E(errs.Forbidden, "forbidden", "only an owner can make or unmake owners")
		}
		if err := tx.Exec(`UPDATE memberships SET role = ?, updated_at = now() WHERE tenant_id = ? AND user_id = ?`, role, tid, userID).Error; err != nil {
			return err
		}
		if err := t.ensureOwner(tx, tid); err != nil {
			return err
		}
		return auditIn(ctx, tx, tid, "member.role_changed", "user:"+strconv.FormatInt(userID, 10), map[string]any{"from": cur, "to": role})
	})
	if err != nil {
		return nil, err
	}
	t.authz.Changed(ctx, UserSubject(userID), tid)
	ms, err := t.Members(ctx)
	for _, m := range ms {
		if m.UserID == userID {
			return &m, err
		}
	}
	return nil, err
}

// RemoveMember takes a user out of the tenant; removing an owner needs
// ownership:transfer, and the last owner stays.
func (t *Team) RemoveMember(ctx context.Context, p *Principal, userID int64) error {
	tid, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	canOwn := p.TokenID == 0 && t.authz.Allowed(tid, "ownership:transfer", p.Subjects()...)
	err = t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur string
		if err := tx.Raw(`DELETE FROM memberships WHERE tenant_id = ? AND user_id = ? RETURNING role`, tid, userID).Scan(&cur).Error; err != nil {
			return err
		}
		if cur == "" {
			return errs.E(errs.NotFound, "member_not_found", "no such member in this shop")
		}
		if cur == RoleOwner && !canOwn {
			return errs.E(errs.Forbidden, "forbidden", "only an owner can remove an owner")
		}
		if err := t.ensureOwner(tx, tid); err != nil {
			return err
		}
		return auditIn(ctx, tx, tid, "member.removed", "user:"+strconv.FormatInt(userID, 10), map[string]any{"role": cur})
	})
	if err != nil {
		return err
	}
	t.authz.Changed(ctx, UserSubject(userID), tid)
	return nil
}

// Invitation is a pending invitation to a shop or an agency.
type Invitation struct {
	ID         int64      `json:"id"`
	Email      string     `json:"email"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedAt *time.Time `json:"accepted_at"`
	Link       string     `json:"link,omitempty"` // only to the inviter, in dev mode tests read it from the mail
}

// InviteInput invites someone by email.
type InviteInput struct {
	Email string `json:"email" binding:"required"`
	Role  string `json:"role" binding:"required"`
}

// Invite sends an invitation to join the tenant of ctx with a role.
func (t *Team) Invite(ctx context.Context, p *Principal, in InviteInput) (*Invitation, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if !ValidRole(in.Role) {
		return nil, errs.E(errs.Invalid, "invalid_role", "role must be one of "+strings.Join(TenantRoles, ", "))
	}
	if in.Role == RoleOwner && !(p.TokenID == 0 && t.authz.Allowed(tid, "ownership:transfer", p.Subjects()...)) {
		return nil, errs.E(errs.Forbidden, "forbidden", "only an owner can invite another owner")
	}
	var shopName string
	if err := t.db.WithContext(ctx).Raw(`SELECT name FROM tenants WHERE id = ?`, tid).Scan(&shopName).Error; err != nil {
		return nil, err
	}
	return t.invite(ctx, p, &tid, nil, email, in.Role, shopName)
}

func (t *Team) invite(ctx context.Context, p *Principal, tid, agencyID *int64, email, role, what string) (*Invitation, error) {
	token, hash := newSecret(24)
	var inv Invitation
	err := t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var by any
		if p != nil && p.UserID > 0 {
			by = p.UserID
		}
		if err := tx.Raw(`INSERT INTO invitations (token_hash, tenant_id, agency_id, email, role, invited_by, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, email, role, created_at, expires_at`,
			db.Bytes(hash), tid, agencyID, email, role, by, time.Now().Add(InvitationTTL)).Scan(&inv).Error; err != nil {
			return err
		}
		if tid != nil {
			if err := auditIn(ctx, tx, *tid, "invitation.sent", "invitation:"+strconv.FormatInt(inv.ID, 10), map[string]any{"email": email, "role": role}); err != nil {
				return err
			}
		}
		link := t.publicURL + "/admin/invite/" + token
		body := fmt.Sprintf("You are invited to join %s on Minishop as %s.\n\nAccept the invitation: %s\n\nThe link works once and expires on %s.\n",
			what, role, link, inv.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
		return t.mail.Send(ctx, email, "Invitation to "+what+" on Minishop", body)
	})
	return &inv, err
}

// Invitations lists the tenant's pending invitations.
func (t *Team) Invitations(ctx context.Context) ([]Invitation, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	out := []Invitation{}
	err = t.db.WithContext(ctx).Raw(`SELECT id, email, role, created_at, expires_at, accepted_at FROM invitations
		WHERE tenant_id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() ORDER BY id DESC LIMIT 500`, tid).Scan(&out).Error
	return out, err
}

// RevokeInvitation cancels a pending invitation of the tenant.
func (t *Team) RevokeInvitation(ctx context.Context, id int64) error {
	tid, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	return t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE invitations SET revoked_at = now() WHERE id = ? AND tenant_id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, id, tid)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.E(errs.NotFound, "invitation_not_found", "no such pending invitation")
		}
		return auditIn(ctx, tx, tid, "invitation.revoked", "invitation:"+strconv.FormatInt(id, 10), nil)
	})
}

// InvitationInfo is what the invitee sees before accepting.
type InvitationInfo struct {
	Email      string    `json:"email"`
	Role       string    `json:"role"`
	Shop       *string   `json:"shop"`   // shop name, for a shop invitation
	Agency     *string   `json:"agency"` // agency name, for an agency invitation
	ExpiresAt  time.Time `json:"expires_at"`
	UserExists bool      `json:"user_exists"` // sign in to accept, rather than choose a password
}

type invitationRow struct {
	ID         int64
	TenantID   *int64
	AgencyID   *int64
	Email      string
	Role       string
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	RevokedAt  *time.Time
	Shop       *string
	Agency     *string
	UserExists bool
}

func (t *Team) invitation(ctx context.Context, tx *gorm.DB, token string, lock bool) (*invitationRow, error) {
	var r invitationRow
	q := `SELECT i.id, i.tenant_id, i.agency_id, i.email, i.role, i.expires_at, i.accepted_at, i.revoked_at,
		(SELECT name FROM tenants WHERE id = i.tenant_id) AS shop, (SELECT name FROM agencies WHERE id = i.agency_id) AS agency,
		EXISTS (SELECT 1 FROM users u WHERE u.email = i.email) AS user_exists
		FROM invitations i WHERE i.token_hash = ?`
	if lock {
		q += ` FOR UPDATE OF i`
	}
	if err := tx.WithContext(ctx).Raw(q, secretHash(token)).Scan(&r).Error; err != nil {
		return nil, err
	}
	switch {
	case r.ID == 0, r.RevokedAt != nil:
		return nil, errs.E(errs.NotFound, "invitation_not_found", "this invitation link is not valid; ask for a new one")
	case r.AcceptedAt != nil:
		return nil, errs.E(errs.Conflict, "invitation_used", "this invitation was already accepted; sign in instead")
	case time.Now().After(r.ExpiresAt):
		return nil, errs.E(errs.Conflict, "invitation_expired", "this invitation has expired; ask for a new one")
	}
	return &r, nil
}

// InvitationByToken returns what an invitation link is for.
func (t *Team) InvitationByToken(ctx context.Context, token string) (*InvitationInfo, error) {
	r, err := t.invitation(ctx, t.db, token, false)
	if err != nil {
		return nil, err
	}
	return &InvitationInfo{Email: r.Email, Role: r.Role, Shop: r.Shop, Agency: r.Agency, ExpiresAt: r.ExpiresAt, UserExists: r.UserExists}, nil
}

// AcceptInput accepts an invitation; name and password create the account
// when the invitee has none.
type AcceptInput struct {
	Token    string `json:"token" binding:"required"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// Accept accepts an invitation, once. A signed-in principal must be the
// invited email; without one, the invited email must not have an account yet
// (then name and password create it). It returns the user who joined.
func (t *Team) Accept(ctx context.Context, p *Principal, in AcceptInput) (*User, error) {
	var userID int64
	var tid, agencyID *int64
	err := t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := t.invitation(ctx, tx, in.Token, true)
		if err != nil {
			return err
		}
		switch {
		case p != nil && p.Email != r.Email:
			return errs.E(errs.Forbidden, "wrong_account", "this invitation is for "+r.Email+"; sign out and sign in as that account")
		case p != nil:
			userID = p.UserID
		case r.UserExists:
			return errs.E(errs.Unauthorized, "sign_in_required", "an account with "+r.Email+" exists; sign in to accept")
		default:
			if err := ValidatePassword(in.Password); err != nil {
				return err
			}
			u, err := t.accounts.createUser(ctx, tx, r.Email, strings.TrimSpace(in.Name), in.Password)
			if err != nil {
				return err
			}
			userID = u.ID
		}
		if err := tx.Exec(`UPDATE invitations SET accepted_at = now() WHERE id = ?`, r.ID).Error; err != nil {
			return err
		}
		tid, agencyID = r.TenantID, r.AgencyID
		if tid != nil {
			if err := tx.Exec(`INSERT INTO memberships (tenant_id, user_id, role) VALUES (?, ?, ?)
				ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()`, *tid, userID, r.Role).Error; err != nil {
				return err
			}
			if err := t.ensureOwner(tx, *tid); err != nil {
				return err
			}
			return auditIn(scope.WithActor(ctx, scope.Actor{Kind: "user", ID: strconv.FormatInt(userID, 10) + " " + r.Email}), tx, *tid,
				"invitation.accepted", "user:"+strconv.FormatInt(userID, 10), map[string]any{"role": r.Role})
		}
		return tx.Exec(`INSERT INTO agency_members (agency_id, user_id, role) VALUES (?, ?, ?)
			ON CONFLICT (agency_id, user_id) DO UPDATE SET role = EXCLUDED.role`, *agencyID, userID, r.Role).Error
	})
	if err != nil {
		return nil, err
	}
	if tid != nil {
		t.authz.Changed(ctx, UserSubject(userID), *tid)
	}
	return t.accounts.UserByID(ctx, userID)
}
