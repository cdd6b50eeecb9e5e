package shop

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/tenant"
)

// CategoryInput creates or edits a category.
type CategoryInput struct {
	ParentID *int64 `json:"parent_id"`
	Name     Text   `json:"name" binding:"required"`
	Sort     int    `json:"sort"`
}

func (in *CategoryInput) validate() error {
	for loc, n := range in.Name {
		n = strings.TrimSpace(n)
		if !localePattern.MatchString(loc) || utf8.RuneCountInString(n) > 60 {
			return invalid("name", "category names are at most 60 characters, keyed by a language tag such as en or zh-CN")
		}
		in.Name[loc] = n
	}
	if in.Name[LocaleEN] == "" && in.Name[LocaleZH] == "" {
		return invalid("name", "name the category in en or zh-CN")
	}
	return nil
}

// Categories lists the tenant's categories (a flat list with parent ids;
// clients build the tree).
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	out := []Category{}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var rows []struct {
			ID        int64
			ParentID  *int64
			Name      string
			Sort      int
			CreatedAt time.Time
			UpdatedAt time.Time
		}
		if err := tx.Raw(`SELECT id, parent_id, name::text, sort, created_at, updated_at FROM categories WHERE tenant_id = ? ORDER BY sort, id LIMIT 5000`, tid).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			c := Category{ID: r.ID, ParentID: r.ParentID, Sort: r.Sort, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
			_ = json.Unmarshal([]byte(r.Name), &c.Name)
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// SaveCategory creates (id 0) or updates a category. A category cannot be
// moved under itself or its descendants.
func (s *Service) SaveCategory(ctx context.Context, id int64, in CategoryInput) (*Category, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if in.ParentID != nil {
			// Walk up from the new parent: meeting id means a cycle.
			var chain []int64
			if err := tx.Raw(`WITH RECURSIVE up AS (
				SELECT id, parent_id FROM categories WHERE tenant_id = ? AND id = ?
				UNION ALL SELECT c.id, c.parent_id FROM categories c JOIN up ON c.tenant_id = ? AND c.id = up.parent_id)
				SELECT id FROM up LIMIT 100`, tid, *in.ParentID, tid).Scan(&chain).Error; err != nil {
				return err
			}
			if len(chain) == 0 {
				return invalid("parent_id", "no such parent category")
			}
			for _, c := range chain {
				if c == id {
					return invalid("parent_id", "a category cannot be moved under itself or one of its subcategories")
				}
			}
		}
		if id == 0 {
			if err := tx.Raw(`INSERT INTO categories (tenant_id, parent_id, name, sort) VALUES (?, ?, ?, ?) RETURNING id`,
				tid, in.ParentID, jsonOf(in.Name), in.Sort).Scan(&id).Error; err != nil {
				return err
			}
		} else {
			res := tx.Exec(`UPDATE categories SET parent_id = ?, name = ?, sort = ?, updated_at = now() WHERE tenant_id = ? AND id = ?`,
				in.ParentID, jsonOf(in.Name), in.Sort, tid, id)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return errs.E(errs.NotFound, "category_not_found", "no such category")
			}
		}
		return tenant.Audit(ctx, tx, "category.saved", "category:"+strconv.FormatInt(id, 10), map[string]any{"name": in.Name})
	})
	if err != nil {
		return nil, err
	}
	s.cache.Invalidate(ctx, tid)
	cs, err := s.Categories(ctx)
	for _, c := range cs {
		if c.ID == id {
			return &c, err
		}
	}
	return nil, err
}

// DeleteCategory deletes a category without subcategories; its products
// keep no category.
func (s *Service) DeleteCategory(ctx context.Context, id int64) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var children int64
		if err := tx.Raw(`SELECT count(*) FROM categories WHERE tenant_id = ? AND parent_id = ?`, tid, id).Scan(&children).Error; err != nil {
			return err
		}
		if children > 0 {
			return errs.E(errs.Conflict, "category_has_children", "move or delete the subcategories first")
		}
		res := tx.Exec(`DELETE FROM categories WHERE tenant_id = ? AND id = ?`, tid, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.E(errs.NotFound, "category_not_found", "no such category")
		}
		return tenant.Audit(ctx, tx, "category.deleted", "category:"+strconv.FormatInt(id, 10), nil)
	})
	if err == nil {
		s.cache.Invalidate(ctx, tid)
	}
	return err
}
