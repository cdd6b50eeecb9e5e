package tenant

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/errs"
)

// Changing an agency's staff.
//
// A person reaches a client shop only through their agency: the brand grants
// the agency a role (the Casbin subject agency:{id}), and a request acts as
// the agencies its user works for at that moment, read from agency_members
// with the session on every request, by every process. Removing someone from
// agency_members therefore closes every client shop to them on their next
// request, everywhere, with no policy to reload; the agency's own roles
// (agency_admin, agency_staff) decide nothing inside a shop.
//
// There is no agency-level audit log. A removal is recorded in the audit log
// of each shop the agency is approved for (it changes who can open that
// shop), as agency.member_removed; a change of agency role changes nothing in
// any shop and is not recorded there.

func memberNotFound() error {
	return errs.L(errs.NotFound, "member_not_found", "this person does not work for the agency", "此人不是该代运营公司的成员")
}

// lockAgencyMember locks agency id (so two admins changing each other cannot
// both pass the last-admin check) and returns userID's role in it.
func lockAgencyMember(tx *gorm.DB, id, userID int64) (string, error) {
	if err := tx.Exec(`SELECT id FROM agencies WHERE id = ? FOR UPDATE`, id).Error; err != nil {
		return "", err
	}
	var role string
	if err := tx.Raw(`SELECT role FROM agency_members WHERE agency_id = ? AND user_id = ?`, id, userID).Scan(&role).Error; err != nil {
		return "", err
	}
	if role == "" {
		return "", memberNotFound()
	}
	return role, nil
}

// ensureAgencyAdmin fails the transaction if agency id would be left without
// an admin.
func ensureAgencyAdmin(tx *gorm.DB, id int64) error {
	var n int64
	if err := tx.Raw(`SELECT count(*) FROM agency_members WHERE agency_id = ? AND role = ?`, id, AgencyAdmin).Scan(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return errs.L(errs.Conflict, "last_agency_admin", "an agency must keep at least one admin; make someone else an admin first",
			"代运营公司至少要保留一名管理员；请先将其他成员设为管理员")
	}
	return nil
}

// SetAgencyRole gives a member of agency id another agency role (its admins
// only); the agency keeps at least one admin.
func (t *Team) SetAgencyRole(ctx context.Context, p *Principal, id, userID int64, role string) (*AgencyMember, error) {
	if err := requireAgencyAdmin(p, id); err != nil {
		return nil, err
	}
	if role != AgencyAdmin && role != AgencyStaff {
		return nil, errs.E(errs.Invalid, "invalid_role", "role must be agency_admin or agency_staff").WithDetails(map[string]string{"field": "role"})
	}
	var m AgencyMember
	err := t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockAgencyMember(tx, id, userID); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE agency_members SET role = ? WHERE agency_id = ? AND user_id = ?`, role, id, userID).Error; err != nil {
			return err
		}
		if err := ensureAgencyAdmin(tx, id); err != nil {
			return err
		}
		return tx.Raw(`SELECT m.user_id, u.email, u.name, m.role FROM agency_members m JOIN users u ON u.id = m.user_id
			WHERE m.agency_id = ? AND m.user_id = ?`, id, userID).Take(&m).Error
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// RemoveAgencyMember takes a person out of agency id (its admins only, who
// may remove themselves while another admin remains). They lose every client
// shop of the agency at once; each of those shops' audit logs records it.
func (t *Team) RemoveAgencyMember(ctx context.Context, p *Principal, id, userID int64) error {
	if err := requireAgencyAdmin(p, id); err != nil {
		return err
	}
	return t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		role, err := lockAgencyMember(tx, id, userID)
		if err != nil {
			return err
		}
		var email string
		if err := tx.Raw(`SELECT email FROM users WHERE id = ?`, userID).Scan(&email).Error; err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM agency_members WHERE agency_id = ? AND user_id = ?`, id, userID).Error; err != nil {
			return err
		}
		if err := ensureAgencyAdmin(tx, id); err != nil {
			return err
		}
		var shops []int64
		if err := tx.Raw(`SELECT tenant_id FROM agency_access WHERE agency_id = ? AND status = 'approved' ORDER BY tenant_id`, id).Scan(&shops).Error; err != nil {
			return err
		}
		data := map[string]any{"user_id": userID, "email": email, "agency_role": role}
		for _, tid := range shops {
			if err := auditIn(ctx, tx, tid, "agency.member_removed", "agency:"+strconv.FormatInt(id, 10), data); err != nil {
				return err
			}
		}
		return nil
	})
}

// registerAgencyMembers mounts, for the agency's admins:
//
//	PATCH  /agencies/{agency_id}/members/{user_id} {"role"} → AgencyMember
//	DELETE /agencies/{agency_id}/members/{user_id}          → 204
func (h *Handler) registerAgencyMembers(r Router) {
	ag := r.Group("/agencies/:agency_id")
	ag.PATCH("/members/:user_id", PermSignedIn, func(c *gin.Context) {
		id, valid := agencyOf(c)
		if !valid {
			return
		}
		userID, valid := pathID(c, "user_id")
		var in struct {
			Role string `json:"role" binding:"required"`
		}
		if !valid || !bind(c, &in) {
			return
		}
		m, err := h.Team.SetAgencyRole(c.Request.Context(), PrincipalOf(c), id, userID, in.Role)
		ok(c, http.StatusOK, m, err)
	})
	ag.DELETE("/members/:user_id", PermSignedIn, func(c *gin.Context) {
		id, valid := agencyOf(c)
		if !valid {
			return
		}
		userID, valid := pathID(c, "user_id")
		if !valid {
			return
		}
		ok(c, http.StatusNoContent, nil, h.Team.RemoveAgencyMember(c.Request.Context(), PrincipalOf(c), id, userID))
	})
}
