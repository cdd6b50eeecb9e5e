package shop

// The buyer's view of an order's parcels in the Mini Program: carrier,
// tracking number, where each parcel is and its history (newest first).

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
)

// Trace is a line of a parcel's history.
type Trace struct {
	At      time.Time `json:"at"`
	Context string    `json:"context"`
	Area    string    `json:"area"`
}

// BuyerShipment is a parcel as the buyer sees it.
type BuyerShipment struct {
	ID          int64          `json:"id"`
	Carrier     string         `json:"carrier"`
	CarrierName string         `json:"carrier_name"`
	TrackingNo  string         `json:"tracking_no"`
	Lines       []ShipmentLine `json:"lines"`
	State       string         `json:"state"`
	DeliveredAt *time.Time     `json:"delivered_at"`
	Traces      []Trace        `json:"traces"`
}

// MyShipments returns the parcels of one of the signed-in customer's
// orders with their histories (at most 100 traces each). Another
// customer's order is not found.
func (s *Service) MyShipments(ctx context.Context, orderID int64) ([]BuyerShipment, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	out := []BuyerShipment{}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if _, err := loadOrder(tx, tid, orderID, cid, false); err != nil {
			return err
		}
		rows, err := shipmentRows(tx, `s.tenant_id = ? AND s.order_id = ?`, tid, orderID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			sh := r.shipment()
			b := BuyerShipment{ID: sh.ID, Carrier: sh.Carrier, CarrierName: sh.CarrierName, TrackingNo: sh.TrackingNo, Lines: sh.Lines,
				State: sh.State, DeliveredAt: sh.DeliveredAt, Traces: []Trace{}}
			if err := tx.Raw(`SELECT at, context, area FROM shipment_traces WHERE tenant_id = ? AND shipment_id = ? ORDER BY at DESC LIMIT 100`,
				tid, sh.ID).Scan(&b.Traces).Error; err != nil {
				return err
			}
			for i := range b.Traces {
				b.Traces[i].At = b.Traces[i].At.UTC()
			}
			out = append(out, b)
		}
		return nil
	})
	return out, err
}

// registerMyShipments mounts GET /orders/:id/shipments on the storefront.
func (h *Handler) registerMyShipments(rg *gin.RouterGroup) {
	rg.GET("/orders/:id/shipments", h.requireCustomer(), func(c *gin.Context) {
		id, err := pathID(c, "id", "order")
		if err != nil {
			fail(c, err)
			return
		}
		ss, err := h.S.MyShipments(c.Request.Context(), id)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"shipments": ss})
	})
}
