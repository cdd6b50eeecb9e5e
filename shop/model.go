package shop

import (
	"time"
)

// Locales: zh-CN is what the Mini Program shows and is required to publish;
// en is what a foreign brand usually writes first.
const (
	LocaleZH = "zh-CN"
	LocaleEN = "en"
)

// Text is a localised string: locale → text.
type Text map[string]string

// Content is a product's text in one locale. Description is sanitised HTML.
type Content struct {
	Title       string `json:"title"`
	Subtitle    string `json:"subtitle"`
	Description string `json:"description"`
}

// Option is a dimension of a product (colour, size) and its values. SKUs
// name their values by the English text, which is the stable key.
type Option struct {
	Name   Text   `json:"name"`
	Values []Text `json:"values"`
}

// Image is an uploaded image used by a product.
type Image struct {
	Hash string `json:"hash"`
	Alt  Text   `json:"alt,omitempty"`
	URL  string `json:"url,omitempty"` // filled on output
}

// Product statuses.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
	StatusArchived  = "archived"
)

// Product is a product (SPU) as the admin API returns it.
type Product struct {
	ID          int64              `json:"id"`
	Status      string             `json:"status"`
	CategoryID  *int64             `json:"category_id"`
	Brand       string             `json:"brand"`
	Tags        []string           `json:"tags"`
	Sort        int                `json:"sort"`
	Content     map[string]Content `json:"content"`
	Options     []Option           `json:"options"`
	Images      []Image            `json:"images"`
	MinPrice    *int64             `json:"min_price"` // fen, lowest active SKU
	SalesCount  int64              `json:"sales_count"`
	Version     int64              `json:"version"`
	PublishedAt *time.Time         `json:"published_at"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	SKUs        []SKU              `json:"skus,omitempty"`
	Checklist   []Problem          `json:"checklist"` // what stops publishing (detail only)
}

// SKU is one option combination of a product, with its price, stock and
// customs data.
type SKU struct {
	ID             int64    `json:"id"`
	ProductID      int64    `json:"product_id"`
	Code           string   `json:"code"`
	Barcode        string   `json:"barcode"`
	OptionValues   []string `json:"option_values" gorm:"-"`
	Price          int64    `json:"price"`            // fen
	CompareAtPrice *int64   `json:"compare_at_price"` // fen
	WeightG        *int     `json:"weight_g"`
	Customs
	Sort       int        `json:"sort"`
	ArchivedAt *time.Time `json:"archived_at"`
	Stock      *Stock     `json:"stock,omitempty" gorm:"-"`
	Landed     *Landed    `json:"landed,omitempty" gorm:"-"`
}

// Customs is the cross-border data of a SKU, as customs messages need it.
type Customs struct {
	HSCode        string   `json:"hs_code"`                     // 10 digits
	OriginCountry string   `json:"origin_country"`              // customs numeric country code, e.g. 330 Sweden
	GName         string   `json:"gname" gorm:"column:gname"`   // declared name (Chinese)
	GModel        string   `json:"gmodel" gorm:"column:gmodel"` // declared specification
	Unit          string   `json:"unit"`                        // declared unit code, e.g. 007 piece
	LegalUnit1    string   `json:"legal_unit1"`
	LegalQty1     *float64 `json:"legal_qty1"`
	LegalUnit2    string   `json:"legal_unit2"`
	LegalQty2     *float64 `json:"legal_qty2"`
	NetWeightG    *int     `json:"net_weight_g"`
	GrossWeightG  *int     `json:"gross_weight_g"`
	ItemRecordNo  string   `json:"item_record_no"` // product record number, required for bonded (1210) stock
	TradeMode     string   `json:"trade_mode"`     // 1210 bonded, 9610 direct mail
	TaxCategory   string   `json:"tax_category"`   // general, premium_cosmetics, ...
	PositiveList  bool     `json:"positive_list"`  // confirmed on the CBEC positive list
}

// Stock of a SKU summed over warehouses.
type Stock struct {
	OnHand    int64 `json:"on_hand"`
	Reserved  int64 `json:"reserved"`
	Available int64 `json:"available"`
}

// Problem is one reason a product cannot be published yet.
type Problem struct {
	SKU     string `json:"sku,omitempty"` // SKU code, when the problem is a SKU's
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Category is a node of a tenant's category tree.
type Category struct {
	ID        int64     `json:"id"`
	ParentID  *int64    `json:"parent_id"`
	Name      Text      `json:"name"`
	Sort      int       `json:"sort"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Warehouse is where stock is kept: bonded (in China, trade mode 1210) or
// overseas (direct mail, 9610).
type Warehouse struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
}

// Movement is one line of the stock movement log.
type Movement struct {
	ID            int64     `json:"id"`
	SKUID         int64     `json:"sku_id"`
	WarehouseID   int64     `json:"warehouse_id"`
	Kind          string    `json:"kind"`
	Quantity      int64     `json:"quantity"`
	OnHandAfter   int64     `json:"on_hand_after"`
	ReservedAfter int64     `json:"reserved_after"`
	Reason        string    `json:"reason"`
	Ref           string    `json:"ref"`
	Actor         string    `json:"actor"`
	CreatedAt     time.Time `json:"created_at"`
}
