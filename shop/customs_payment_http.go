package shop

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/tenant"
)

// PaymentCustomsView is the WeChat Pay customs declaration of an order's
// payment, as the admin console shows it.
type PaymentCustomsView struct {
	OrderID                 int64         `json:"order_id"`
	OrderNo                 string        `json:"order_no"`
	State                   string        `json:"state"`
	Attempt                 int           `json:"attempt"`
	Sends                   int           `json:"sends"`
	API                     string        `json:"api"`
	Customs                 string        `json:"customs"`
	MchCustomsNo            string        `json:"mch_customs_no"`
	TransactionID           string        `json:"transaction_id"`
	PaidFen                 int64         `json:"paid_fen"`
	RefundedFen             int64         `json:"refunded_fen"`
	Modifications           int           `json:"modifications"`
	CertCheckResult         string        `json:"cert_check_result"`
	VerifyDepartment        string        `json:"verify_department"`
	VerifyDepartmentTradeID string        `json:"verify_department_trade_id"`
	LastStatus              *int          `json:"last_status"`
	LastInfo                string        `json:"last_info"`
	LastError               string        `json:"last_error"`
	SentAt                  *time.Time    `json:"sent_at"`
	UpdatedAt               time.Time     `json:"updated_at"`
	SubOrders               []paySubOrder `json:"sub_orders"`
}

func paymentCustomsView(tx *gorm.DB, tid, orderID int64) (*PaymentCustomsView, error) {
	var n int64
	if err := tx.Raw(`SELECT count(*) FROM orders WHERE tenant_id = ? AND id = ?`, tid, orderID).Scan(&n).Error; err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errNoOrder
	}
	d, err := loadPayDecl(tx, tid, orderID, false)
	if err != nil {
		return nil, err
	}
	p, subs, err := loadPayCustoms(tx, tid, orderID)
	if err != nil {
		return nil, err
	}
	if d == nil || p == nil {
		return nil, errNoPayDeclaration
	}
	for i := range subs {
		subs[i].ModifyTime = utcPtr(subs[i].ModifyTime)
	}
	return &PaymentCustomsView{OrderID: orderID, OrderNo: d.OrderNo, State: d.State, Attempt: d.Attempt, Sends: d.Attempts, API: p.API,
		Customs: p.Customs, MchCustomsNo: p.MchCustomsNo, TransactionID: p.TransactionID, PaidFen: p.PaidFen, RefundedFen: p.RefundedFen,
		Modifications: p.Modifications, CertCheckResult: p.CertCheckResult, VerifyDepartment: p.VerifyDepartment,
		VerifyDepartmentTradeID: p.VerifyDepartmentTradeID, LastStatus: d.LastStatus, LastInfo: d.LastInfo, LastError: d.LastError,
		SentAt: utcPtr(d.SentAt), UpdatedAt: d.UpdatedAt.UTC(), SubOrders: append([]paySubOrder{}, subs...)}, nil
}

// PaymentCustoms returns the payment declaration of order orderID of the
// shop in ctx: 404 order_not_found for another shop's order,
// customs_payment_not_found before the order's payment was queued for
// declaration.
func (s *Service) PaymentCustoms(ctx context.Context, orderID int64) (*PaymentCustomsView, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var v *PaymentCustomsView
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		v, err = paymentCustomsView(tx, tid, orderID)
		return err
	})
	return v, err
}

// RedeclarePayment queues a new attempt of an order's payment declaration
// after it failed or was rejected: WeChat Pay is asked to push the
// declarations it has again (customdeclareredeclare), and to declare those
// it refused. 404 as PaymentCustoms; 409 customs_payment_not_failed unless
// the declaration is failed or rejected.
func (s *Service) RedeclarePayment(ctx context.Context, orderID int64) (*PaymentCustomsView, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var v *PaymentCustomsView
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := lockOrderRow(tx, tid, orderID); err != nil {
			return err
		}
		d, err := loadPayDecl(tx, tid, orderID, true)
		if err != nil {
			return err
		}
		if d == nil {
			return errNoPayDeclaration
		}
		if d.State != DeclRejected && d.State != DeclFailed {
			return errs.E(errs.Conflict, "customs_payment_not_failed", "only a failed or rejected payment declaration can be declared again; this one is "+d.State).
				WithDetails(map[string]string{"state": d.State})
		}
		next := d.Attempt + 1
		if err := tx.Exec(`UPDATE customs_declarations SET state = 'pending', attempt = ?, guid = ?, last_status = NULL, last_info = '',
			last_error = '', updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`,
			next, DeclarationGUID(tid, d.OrderNo+"/payment", next), tid, orderID).Error; err != nil {
			return err
		}
		if err := orderEvent(ctx, tx, tid, orderID, "customs_payment_redeclare_requested", "", "", map[string]any{"attempt": next}); err != nil {
			return err
		}
		if err := outbox.Add(ctx, tx, outbox.Message{Kind: TaskCustomsPaymentDeclare, Queue: outbox.QueueCritical, TenantID: tid,
			Data: customsTask{OrderID: orderID}}); err != nil {
			return err
		}
		v, err = paymentCustomsView(tx, tid, orderID)
		return err
	})
	return v, err
}

// registerCustomsPaymentAdmin mounts the payment declaration of an order
// and its re-declaration under /tenants/:slug.
func (h *Handler) registerCustomsPaymentAdmin(r tenant.Router) {
	s := h.S
	r.GET("/orders/:id/customs/payment", "orders:read", func(c *gin.Context) {
		id, ok := orderParam(c)
		if !ok {
			return
		}
		v, err := s.PaymentCustoms(c.Request.Context(), id)
		respond(c, http.StatusOK, v, err)
	})
	r.POST("/orders/:id/customs/payment/redeclare", "orders:write", func(c *gin.Context) {
		id, ok := orderParam(c)
		if !ok {
			return
		}
		v, err := s.RedeclarePayment(c.Request.Context(), id)
		respond(c, http.StatusAccepted, v, err)
	})
}
