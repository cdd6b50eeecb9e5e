package shop

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
)

// MaxAddresses is how many delivery addresses a customer may keep.
const MaxAddresses = 20

// Address is a delivery address in mainland China (or Hong Kong, Macao,
// Taiwan), with the region as GB/T 2260 codes and names, as the Mini
// Program's region picker gives them. A customer with addresses has exactly
// one default.
type Address struct {
	ID           int64     `json:"id"`
	Consignee    string    `json:"consignee"`
	Phone        string    `json:"phone"`
	ProvinceCode string    `json:"province_code"`
	CityCode     string    `json:"city_code"`
	DistrictCode string    `json:"district_code"`
	Province     string    `json:"province"`
	City         string    `json:"city"`
	District     string    `json:"district"`
	Detail       string    `json:"detail"`
	IsDefault    bool      `json:"is_default"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

const addressColumns = `id, consignee, phone, province_code, city_code, district_code, province, city, district, detail, is_default, created_at, updated_at`

// AddressInput creates or replaces an address.
type AddressInput struct {
	Consignee    string `json:"consignee"`
	Phone        string `json:"phone"`
	ProvinceCode string `json:"province_code"`
	CityCode     string `json:"city_code"`
	DistrictCode string `json:"district_code"`
	Province     string `json:"province"`
	City         string `json:"city"`
	District     string `json:"district"`
	Detail       string `json:"detail"`
}

// provinces are the first two digits of the GB/T 2260 province-level
// divisions: 31 mainland provinces, Taiwan (71), Hong Kong (81), Macao (82).
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

var (
	sixDigits       = regexp.MustCompile(`^[0-9]{6}$`)
	landlinePattern = regexp.MustCompile(`^0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?$`)
)

// normalizePhone accepts a mainland mobile number (returned as 11 digits) or
// a landline with its area code, e.g. 010-12345678 or 0755-1234567-89.
func normalizePhone(s string) (string, bool) {
	if m, ok := normalizeMobile(s); ok {
		return m, true
	}
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	return s, landlinePattern.MatchString(s)
}

// validateRegion checks GB/T 2260 codes: a real province, a city inside it,
// a district inside the city.
func validateRegion(province, city, district string) error {
	switch {
	case !sixDigits.MatchString(province) || !strings.HasSuffix(province, "0000") || !provinces[province[:2]]:
		return invalid("province_code", "province_code must be the 6-digit code of a province, such as 310000 for Shanghai")
	case !sixDigits.MatchString(city) || city[:2] != province[:2] || city == province:
		return invalid("city_code", "city_code must be the 6-digit code of a city in the province (the same first 2 digits)")
	case !sixDigits.MatchString(district) || district[:4] != city[:4]:
		return invalid("district_code", "district_code must be the 6-digit code of a district in the city (the same first 4 digits)")
	}
	return nil
}

func (in *AddressInput) validate() error {
	in.Consignee = cleanText(in.Consignee)
	if n := utf8.RuneCountInString(in.Consignee); n == 0 || n > 60 || hasControl(in.Consignee) {
		return invalid("consignee", "name the consignee (1 to 60 characters)")
	}
	p, ok := normalizePhone(in.Phone)
	if !ok || len(p) > 32 {
		return invalid("phone", "enter a mainland mobile number (11 digits starting with 13 to 19) or a landline with its area code, such as 010-12345678")
	}
	in.Phone = p
	in.ProvinceCode, in.CityCode, in.DistrictCode = strings.TrimSpace(in.ProvinceCode), strings.TrimSpace(in.CityCode), strings.TrimSpace(in.DistrictCode)
	if err := validateRegion(in.ProvinceCode, in.CityCode, in.DistrictCode); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"province", &in.Province}, {"city", &in.City}, {"district", &in.District}} {
		*f.v = cleanText(*f.v)
		if n := utf8.RuneCountInString(*f.v); n == 0 || n > 40 || hasControl(*f.v) {
			return invalid(f.name, fmt.Sprintf("give the %s's name (1 to 40 characters)", f.name))
		}
	}
	in.Detail = cleanText(in.Detail)
	if n := utf8.RuneCountInString(in.Detail); n == 0 || n > 200 || hasControl(in.Detail) {
		return invalid("detail", "give the street address (1 to 200 characters)")
	}
	return nil
}

var errNoAddress = errs.E(errs.NotFound, "address_not_found", "no such address")

// Addresses lists the signed-in customer's addresses, the default first.
func (s *Service) Addresses(ctx context.Context) ([]Address, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	out := []Address{}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT `+addressColumns+` FROM addresses WHERE tenant_id = ? AND customer_id = ?
			ORDER BY is_default DESC, id DESC`, tid, cid).Scan(&out).Error
	})
	return out, err
}

// CreateAddress adds an address; the customer's first becomes the default.
// More than MaxAddresses is refused (422 too_many_addresses).
func (s *Service) CreateAddress(ctx context.Context, in AddressInput) (*Address, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var out Address
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := lockCustomer(tx, tid, cid); err != nil {
			return err
		}
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM addresses WHERE tenant_id = ? AND customer_id = ?`, tid, cid).Scan(&n).Error; err != nil {
			return err
		}
		if n >= MaxAddresses {
			return errs.E(errs.Unprocessable, "too_many_addresses", fmt.Sprintf("you can keep at most %d addresses; delete one first", MaxAddresses))
		}
		return tx.Raw(`INSERT INTO addresses (tenant_id, customer_id, consignee, phone, province_code, city_code, district_code,
			province, city, district, detail, is_default) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+addressColumns,
			tid, cid, in.Consignee, in.Phone, in.ProvinceCode, in.CityCode, in.DistrictCode,
			in.Province, in.City, in.District, in.Detail, n == 0).Scan(&out).Error
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateAddress replaces an address of the signed-in customer; whether it is
// the default does not change. Another customer's address is not found.
func (s *Service) UpdateAddress(ctx context.Context, id int64, in AddressInput) (*Address, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var out []Address
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`UPDATE addresses SET consignee = ?, phone = ?, province_code = ?, city_code = ?, district_code = ?,
			province = ?, city = ?, district = ?, detail = ?, updated_at = now()
			WHERE tenant_id = ? AND customer_id = ? AND id = ? RETURNING `+addressColumns,
			in.Consignee, in.Phone, in.ProvinceCode, in.CityCode, in.DistrictCode, in.Province, in.City, in.District, in.Detail,
			tid, cid, id).Scan(&out).Error
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errNoAddress
	}
	return &out[0], nil
}

// DeleteAddress removes an address; if it was the default, the most
// recently added of the others becomes the default.
func (s *Service) DeleteAddress(ctx context.Context, id int64) error {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return err
	}
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := lockCustomer(tx, tid, cid); err != nil {
			return err
		}
		var gone []struct{ IsDefault bool }
		if err := tx.Raw(`DELETE FROM addresses WHERE tenant_id = ? AND customer_id = ? AND id = ? RETURNING is_default`,
			tid, cid, id).Scan(&gone).Error; err != nil {
			return err
		}
		if len(gone) == 0 {
			return errNoAddress
		}
		if !gone[0].IsDefault {
			return nil
		}
		return tx.Exec(`UPDATE addresses SET is_default = true, updated_at = now() WHERE tenant_id = ? AND id = (
			SELECT id FROM addresses WHERE tenant_id = ? AND customer_id = ? ORDER BY id DESC LIMIT 1)`, tid, tid, cid).Error
	})
}

// SetDefaultAddress makes an address the customer's default.
func (s *Service) SetDefaultAddress(ctx context.Context, id int64) (*Address, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	var out []Address
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := lockCustomer(tx, tid, cid); err != nil {
			return err
		}
		if err := tx.Raw(`UPDATE addresses SET is_default = true, updated_at = CASE WHEN is_default THEN updated_at ELSE now() END
			WHERE tenant_id = ? AND customer_id = ? AND id = ? RETURNING `+addressColumns, tid, cid, id).Scan(&out).Error; err != nil {
			return err
		}
		if len(out) == 0 {
			return errNoAddress
		}
		return tx.Exec(`UPDATE addresses SET is_default = false, updated_at = now()
			WHERE tenant_id = ? AND customer_id = ? AND id <> ? AND is_default`, tid, cid, id).Error
	})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

func (h *Handler) listAddresses(c *gin.Context) {
	out, err := h.S.Addresses(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"addresses": out})
}

func (h *Handler) createAddress(c *gin.Context) {
	var in AddressInput
	if err := httpx.Bind(c, &in); err != nil {
		fail(c, err)
		return
	}
	out, err := h.S.CreateAddress(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (h *Handler) updateAddress(c *gin.Context) {
	id, err := pathID(c, "id", "address")
	if err != nil {
		fail(c, err)
		return
	}
	var in AddressInput
	if err := httpx.Bind(c, &in); err != nil {
		fail(c, err)
		return
	}
	out, err := h.S.UpdateAddress(c.Request.Context(), id, in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handler) deleteAddress(c *gin.Context) {
	id, err := pathID(c, "id", "address")
	if err == nil {
		err = h.S.DeleteAddress(c.Request.Context(), id)
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *Handler) defaultAddress(c *gin.Context) {
	id, err := pathID(c, "id", "address")
	if err != nil {
		fail(c, err)
		return
	}
	out, err := h.S.SetDefaultAddress(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
