package tenant

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// errNoWeChatPay is returned when the tenant has no WeChat Pay set for its mode.
var errNoWeChatPay = errs.E(errs.Conflict, "payments_not_configured",
	"this shop has no WeChat Pay merchant account for its current mode; save one under credentials")

// WeChatPayVersion returns, cheaply (no decryption), the mode the tenant in
// ctx is in and a version string that changes whenever its WeChat Pay or
// Mini Program credentials of that mode change, so a caller can cache the
// client it builds from WeChatPayCredentials. conflict
// payments_not_configured when the tenant has no WeChat Pay set.
func (s *Service) WeChatPayVersion(ctx context.Context) (mode, version string, err error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return "", "", errs.Wrap(db.ErrNoTenant, "credentials")
	}
	err = db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		var rows []struct {
			Mode      string
			Kind      string
			UpdatedAt time.Time
		}
		if err := tx.Raw(`SELECT c.mode, c.kind, c.updated_at FROM credentials c JOIN tenants t ON t.id = c.tenant_id AND t.mode = c.mode
			WHERE c.tenant_id = ? AND c.kind IN (?, ?) ORDER BY c.kind`, tid, KindMiniProgram, KindWeChatPay).Scan(&rows).Error; err != nil {
			return err
		}
		pay := false
		for _, r := range rows {
			mode = r.Mode
			version += r.Kind + "@" + strconv.FormatInt(r.UpdatedAt.UnixMicro(), 10) + ";"
			pay = pay || r.Kind == KindWeChatPay
		}
		if !pay {
			return errNoWeChatPay
		}
		return nil
	})
	return mode, version, err
}

// WeChatPayCredentials returns the WeChat Pay merchant account of the
// tenant in ctx for the mode it is in (test: the sandbox merchant it was
// provisioned with, or one saved in its place; live: the brand's own), the
// AppID of its Mini Program in that mode (what payers pay in), and the
// version WeChatPayVersion reports for them. conflict
// payments_not_configured when there is no WeChat Pay set, not_provisioned
// when there is no Mini Program set. Secrets are in the clear: never log
// or return them.
func (s *Service) WeChatPayCredentials(ctx context.Context) (mode string, c wechatpay.Credentials, appID, version string, err error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return "", c, "", "", errs.Wrap(db.ErrNoTenant, "credentials")
	}
	err = db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		var rows []credRow
		if err := tx.Raw(`SELECT `+credColumns+` FROM credentials c JOIN tenants t ON t.id = c.tenant_id AND t.mode = c.mode
			WHERE c.tenant_id = ? AND c.kind IN (?, ?) ORDER BY c.kind`, tid, KindMiniProgram, KindWeChatPay).Scan(&rows).Error; err != nil {
			return err
		}
		var pay, mp *credRow
		for i := range rows {
			r := &rows[i]
			mode = r.Mode
			version += r.Kind + "@" + strconv.FormatInt(r.UpdatedAt.UnixMicro(), 10) + ";"
			switch r.Kind {
			case KindWeChatPay:
				pay = r
			case KindMiniProgram:
				mp = r
			}
		}
		if pay == nil {
			return errNoWeChatPay
		}
		if mp == nil {
			return errs.E(errs.Conflict, "not_provisioned", "this shop has no Mini Program credentials yet; it is still being set up")
		}
		v, err := s.openRow(ctx, tx, tid, pay)
		if err != nil {
			return err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return errs.Wrap(err, "wechatpay credentials")
		}
		m, err := s.openRow(ctx, tx, tid, mp)
		if err != nil {
			return err
		}
		appID = m.str("appid")
		return nil
	})
	return mode, c, appID, version, err
}

// SlugOf returns the slug of the tenant in ctx (for URLs that name the
// tenant where no Host can, such as WeChat Pay's notify_url).
func (s *Service) SlugOf(ctx context.Context) (string, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return "", errs.Wrap(db.ErrNoTenant, "tenant slug")
	}
	var slug string
	err := db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT slug FROM tenants WHERE id = ?`, tid).Scan(&slug).Error
	})
	if err == nil && slug == "" {
		err = errs.E(errs.NotFound, "tenant_not_found", "no such tenant")
	}
	return slug, err
}
