package tenant

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/errs"
)

// Agency roles.
const (
	AgencyAdmin = "agency_admin"
	AgencyStaff = "agency_staff"
)

// Agency is an organisation that runs shops for brands.
type Agency struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// AgencyMember is a user working for an agency.
type AgencyMember struct {
	UserID int64  `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Role   string `json:"role"`
}

// Access is an agency's access to a shop, as the brand and the agency see it.
type Access struct {
	TenantSlug  string     `json:"tenant_slug"`
	TenantName  string     `json:"tenant_name"`
	AgencyID    int64      `json:"agency_id"`
	AgencyName  string     `json:"agency_name"`
	Status      string     `json:"status"` // pending, approved, declined, revoked
	Role        *string    `json:"role"`
	Message     string     `json:"message"`
	RequestedAt time.Time  `json:"requested_at"`
	DecidedAt   *time.Time `json:"decided_at"`
}

// CreateAgency creates an agency with userID as its first agency_admin.
// A blank or too long name is invalid_name naming the field.
func (t *Team) CreateAgency(ctx context.Context, name string, userID int64) (*Agency, error) {
	return t.CreateAgencyFrom(ctx, name, userID, "")
}

// CreateAgencyFrom is CreateAgency for a request from ip, which counts
// against the sign-up limit of that address (as opening a shop does); bad
// input is refused before it counts; an empty ip counts nowhere.
func (t *Team) CreateAgencyFrom(ctx context.Context, name string, userID int64, ip string) (*Agency, error) {
	name, err := agencyName(name, "name")
	if err != nil {
		return nil, err
	}
	if ip != "" {
		if err := t.accounts.signupThrottle(ctx, ip); err != nil {
			return nil, err
		}
	}
	var a *Agency
	err = t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err = createAgency(tx, name, userID)
		return err
	})
	return a, err
}

// agencyName trims and checks an agency's name; an error names field.
func agencyName(name, field string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 120 || hasControl(name) {
		code := "invalid_name"
		if field != "name" {
			code = "invalid_" + field
		}
		return "", errs.E(errs.Invalid, code, "the agency name must be 1 to 120 characters").
			WithZH("代运营公司名称须为 1 到 120 个字符").WithDetails(map[string]string{"field": field})
	}
	return name, nil
}

// createAgency inserts an agency and its first admin in tx.
func createAgency(tx *gorm.DB, name string, userID int64) (*Agency, error) {
	var a Agency
	if err := tx.Raw(`INSERT INTO agencies (name) VALUES (?) RETURNING id, name, created_at`, name).Scan(&a).Error; err != nil {
		return nil, err
	}
	if err := tx.Exec(`INSERT INTO agency_members (agency_id, user_id, role) VALUES (?, ?, ?)`, a.ID, userID, AgencyAdmin).Error; err != nil {
		return nil, err
	}
	return &a, nil
}

// agencyRole returns p's role in agency id, or not_found when p does not work
// for it (an agency is as invisible to outsiders as a shop).
func agencyRole(p *Principal, id int64) (string, error) {
	for _, a := range p.Agencies {
		if a.ID == id {
			return a.Role, nil
		}
	}
	return "", errs.E(errs.NotFound, "agency_not_found", "no such agency")
}

func requireAgencyAdmin(p *Principal, id int64) error {
	r, err := agencyRole(p, id)
	if err != nil {
		return err
	}
	if r != AgencyAdmin {
		return errs.E(errs.Forbidden, "forbidden", "only the agency's admins may do this")
	}
	return nil
}

// AgencyView is an agency with its people and shops, for its staff.
type AgencyView struct {
	Agency
	Members []AgencyMember `json:"members"`
	Access  []Access       `json:"access"`
}

// Agency returns agency id for one of its staff.
func (t *Team) Agency(ctx context.Context, p *Principal, id int64) (*AgencyView, error) {
	if _, err := agencyRole(p, id); err != nil {
		return nil, err
	}
	v := &AgencyView{Members: []AgencyMember{}, Access: []Access{}}
	q := t.db.WithContext(ctx)
	if err := q.Raw(`SELECT id, name, created_at FROM agencies WHERE id = ?`, id).Take(&v.Agency).Error; err != nil {
		return nil, err
	}
	if err := q.Raw(`SELECT m.user_id, u.email, u.name, m.role FROM agency_members m JOIN users u ON u.id = m.user_id
		WHERE m.agency_id = ? ORDER BY m.created_at`, id).Scan(&v.Members).Error; err != nil {
		return nil, err
	}
	err := q.Raw(accessSelect+` WHERE x.agency_id = ? ORDER BY x.requested_at DESC LIMIT 1000`, id).Scan(&v.Access).Error
	return v, err
}

const accessSelect = `SELECT t.slug AS tenant_slug, t.name AS tenant_name, a.id AS agency_id, a.name AS agency_name,
	x.status, x.role, x.message, x.requested_at, x.decided_at
	FROM agency_access x JOIN tenants t ON t.id = x.tenant_id JOIN agencies a ON a.id = x.agency_id`

// InviteToAgency invites someone to work for an agency (agency admins only).
func (t *Team) InviteToAgency(ctx context.Context, p *Principal, agencyID int64, in InviteInput) (*Invitation, error) {
	if err := requireAgencyAdmin(p, agencyID); err != nil {
		return nil, err
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if in.Role != AgencyAdmin && in.Role != AgencyStaff {
		return nil, errs.E(errs.Invalid, "invalid_role", "role must be agency_admin or agency_staff")
	}
	var a struct {
		Name   string
		Member bool
	}
	if err := t.db.WithContext(ctx).Raw(`SELECT name, EXISTS (SELECT 1 FROM agency_members m JOIN users u ON u.id = m.user_id
		WHERE m.agency_id = agencies.id AND u.email = ?) AS member FROM agencies WHERE id = ?`, email, agencyID).Scan(&a).Error; err != nil {
		return nil, err
	}
	if a.Member {
		return nil, errs.E(errs.Conflict, "already_member", email+" already works for "+a.Name).
			WithZH(email + " 已是“" + a.Name + "”的成员").WithDetails(map[string]string{"field": "email"})
	}
	return t.invite(ctx, p, nil, &agencyID, email, in.Role, a.Name)
}

// AccessRequest asks a brand for access.
type AccessRequest struct {
	Tenant  string `json:"tenant" binding:"required"` // the shop's slug
	Message string `json:"message"`
}

// RequestAccess asks the brand behind a slug to let the agency work on its
// shop (agency admins only). Asking again after a refusal or revocation
// re-opens the request; asking while approved is a conflict.
func (t *Team) RequestAccess(ctx context.Context, p *Principal, agencyID int64, in AccessRequest) (*Access, error) {
	if err := requireAgencyAdmin(p, agencyID); err != nil {
		return nil, err
	}
	if len(in.Message) > 1000 {
		return nil, errs.E(errs.Invalid, "invalid_message", "the message must be at most 1000 characters")
	}
	tid, shopName, err := t.shopAt(ctx, in.Tenant)
	if err != nil {
		return nil, err
	}
	err = t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var status string
		if err := tx.Raw(`SELECT status FROM agency_access WHERE tenant_id = ? AND agency_id = ? FOR UPDATE`, tid, agencyID).Scan(&status).Error; err != nil {
			return err
		}
		switch status {
		case "approved":
			return errs.E(errs.Conflict, "already_approved", "your agency already works on "+shopName+"; open it from your client shops").
				WithZH("你的代运营公司已在管理“" + shopName + "”，可从客户店铺中打开").WithDetails(map[string]string{"field": "tenant"})
		case "pending":
			return errs.E(errs.Conflict, "already_requested", "a request to "+shopName+" is already waiting for the brand's answer").
				WithZH("向“" + shopName + "”的申请正在等待品牌答复").WithDetails(map[string]string{"field": "tenant"})
		}
		if err := tx.Exec(`INSERT INTO agency_access (tenant_id, agency_id, status, message, requested_by) VALUES (?, ?, 'pending', ?, ?)
			ON CONFLICT (tenant_id, agency_id) DO UPDATE SET status = 'pending', role = NULL, message = EXCLUDED.message,
			requested_by = EXCLUDED.requested_by, requested_at = now(), decided_by = NULL, decided_at = NULL`,
			tid, agencyID, in.Message, p.UserID).Error; err != nil {
			return err
		}
		return auditIn(ctx, tx, tid, "agency_access.requested", "agency:"+strconv.FormatInt(agencyID, 10), map[string]any{"message": in.Message})
	})
	if err != nil {
		return nil, err
	}
	return t.access(ctx, tid, agencyID)
}

func (t *Team) access(ctx context.Context, tid, agencyID int64) (*Access, error) {
	var a Access
	err := t.db.WithContext(ctx).Raw(accessSelect+` WHERE x.tenant_id = ? AND x.agency_id = ?`, tid, agencyID).Take(&a).Error
	return &a, err
}

// AccessRequests lists the agencies that asked for, or have, access to the
// tenant of ctx.
func (t *Team) AccessRequests(ctx context.Context) ([]Access, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	out := []Access{}
	err = t.db.WithContext(ctx).Raw(accessSelect+` WHERE x.tenant_id = ? ORDER BY x.requested_at DESC LIMIT 1000`, tid).Scan(&out).Error
	return out, err
}

// DecideInput approves an agency with a role.
type DecideInput struct {
	Role string `json:"role" binding:"required"`
}

// DecideAccess approves (with a role other than owner), declines or revokes
// an agency's access to the tenant of ctx. Revocation takes effect at once on
// every server process.
func (t *Team) DecideAccess(ctx context.Context, p *Principal, agencyID int64, decision, role string) (*Access, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if decision == "approved" && (!ValidRole(role) || role == RoleOwner) {
		return nil, errs.E(errs.Invalid, "invalid_role", "grant one of admin, catalog_manager, order_manager, finance, viewer")
	}
	var roleArg any
	if decision == "approved" {
		roleArg = role
	}
	err = t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var status string
		if err := tx.Raw(`SELECT status FROM agency_access WHERE tenant_id = ? AND agency_id = ? FOR UPDATE`, tid, agencyID).Scan(&status).Error; err != nil {
			return err
		}
		switch {
		case status == "":
			return errs.E(errs.NotFound, "access_not_found", "this agency has not asked for access")
		case decision == "revoked" && status != "approved":
			return errs.E(errs.Conflict, "not_approved", "only approved access can be revoked")
		case (decision == "approved" || decision == "declined") && status == "revoked":
			return errs.E(errs.Conflict, "revoked", "access was revoked; the agency must ask again")
		}
		var by any
		if p != nil && p.UserID > 0 {
			by = p.UserID
		}
		if err := tx.Exec(`UPDATE agency_access SET status = ?, role = ?, decided_by = ?, decided_at = now() WHERE tenant_id = ? AND agency_id = ?`,
			decision, roleArg, by, tid, agencyID).Error; err != nil {
			return err
		}
		return auditIn(ctx, tx, tid, "agency_access."+decision, "agency:"+strconv.FormatInt(agencyID, 10), map[string]any{"role": roleArg, "was": status})
	})
	if err != nil {
		return nil, err
	}
	t.authz.Changed(ctx, AgencySubject(agencyID), tid)
	return t.access(ctx, tid, agencyID)
}

// Membership is a shop a user can open, with the role that opens it.
type Membership struct {
	Tenant ShopRef `json:"tenant"`
	Role   string  `json:"role"`
}

// Client is a shop an agency user can open through their agency.
type Client struct {
	Tenant ShopRef   `json:"tenant"`
	Role   string    `json:"role"`
	Agency AgencyRef `json:"agency"`
}

// ShopRef names a shop in lists.
type ShopRef struct {
	ID     int64  `json:"-"`
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Mode   string `json:"mode"`
}

// AgencyRef names an agency in lists.
type AgencyRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Shops returns the shops p can open: their own memberships and their
// agencies' approved clients.
func (t *Team) Shops(ctx context.Context, p *Principal) ([]Membership, []Client, error) {
	ms := []Membership{}
	cs := []Client{}
	var rows []struct {
		ID                     int64
		Slug, Name, Status     string
		Mode, Role, AgencyName string
		AgencyID               int64
	}
	err := t.db.WithContext(ctx).Raw(`SELECT t.id, t.slug, t.name, t.status, t.mode, m.role, 0 AS agency_id, '' AS agency_name
		FROM memberships m JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = ?
		UNION ALL
		SELECT t.id, t.slug, t.name, t.status, t.mode, x.role, a.id, a.name
		FROM agency_members am JOIN agency_access x ON x.agency_id = am.agency_id AND x.status = 'approved'
		JOIN tenants t ON t.id = x.tenant_id JOIN agencies a ON a.id = x.agency_id WHERE am.user_id = ?
		ORDER BY name LIMIT 5000`, p.UserID, p.UserID).Scan(&rows).Error
	for _, r := range rows {
		ref := ShopRef{ID: r.ID, Slug: r.Slug, Name: r.Name, Status: r.Status, Mode: r.Mode}
		if r.AgencyID == 0 {
			ms = append(ms, Membership{Tenant: ref, Role: r.Role})
		} else {
			cs = append(cs, Client{Tenant: ref, Role: r.Role, Agency: AgencyRef{ID: r.AgencyID, Name: r.AgencyName}})
		}
	}
	return ms, cs, err
}
