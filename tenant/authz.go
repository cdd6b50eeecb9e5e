package tenant

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
)

// Roles a user (or an agency, or a token) can hold in a tenant.
const (
	RoleOwner          = "owner"
	RoleAdmin          = "admin"
	RoleCatalogManager = "catalog_manager"
	RoleOrderManager   = "order_manager"
	RoleFinance        = "finance"
	RoleViewer         = "viewer"
)

// TenantRoles lists the tenant roles, most powerful first.
var TenantRoles = []string{RoleOwner, RoleAdmin, RoleCatalogManager, RoleOrderManager, RoleFinance, RoleViewer}

// ValidRole reports whether r is a tenant role.
func ValidRole(r string) bool {
	for _, x := range TenantRoles {
		if x == r {
			return true
		}
	}
	return false
}

// rbac is RBAC with domains: one set of p rules (role, object, action) for
// every tenant, and g rules (subject, role, tenant) per assignment. The cheap
// string comparisons come first so g() runs only for matching rules.
const rbac = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.obj == p.obj && r.act == p.act && g(r.sub, p.sub, r.dom)
`

// policyChanges is the Redis channel on which processes hear that a
// subject's roles in a tenant changed.
const policyChanges = "minishop:authz:changed"

// Authorizer answers "may this subject do this in this tenant". Policies
// live in memory (loaded from Postgres), so a check costs the same with 10 or
// 50,000 tenants; changes are applied at once here and broadcast so every
// other process reloads the changed assignment.
type Authorizer struct {
	e   *casbin.SyncedEnforcer
	db  *gorm.DB
	rdb *redis.Client
	log *slog.Logger

	mu    sync.RWMutex
	grant map[string]map[string]bool // role → permission → true, from the p rules
}

// NewAuthorizer loads every policy from g.
func NewAuthorizer(g *gorm.DB, rdb *redis.Client, log *slog.Logger) (*Authorizer, error) {
	m, err := model.NewModelFromString(rbac)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewSyncedEnforcer(m, &adapter{db: g})
	if err != nil {
		return nil, fmt.Errorf("loading access policies: %w", err)
	}
	e.EnableAutoSave(false)
	a := &Authorizer{e: e, db: g, rdb: rdb, log: log}
	a.indexTemplates()
	return a, nil
}

// indexTemplates indexes the role templates (the p rules) by role, so a check
// is two map lookups instead of a walk over every rule.
func (a *Authorizer) indexTemplates() {
	rules, _ := a.e.GetPolicy()
	grant := map[string]map[string]bool{}
	for _, r := range rules {
		if grant[r[0]] == nil {
			grant[r[0]] = map[string]bool{}
		}
		grant[r[0]][r[1]+":"+r[2]] = true
	}
	a.mu.Lock()
	a.grant = grant
	a.mu.Unlock()
}

func dom(tenantID int64) string { return "tenant:" + strconv.FormatInt(tenantID, 10) }

// UserSubject and AgencySubject name subjects in policies.
func UserSubject(id int64) string   { return "user:" + strconv.FormatInt(id, 10) }
func AgencySubject(id int64) string { return "agency:" + strconv.FormatInt(id, 10) }

// Allowed reports whether any of subjects holds perm ("catalog:write") in
// tenantID. It reads the role assignments from Casbin's role manager and the
// role templates from their index; it decides exactly as Enforce with the
// model above would (a test checks both agree), at a cost that does not grow
// with the number of tenants or rules.
func (a *Authorizer) Allowed(tenantID int64, perm string, subjects ...string) bool {
	d := dom(tenantID)
	for _, s := range subjects {
		for _, r := range a.e.GetRolesForUserInDomain(s, d) {
			if a.RoleAllows(r, perm) {
				return true
			}
		}
	}
	return false
}

// Enforce is Casbin's own decision for one subject, for tests that check
// Allowed against it.
func (a *Authorizer) Enforce(subject string, tenantID int64, perm string) bool {
	obj, act, _ := strings.Cut(perm, ":")
	ok, err := a.e.Enforce(subject, dom(tenantID), obj, act)
	return err == nil && ok
}

// RoleAllows reports whether role grants perm (API tokens carry a role).
func (a *Authorizer) RoleAllows(role, perm string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.grant[role][perm]
}

// Roles returns the roles subject holds in tenantID.
func (a *Authorizer) Roles(subject string, tenantID int64) []string {
	return a.e.GetRolesForUserInDomain(subject, dom(tenantID))
}

// Permissions returns the permissions role grants, as "object:action".
func (a *Authorizer) Permissions(role string) []string {
	rules, _ := a.e.GetFilteredPolicy(0, role)
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		out = append(out, r[1]+":"+r[2])
	}
	return out
}

type change struct {
	Subject  string `json:"s"`
	TenantID int64  `json:"t"`
}

// Changed reloads subject's roles in tenantID from Postgres, here and (via
// Redis) in every other process. Call it after committing the change.
func (a *Authorizer) Changed(ctx context.Context, subject string, tenantID int64) {
	if err := a.reload(ctx, subject, tenantID); err != nil {
		a.log.Error("authz: reloading a changed assignment failed; full reload", "err", err)
		a.fullReload()
	}
	if a.rdb == nil {
		return
	}
	b, _ := json.Marshal(change{subject, tenantID})
	if err := a.rdb.Publish(ctx, policyChanges, b).Err(); err != nil {
		a.log.Warn("authz: broadcast failed; other processes converge at their next full reload", "err", err)
	}
}

// reload replaces subject's roles in tenantID with what Postgres says.
func (a *Authorizer) reload(ctx context.Context, subject string, tenantID int64) error {
	kind, idStr, _ := strings.Cut(subject, ":")
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return fmt.Errorf("bad subject %q", subject)
	}
	var roles []string
	q := a.db.WithContext(ctx)
	switch kind {
	case "user":
		err = q.Raw(`SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ?`, tenantID, id).Scan(&roles).Error
	case "agency":
		err = q.Raw(`SELECT role FROM agency_access WHERE tenant_id = ? AND agency_id = ? AND status = 'approved'`, tenantID, id).Scan(&roles).Error
	default:
		return fmt.Errorf("bad subject %q", subject)
	}
	if err != nil {
		return err
	}
	// Apply only the difference. Deleting everything and adding it back would
	// leave the subject without any role for a moment, and every process
	// also receives its own broadcasts: checks made meanwhile were refused.
	// Removed roles go first, so a change never holds old and new at once.
	d := dom(tenantID)
	want := map[string]bool{}
	for _, r := range roles {
		want[r] = true
	}
	have := map[string]bool{}
	for _, r := range a.e.GetRolesForUserInDomain(subject, d) {
		have[r] = true
		if !want[r] {
			if _, err := a.e.DeleteRoleForUserInDomain(subject, r, d); err != nil {
				return err
			}
		}
	}
	for r := range want {
		if !have[r] {
			if _, err := a.e.AddRoleForUserInDomain(subject, r, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// Listen applies other processes' changes until ctx ends, and reloads
// everything whenever the subscription (re)starts and every interval, since
// changes may have been missed meanwhile.
func (a *Authorizer) Listen(ctx context.Context, interval time.Duration) {
	full := time.NewTicker(interval)
	defer full.Stop()
	for ctx.Err() == nil {
		if a.rdb == nil {
			select {
			case <-ctx.Done():
				return
			case <-full.C:
				a.fullReload()
			}
			continue
		}
		ps := a.rdb.Subscribe(ctx, policyChanges)
		if _, err := ps.Receive(ctx); err != nil {
			ps.Close()
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		a.fullReload()
		msgs := ps.Channel()
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-full.C:
				a.fullReload()
			case m, ok := <-msgs:
				if !ok {
					break loop
				}
				var c change
				if json.Unmarshal([]byte(m.Payload), &c) != nil || a.reload(ctx, c.Subject, c.TenantID) != nil {
					a.fullReload()
				}
			}
		}
		ps.Close()
	}
}

func (a *Authorizer) fullReload() {
	if err := a.e.LoadPolicy(); err != nil {
		a.log.Error("authz: full reload failed; keeping the policies in memory", "err", err)
		return
	}
	a.indexTemplates()
}

// adapter loads the role templates from casbin_rule and the assignments
// from memberships and agency_access. Policies are changed through those
// tables, never through the enforcer, so the Save methods refuse.
type adapter struct{ db *gorm.DB }

func (ad *adapter) LoadPolicy(m model.Model) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rows, err := ad.db.WithContext(ctx).Raw(`
		SELECT 'p', v0, v1, v2 FROM casbin_rule WHERE ptype = 'p'
		UNION ALL SELECT 'g', 'user:' || user_id, role, 'tenant:' || tenant_id FROM memberships
		UNION ALL SELECT 'g', 'agency:' || agency_id, role, 'tenant:' || tenant_id FROM agency_access WHERE status = 'approved'`).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pt, a, b, c string
		if err := rows.Scan(&pt, &a, &b, &c); err != nil {
			return err
		}
		if err := persist.LoadPolicyArray([]string{pt, a, b, c}, m); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (ad *adapter) SavePolicy(model.Model) error { return errReadOnly }
func (ad *adapter) AddPolicy(string, string, []string) error {
	return errReadOnly
}
func (ad *adapter) RemovePolicy(string, string, []string) error { return errReadOnly }
func (ad *adapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errReadOnly
}

var errReadOnly = fmt.Errorf("authz: policies change through memberships and agency_access, not the enforcer")
