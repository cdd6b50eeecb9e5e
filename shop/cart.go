package shop

// The cart of a signed-in customer. It stores only SKUs and quantities;
// prices, tax and stock are read afresh every time the cart is shown, so the
// cart never promises a price or an item the shop no longer has. Lines whose
// product was withdrawn or whose SKU was archived stay visible, marked
// unavailable with the reason, and are left out of the totals.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
)

// Limits of a cart.
const (
	MaxCartLines    = 50
	MaxLineQuantity = 999
)

// Reasons a cart line cannot be bought.
const (
	ReasonProductUnavailable = "product_unavailable" // unpublished or archived
	ReasonSKUUnavailable     = "sku_unavailable"     // its option combination was archived
	ReasonSoldOut            = "sold_out"
	ReasonInsufficientStock  = "insufficient_stock" // fewer left than the quantity
	ReasonNotSellable        = "not_sellable"       // the shop's data is incomplete
)

// CartLine is one SKU in the cart, priced now. Amounts are fen.
type CartLine struct {
	SKUID        int64     `json:"sku_id"`
	ProductID    int64     `json:"product_id"`
	Title        Text      `json:"title"`
	SKUCode      string    `json:"sku_code"`
	OptionValues []string  `json:"option_values"`
	Quantity     int       `json:"quantity"`
	Unit         *Landed   `json:"unit,omitempty"` // one unit: price, CBEC tax, total
	Goods        int64     `json:"goods"`          // price × quantity
	Tax          int64     `json:"tax"`            // CBEC tax on the line's value, rounded once
	Total        int64     `json:"total"`
	Image        string    `json:"image,omitempty"` // URL of the product's first image
	Stock        string    `json:"stock"`           // availability: in_stock, low, sold_out
	Available    bool      `json:"available"`
	Reason       string    `json:"reason,omitempty"`
	Message      string    `json:"message,omitempty"`
	AddedAt      time.Time `json:"added_at"`
}

// CartTotals add up the available lines.
type CartTotals struct {
	Goods    int64  `json:"goods"`
	Tax      int64  `json:"tax"`
	Total    int64  `json:"total"`
	Quantity int    `json:"quantity"`
	Currency string `json:"currency"`
}

// Cart is the signed-in customer's cart.
type Cart struct {
	Items       []CartLine `json:"items"`
	Totals      CartTotals `json:"totals"`
	Unavailable int        `json:"unavailable"` // lines left out of the totals
}

// CartItemInput adds a SKU (quantity defaults to 1) or sets a line's quantity.
type CartItemInput struct {
	SKUID    int64 `json:"sku_id"`
	Quantity *int  `json:"quantity"`
}

type cartRow struct {
	SKUID        int64 `gorm:"column:sku_id"`
	Quantity     int
	AddedAt      time.Time
	ProductID    int64
	Code         string
	OptionValues string
	Price        int64
	TaxCategory  string
	ArchivedAt   *time.Time
	Status       string
	TitleZH      string `gorm:"column:title_zh"`
	TitleEN      string `gorm:"column:title_en"`
	Image        string
	Available    int64
}

// stockSum is the SKU's sellable stock over all warehouses.
const stockSum = `COALESCE((SELECT sum(sl.on_hand - sl.reserved) FROM stock_levels sl
	WHERE sl.tenant_id = s.tenant_id AND sl.sku_id = s.id), 0)::bigint AS available`

// Cart returns the signed-in customer's cart, priced and checked now.
func (s *Service) Cart(ctx context.Context) (*Cart, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	var rows []cartRow
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT ci.sku_id, ci.quantity, ci.added_at, s.product_id, s.code, s.option_values::text AS option_values,
				s.price, s.tax_category, s.archived_at, p.status,
				COALESCE(p.content -> 'zh-CN' ->> 'title', '') AS title_zh, COALESCE(p.content -> 'en' ->> 'title', '') AS title_en,
				COALESCE(p.images -> 0 ->> 'hash', '') AS image,
				`+stockSum+`
			FROM cart_items ci
			JOIN skus s ON s.tenant_id = ci.tenant_id AND s.id = ci.sku_id
			JOIN products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
			WHERE ci.tenant_id = ? AND ci.customer_id = ?
			ORDER BY ci.added_at, ci.sku_id`, tid, cid).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	out := &Cart{Items: make([]CartLine, 0, len(rows)), Totals: CartTotals{Currency: "CNY"}}
	for _, r := range rows {
		l := s.cartLine(ctx, r)
		if l.Available {
			out.Totals.Goods += l.Goods
			out.Totals.Tax += l.Tax
			out.Totals.Total += l.Total
			out.Totals.Quantity += l.Quantity
		} else {
			out.Unavailable++
		}
		out.Items = append(out.Items, l)
	}
	return out, nil
}

func (s *Service) cartLine(ctx context.Context, r cartRow) CartLine {
	l := CartLine{SKUID: r.SKUID, ProductID: r.ProductID, Title: Text{}, SKUCode: r.Code, OptionValues: []string{},
		Quantity: r.Quantity, Stock: availability(r.Available), AddedAt: r.AddedAt}
	if r.TitleZH != "" {
		l.Title[LocaleZH] = r.TitleZH
	}
	if r.TitleEN != "" {
		l.Title[LocaleEN] = r.TitleEN
	}
	if r.Image != "" {
		l.Image = mediaURL(r.Image)
	}
	_ = json.Unmarshal([]byte(r.OptionValues), &l.OptionValues)
	l.Goods = r.Price * int64(r.Quantity)
	unit, uerr := s.Rates.LandedPrice(r.TaxCategory, r.Price)
	tax, terr := s.Rates.Tax(r.TaxCategory, l.Goods)
	if uerr == nil && terr == nil {
		l.Unit, l.Tax, l.Total = &unit, tax, l.Goods+tax
	}
	switch {
	case r.Status != StatusPublished:
		l.Reason, l.Message = ReasonProductUnavailable, "this product is no longer on sale"
	case r.ArchivedAt != nil:
		l.Reason, l.Message = ReasonSKUUnavailable, "this option of the product is no longer available"
	case uerr != nil || terr != nil:
		// A tax category the configuration no longer knows: the shop must fix it.
		s.Log.ErrorContext(ctx, "shop: cart line cannot be priced", "sku_id", r.SKUID, "tax_category", r.TaxCategory, "err", uerr)
		l.Reason, l.Message = ReasonNotSellable, "this item cannot be sold at the moment"
	case r.Available <= 0:
		l.Reason, l.Message = ReasonSoldOut, "sold out"
	case int64(r.Quantity) > r.Available:
		l.Reason, l.Message = ReasonInsufficientStock, fmt.Sprintf("only %d left; lower the quantity", r.Available)
	default:
		l.Available = true
	}
	return l
}

var errNoSKU = errs.E(errs.NotFound, "sku_not_found", "no such item in this shop")

// sellable checks in tx that a SKU can be put in a cart and returns its
// stock. A SKU of a draft product, of another shop or of none is not found;
// one that was withdrawn is not_for_sale.
func sellable(tx *gorm.DB, tid, skuID int64) (int64, error) {
	var rows []struct {
		Status     string
		ArchivedAt *time.Time
		Available  int64
	}
	if err := tx.Raw(`SELECT p.status, s.archived_at, `+stockSum+`
		FROM skus s JOIN products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
		WHERE s.tenant_id = ? AND s.id = ?`, tid, skuID).Scan(&rows).Error; err != nil {
		return 0, err
	}
	if len(rows) == 0 || rows[0].Status == StatusDraft {
		return 0, errNoSKU
	}
	if rows[0].Status != StatusPublished || rows[0].ArchivedAt != nil {
		return 0, errs.E(errs.Conflict, "not_for_sale", "this item is no longer for sale")
	}
	return rows[0].Available, nil
}

func checkQuantity(q int) error {
	if q < 1 || q > MaxLineQuantity {
		return invalid("quantity", fmt.Sprintf("the quantity must be 1 to %d", MaxLineQuantity))
	}
	return nil
}

func stockError(available int64) error {
	if available <= 0 {
		return errs.E(errs.Conflict, "sold_out", "this item is sold out")
	}
	return errs.E(errs.Conflict, "insufficient_stock", fmt.Sprintf("only %d left", available)).
		WithDetails(map[string]int64{"available": available})
}

// AddToCart adds quantity of a SKU, to its line if there is one. At most
// MaxCartLines lines and MaxLineQuantity of one SKU, within the stock.
func (s *Service) AddToCart(ctx context.Context, skuID int64, quantity int) (*Cart, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	if skuID <= 0 {
		return nil, invalid("sku_id", "sku_id is required")
	}
	if err := checkQuantity(quantity); err != nil {
		return nil, err
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := lockCustomer(tx, tid, cid); err != nil {
			return err
		}
		available, err := sellable(tx, tid, skuID)
		if err != nil {
			return err
		}
		var lines []struct {
			SKUID    int64 `gorm:"column:sku_id"`
			Quantity int
		}
		if err := tx.Raw(`SELECT sku_id, quantity FROM cart_items WHERE tenant_id = ? AND customer_id = ?`, tid, cid).Scan(&lines).Error; err != nil {
			return err
		}
		q := quantity
		found := false
		for _, l := range lines {
			if l.SKUID == skuID {
				q += l.Quantity
				found = true
			}
		}
		if !found && len(lines) >= MaxCartLines {
			return errs.E(errs.Unprocessable, "cart_full", fmt.Sprintf("a cart holds at most %d different items", MaxCartLines))
		}
		if q > MaxLineQuantity {
			return invalid("quantity", fmt.Sprintf("at most %d of one item per order", MaxLineQuantity))
		}
		if int64(q) > available {
			return stockError(available)
		}
		return tx.Exec(`INSERT INTO cart_items (tenant_id, customer_id, sku_id, quantity) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant_id, customer_id, sku_id) DO UPDATE SET quantity = EXCLUDED.quantity`, tid, cid, skuID, q).Error
	})
	if err != nil {
		return nil, err
	}
	return s.Cart(ctx)
}

var errNoCartItem = errs.E(errs.NotFound, "cart_item_not_found", "this item is not in your cart")

// SetCartQuantity changes a line's quantity. Lowering it is always allowed;
// raising it needs the SKU on sale and in stock.
func (s *Service) SetCartQuantity(ctx context.Context, skuID int64, quantity int) (*Cart, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkQuantity(quantity); err != nil {
		return nil, err
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var cur []int
		if err := tx.Raw(`SELECT quantity FROM cart_items WHERE tenant_id = ? AND customer_id = ? AND sku_id = ? FOR UPDATE`,
			tid, cid, skuID).Scan(&cur).Error; err != nil {
			return err
		}
		if len(cur) == 0 {
			return errNoCartItem
		}
		if quantity > cur[0] {
			available, err := sellable(tx, tid, skuID)
			if err != nil {
				return err
			}
			if int64(quantity) > available {
				return stockError(available)
			}
		}
		return tx.Exec(`UPDATE cart_items SET quantity = ? WHERE tenant_id = ? AND customer_id = ? AND sku_id = ?`,
			quantity, tid, cid, skuID).Error
	})
	if err != nil {
		return nil, err
	}
	return s.Cart(ctx)
}

// RemoveFromCart deletes a line.
func (s *Service) RemoveFromCart(ctx context.Context, skuID int64) (*Cart, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM cart_items WHERE tenant_id = ? AND customer_id = ? AND sku_id = ?`, tid, cid, skuID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errNoCartItem
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Cart(ctx)
}

func (h *Handler) cart(c *gin.Context) {
	out, err := h.S.Cart(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handler) addToCart(c *gin.Context) {
	var in CartItemInput
	if err := httpx.Bind(c, &in); err != nil {
		fail(c, err)
		return
	}
	q := 1
	if in.Quantity != nil {
		q = *in.Quantity
	}
	out, err := h.S.AddToCart(c.Request.Context(), in.SKUID, q)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// cartSKU reads :sku_id; a malformed one is not in the cart.
func cartSKU(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("sku_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNoCartItem
	}
	return id, nil
}

func (h *Handler) setCartItem(c *gin.Context) {
	id, err := cartSKU(c)
	if err != nil {
		fail(c, err)
		return
	}
	var in struct {
		Quantity *int `json:"quantity"`
	}
	if err := httpx.Bind(c, &in); err != nil {
		fail(c, err)
		return
	}
	if in.Quantity == nil {
		fail(c, invalid("quantity", "quantity is required"))
		return
	}
	out, err := h.S.SetCartQuantity(c.Request.Context(), id, *in.Quantity)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handler) removeCartItem(c *gin.Context) {
	id, err := cartSKU(c)
	if err != nil {
		fail(c, err)
		return
	}
	out, err := h.S.RemoveFromCart(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
