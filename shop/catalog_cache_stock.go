package shop

import (
	"context"
	"slices"
	"sync"

	"gorm.io/gorm"
)

// Stock and the catalog cache: the storefront shows availability bands (in
// stock, low, sold out), never counts, so a stock movement invalidates
// cached responses only when it moves a band. A transaction that moves stock
// collects the products whose bands it changed (noteStockMove, in the
// transaction); the caller publishes them once it has committed
// (stockMoved). Without a collector in the context nothing is collected: the
// caller invalidates the whole catalog instead (the catalog import does).
//
// Exactness under concurrency: every movement locks its product's row
// (UPDATE products SET version = version + 1) before noteStockMove reads the
// stock, and keeps the lock until it commits. So movements of one product
// are serialised: each reads the stock as the previous one committed it
// plus its own change, and "before" is that minus its own change. Two
// checkouts that together cross a threshold cannot both miss it.

// stockChanges collects, in one transaction, the products whose band (or the
// band of one of their SKUs) changed, and whether a product's own band did
// (the list pages show that one).
type stockChanges struct {
	mu       sync.Mutex
	products []int64
	lists    bool
}

type stockChangesKey struct{}

// withStockChanges returns ctx carrying a new collector for a transaction
// that moves stock.
func withStockChanges(ctx context.Context) (context.Context, *stockChanges) {
	ch := &stockChanges{}
	return context.WithValue(ctx, stockChangesKey{}, ch), ch
}

// noteStockMove records in ctx's collector, in tx, whether the movement that
// just changed the available stock (on hand − reserved) of skuID by delta
// moved a band. The movement must have locked the SKU's product row first.
func noteStockMove(ctx context.Context, tx *gorm.DB, tid, skuID, delta int64) error {
	ch, _ := ctx.Value(stockChangesKey{}).(*stockChanges)
	if ch == nil || delta == 0 {
		return nil
	}
	var rows []struct {
		ProductID    int64
		Live         bool
		SKUAvail     int64 `gorm:"column:sku_avail"`
		ProductAvail int64
	}
	// The product's band sums its live SKUs, each counted from 0 (as
	// renderProduct does; no level goes below 0 anyway).
	if err := tx.Raw(`SELECT k.product_id, k.archived_at IS NULL AS live,
		coalesce((SELECT sum(on_hand - reserved) FROM stock_levels WHERE tenant_id = k.tenant_id AND sku_id = k.id), 0) AS sku_avail,
		coalesce((SELECT sum(greatest(a, 0)) FROM (SELECT sum(l.on_hand - l.reserved) AS a FROM skus x
			JOIN stock_levels l ON l.tenant_id = x.tenant_id AND l.sku_id = x.id
			WHERE x.tenant_id = k.tenant_id AND x.product_id = k.product_id AND x.archived_at IS NULL GROUP BY x.id) s), 0) AS product_avail
		FROM skus k WHERE k.tenant_id = ? AND k.id = ?`, tid, skuID).Scan(&rows).Error; err != nil {
		return err
	}
	if len(rows) == 0 || !rows[0].Live {
		return nil // an archived SKU is not shown, nor counted
	}
	r := rows[0]
	skuBefore := r.SKUAvail - delta
	productBefore := r.ProductAvail - max(r.SKUAvail, 0) + max(skuBefore, 0)
	ch.note(r.ProductID, availability(skuBefore) != availability(r.SKUAvail), availability(productBefore) != availability(r.ProductAvail))
	return nil
}

func (ch *stockChanges) note(product int64, skuBand, productBand bool) {
	if !skuBand && !productBand {
		return
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if !slices.Contains(ch.products, product) {
		ch.products = append(ch.products, product)
	}
	ch.lists = ch.lists || productBand
}

// stockMoved publishes, after the transaction committed, the bands it
// changed: the details of those products and, if a product's own band
// changed, the list pages.
func (s *Service) stockMoved(ctx context.Context, tid int64, ch *stockChanges) {
	c, ok := s.cache.(*catalogCache)
	if !ok || ch == nil {
		return
	}
	ch.mu.Lock()
	products, lists := slices.Clone(ch.products), ch.lists
	ch.mu.Unlock()
	c.productsChanged(ctx, tid, products, lists)
}
