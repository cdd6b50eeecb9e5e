package shop

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/tenant"
)

// Movement kinds.
const (
	MoveReceived = "received" // goods arrived: on_hand +
	MoveAdjusted = "adjusted" // a count corrected: on_hand ±
	MoveReserved = "reserved" // an order holds stock: reserved +
	MoveReleased = "released" // an order let go: reserved −
	MoveSold     = "sold"     // a paid order took it: on_hand − and reserved −
)

// WarehouseInput creates a warehouse.
type WarehouseInput struct {
	Code string `json:"code" binding:"required"`
	Name string `json:"name" binding:"required"`
	Kind string `json:"kind" binding:"required"`
}

// Warehouses lists the tenant's warehouses.
func (s *Service) Warehouses(ctx context.Context) ([]Warehouse, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	out := []Warehouse{}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id, code, name, kind, created_at FROM warehouses WHERE tenant_id = ? ORDER BY id LIMIT 500`, tid).Scan(&out).Error
	})
	return out, err
}

// CreateWarehouse adds a warehouse: bonded (in a Chinese bonded zone) or overseas.
func (s *Service) CreateWarehouse(ctx context.Context, in WarehouseInput) (*Warehouse, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	in.Code, in.Name = strings.TrimSpace(in.Code), strings.TrimSpace(in.Name)
	switch {
	case !codePattern.MatchString(in.Code) || len(in.Code) > 32:
		return nil, invalid("code", "a warehouse code is 1 to 32 letters, digits, - or _")
	case in.Name == "" || len([]rune(in.Name)) > 120:
		return nil, invalid("name", "name the warehouse (1 to 120 characters)")
	case in.Kind != "bonded" && in.Kind != "overseas":
		return nil, invalid("kind", "kind is bonded (a bonded zone in China, trade mode 1210) or overseas (direct mail, 9610)")
	}
	var w Warehouse
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		err := tx.Raw(`INSERT INTO warehouses (tenant_id, code, name, kind) VALUES (?, ?, ?, ?) RETURNING id, code, name, kind, created_at`,
			tid, in.Code, in.Name, in.Kind).Scan(&w).Error
		if db.IsUniqueViolation(err, "") {
			return errs.E(errs.Conflict, "warehouse_code_taken", "a warehouse with the code "+in.Code+" exists")
		}
		if err != nil {
			return err
		}
		return tenant.Audit(ctx, tx, "warehouse.created", "warehouse:"+strconv.FormatInt(w.ID, 10), map[string]any{"code": w.Code, "kind": w.Kind})
	})
	return &w, err
}

// Move changes stock in tx (scoped to the tenant) under a row lock and logs
// the movement: received/adjusted change on_hand by qty (adjusted may be
// negative), reserved/released change reserved, sold takes qty from both. It
// refuses (409) anything that would make stock negative or reserve more than
// is on hand. Checkout and fulfilment call it in their own transactions.
func (s *Service) Move(ctx context.Context, tx *gorm.DB, skuID, warehouseID int64, kind string, qty int64, reason, ref string) (*Movement, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	if qty == 0 || (kind != MoveAdjusted && qty < 0) {
		return nil, invalid("quantity", "the quantity must be positive (adjustments may be negative, not zero)")
	}
	// Make sure the level row exists, then lock it.
	if err := tx.Exec(`INSERT INTO stock_levels (tenant_id, sku_id, warehouse_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, tid, skuID, warehouseID).Error; err != nil {
		if db.IsForeignKeyViolation(err) {
			return nil, errs.E(errs.NotFound, "not_found", "no such SKU or warehouse in this shop")
		}
		return nil, err
	}
	var lvl struct{ OnHand, Reserved int64 }
	if err := tx.Raw(`SELECT on_hand, reserved FROM stock_levels WHERE tenant_id = ? AND sku_id = ? AND warehouse_id = ? FOR UPDATE`,
		tid, skuID, warehouseID).Scan(&lvl).Error; err != nil {
		return nil, err
	}
	on, res := lvl.OnHand, lvl.Reserved
	switch kind {
	case MoveReceived, MoveAdjusted:
		on += qty
	case MoveReserved:
		res += qty
	case MoveReleased:
		res -= qty
	case MoveSold:
		on -= qty
		res -= qty
	default:
		return nil, invalid("kind", "kind is received, adjusted, reserved, released or sold")
	}
	switch {
	case on < 0:
		return nil, errs.E(errs.Conflict, "insufficient_stock", fmt.Sprintf("only %d on hand", lvl.OnHand))
	case res < 0:
		return nil, errs.E(errs.Conflict, "nothing_reserved", fmt.Sprintf("only %d reserved", lvl.Reserved))
	case res > on:
		return nil, errs.E(errs.Conflict, "insufficient_stock", fmt.Sprintf("only %d available (%d on hand, %d reserved)", lvl.OnHand-lvl.Reserved, lvl.OnHand, lvl.Reserved))
	}
	if err := tx.Exec(`UPDATE stock_levels SET on_hand = ?, reserved = ?, updated_at = now() WHERE tenant_id = ? AND sku_id = ? AND warehouse_id = ?`,
		on, res, tid, skuID, warehouseID).Error; err != nil {
		return nil, err
	}
	a := scope.ActorOf(ctx)
	var m Movement
	if err := tx.Raw(`INSERT INTO stock_movements (tenant_id, sku_id, warehouse_id, kind, quantity, on_hand_after, reserved_after, reason, ref, actor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, sku_id, warehouse_id, kind, quantity, on_hand_after, reserved_after, reason, ref, actor, created_at`,
		tid, skuID, warehouseID, kind, qty, on, res, reason, ref, a.Kind+":"+a.ID).Scan(&m).Error; err != nil {
		return nil, err
	}
	// The storefront shows availability: the product changed.
	if err := tx.Exec(`UPDATE products SET version = version + 1 WHERE tenant_id = ? AND id = (SELECT product_id FROM skus WHERE tenant_id = ? AND id = ?)`,
		tid, tid, skuID).Error; err != nil {
		return nil, err
	}
	if err := noteStockMove(ctx, tx, tid, skuID, (on-res)-(lvl.OnHand-lvl.Reserved)); err != nil { // after the product's row lock
		return nil, err
	}
	return &m, nil
}

// MoveInput is a manual stock change from the console or an ERP.
type MoveInput struct {
	SKUID       int64  `json:"sku_id" binding:"required"`
	WarehouseID int64  `json:"warehouse_id" binding:"required"`
	Kind        string `json:"kind" binding:"required"` // received or adjusted
	Quantity    int64  `json:"quantity"`
	Reason      string `json:"reason"`
}

// RecordMovement applies a manual movement (received or adjusted).
func (s *Service) RecordMovement(ctx context.Context, in MoveInput) (*Movement, error) {
	if in.Kind != MoveReceived && in.Kind != MoveAdjusted {
		return nil, invalid("kind", "record received goods or an adjustment; reservations come from orders")
	}
	if len(in.Reason) > 500 {
		return nil, invalid("reason", "the reason must be at most 500 characters")
	}
	if in.Kind == MoveAdjusted && strings.TrimSpace(in.Reason) == "" {
		return nil, invalid("reason", "say why the count changed (e.g. damaged, stocktake)")
	}
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var m *Movement
	ctx, moved := withStockChanges(ctx)
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		if m, err = s.Move(ctx, tx, in.SKUID, in.WarehouseID, in.Kind, in.Quantity, strings.TrimSpace(in.Reason), "manual"); err != nil {
			return err
		}
		return tenant.Audit(ctx, tx, "stock."+in.Kind, "sku:"+strconv.FormatInt(in.SKUID, 10),
			map[string]any{"warehouse_id": in.WarehouseID, "quantity": in.Quantity, "on_hand_after": m.OnHandAfter})
	})
	if err != nil {
		return nil, err
	}
	s.stockMoved(ctx, tid, moved) // only a band that changed invalidates
	return m, nil
}

// StockView is a SKU's stock per warehouse and its latest movements.
type StockView struct {
	Levels    []Level    `json:"levels"`
	Movements []Movement `json:"movements"`
}

// Level is a SKU's stock in one warehouse.
type Level struct {
	WarehouseID int64  `json:"warehouse_id"`
	Warehouse   string `json:"warehouse"`
	OnHand      int64  `json:"on_hand"`
	Reserved    int64  `json:"reserved"`
	Available   int64  `json:"available"`
}

// StockOf returns a SKU's stock and its last 200 movements (before the
// movement id before, when given).
func (s *Service) StockOf(ctx context.Context, skuID, before int64) (*StockView, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	v := &StockView{Levels: []Level{}, Movements: []Movement{}}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM skus WHERE tenant_id = ? AND id = ?`, tid, skuID).Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return errs.E(errs.NotFound, "sku_not_found", "no such SKU")
		}
		if err := tx.Raw(`SELECT l.warehouse_id, w.code AS warehouse, l.on_hand, l.reserved, l.on_hand - l.reserved AS available
			FROM stock_levels l JOIN warehouses w ON w.tenant_id = l.tenant_id AND w.id = l.warehouse_id
			WHERE l.tenant_id = ? AND l.sku_id = ? ORDER BY w.id`, tid, skuID).Scan(&v.Levels).Error; err != nil {
			return err
		}
		q := `SELECT id, sku_id, warehouse_id, kind, quantity, on_hand_after, reserved_after, reason, ref, actor, created_at
			FROM stock_movements WHERE tenant_id = ? AND sku_id = ?`
		args := []any{tid, skuID}
		if before > 0 {
			q += ` AND id < ?`
			args = append(args, before)
		}
		return tx.Raw(q+` ORDER BY id DESC LIMIT 200`, args...).Scan(&v.Movements).Error
	})
	return v, err
}
