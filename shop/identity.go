package shop

// Buyer identities for customs. Every cross-border order names its buyer by
// real name and resident ID number (CEB311 buyerName, buyerIdType 1,
// buyerIdNumber), and WeChat Pay pushes the payer's identity to customs, so
// they must match. Both are sealed with the tenant's data key, bound to the
// customer and the row's id_hash; responses only ever show masked forms.
// id_hash is an HMAC of the number under the platform key "buyer-id-hash",
// the same in every shop, so the RMB 26,000 annual limit per person can be
// counted across shops without storing the number in the clear.

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
)

// MaxIdentities is how many buyer identities a customer may keep.
const MaxIdentities = 10

const idHashKeyName = "buyer-id-hash"

// Identity is a buyer identity as its customer sees it: masked.
type Identity struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name_masked" gorm:"column:name_masked"`
	IDNumber  string    `json:"id_number_masked" gorm:"column:id_masked"`
	IsDefault bool      `json:"is_default"`
	CreatedAt time.Time `json:"created_at"`
}

const identityColumns = `id, name_masked, id_masked, is_default, created_at`

// IdentityInput is a real name and a resident ID card number.
type IdentityInput struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

// BuyerIdentity is an opened identity, for customs declarations only. It
// formats and logs masked.
type BuyerIdentity struct {
	ID       int64
	Name     string
	IDNumber string
	IDHash   string
}

// String formats the identity masked.
func (b BuyerIdentity) String() string {
	return fmt.Sprintf("{ID:%d Name:%s IDNumber:%s}", b.ID, maskName(b.Name), maskIDNumber(b.IDNumber))
}

// LogValue logs the identity masked.
func (b BuyerIdentity) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", b.ID), slog.String("name", maskName(b.Name)), slog.String("id_number", maskIDNumber(b.IDNumber)))
}

var (
	// A Chinese name: Han characters, parts of ethnic-minority names joined by a middle dot.
	hanName = regexp.MustCompile(`^\p{Han}+(·\p{Han}+)*$`)
	// A foreign name in Latin letters: words joined by a space, hyphen, apostrophe, dot or middle dot.
	latinName = regexp.MustCompile(`^\p{Latin}+(([-'’.·] ?| )\p{Latin}+)*\.?$`)
	// Dots people type for the middle dot of 买买提·艾力.
	middleDots = strings.NewReplacer("•", "·", "・", "·", "‧", "·", "．", "·", "\u2027", "·")
)

// validateName returns the name as customs should get it: 2 to 30
// characters, Chinese or in Latin letters, spacing tidied.
func validateName(s string) (string, error) {
	s = cleanText(middleDots.Replace(s))
	if strings.ContainsAny(s, "·") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, " ·", "·"), "· ", "·")
	}
	if t := strings.ReplaceAll(s, " ", ""); hanName.MatchString(t) {
		s = t // 张 三 is 张三
	}
	n := utf8.RuneCountInString(s)
	if n < 2 || n > 30 {
		return "", invalid("name", "the name must be 2 to 30 characters, as on the ID card")
	}
	if !hanName.MatchString(s) && !latinName.MatchString(s) {
		return "", invalid("name", "write the name as on the ID card: in Chinese characters (with · between the parts of a name such as 买买提·艾力), or in Latin letters")
	}
	return s, nil
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckDigits = "10X98765432"

// cst is China Standard Time, for "born in the future".
var cst = time.FixedZone("CST", 8*3600)

// validateIDNumber checks an 18-character resident ID number (GB 11643):
// region prefix, birth date, and the ISO 7064 MOD 11-2 check digit. It
// returns the number with an upper-case X.
func validateIDNumber(s string, now time.Time) (string, error) {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	bad := func(msg string) (string, error) { return "", invalid("id_number", msg) }
	if len(s) != 18 {
		return bad("the ID number must be 18 characters")
	}
	sum := 0
	for i := range 17 {
		if s[i] < '0' || s[i] > '9' {
			return bad("the first 17 characters of the ID number must be digits")
		}
		sum += int(s[i]-'0') * idWeights[i]
	}
	if c := s[17]; (c < '0' || c > '9') && c != 'X' {
		return bad("the last character of the ID number must be a digit or X")
	}
	if !provinces[s[:2]] {
		return bad("the ID number does not start with a Chinese region code")
	}
	birth, err := time.ParseInLocation("20060102", s[6:14], cst)
	if err != nil || birth.Year() < 1900 || birth.After(now.In(cst)) {
		return bad("the ID number does not hold a valid date of birth")
	}
	if s[17] != idCheckDigits[sum%11] {
		return bad("the ID number's check digit is wrong; check the number for a typo")
	}
	return s, nil
}

// maskName keeps the first character: 张三 → 张*, 买买提·艾力 → 买**·**.
func maskName(s string) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		switch {
		case i == 0, r == ' ', r == '·', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('*')
		}
	}
	return b.String()
}

// maskIDNumber keeps the first and last four characters.
func maskIDNumber(s string) string {
	if len(s) < 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + strings.Repeat("*", len(s)-8) + s[len(s)-4:]
}

func identityPurpose(customerID int64, idHash, field string) string {
	return "buyer-identity/" + strconv.FormatInt(customerID, 10) + "/" + idHash + "/" + field
}

// IDHash is the keyed hash of a resident ID number: the same number gives
// the same hash in every shop. number must be validated (upper-case X).
func (s *Service) IDHash(ctx context.Context, number string) (string, error) {
	m, err := s.macer()
	if err != nil {
		return "", err
	}
	sum, err := m.MAC(ctx, idHashKeyName, []byte(number))
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sum), nil
}

var errNoIdentity = errs.E(errs.NotFound, "identity_not_found", "no such buyer identity")

// Identities lists the signed-in customer's buyer identities, masked.
func (s *Service) Identities(ctx context.Context) ([]Identity, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	out := []Identity{}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT `+identityColumns+` FROM buyer_identities WHERE tenant_id = ? AND customer_id = ?
			ORDER BY is_default DESC, id DESC`, tid, cid).Scan(&out).Error
	})
	return out, err
}

// CreateIdentity validates and stores a buyer identity, sealed. The same
// number twice for one customer is a conflict (identity_exists); the first
// identity becomes the default.
func (s *Service) CreateIdentity(ctx context.Context, in IdentityInput) (*Identity, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	name, err := validateName(in.Name)
	if err != nil {
		return nil, err
	}
	number, err := validateIDNumber(in.IDNumber, time.Now())
	if err != nil {
		return nil, err
	}
	hash, err := s.IDHash(ctx, number)
	if err != nil {
		return nil, err
	}
	var out Identity
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := lockCustomer(tx, tid, cid); err != nil {
			return err
		}
		var rows []struct{ IDHash string }
		if err := tx.Raw(`SELECT id_hash FROM buyer_identities WHERE tenant_id = ? AND customer_id = ?`, tid, cid).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			if r.IDHash == hash {
				return errs.E(errs.Conflict, "identity_exists", "this ID number is already saved")
			}
		}
		if len(rows) >= MaxIdentities {
			return errs.E(errs.Unprocessable, "too_many_identities", fmt.Sprintf("you can keep at most %d buyer identities; delete one first", MaxIdentities))
		}
		nameSealed, err := s.Keys.Seal(ctx, tx, tid, identityPurpose(cid, hash, "name"), []byte(name))
		if err != nil {
			return err
		}
		idSealed, err := s.Keys.Seal(ctx, tx, tid, identityPurpose(cid, hash, "id_number"), []byte(number))
		if err != nil {
			return err
		}
		return tx.Raw(`INSERT INTO buyer_identities (tenant_id, customer_id, name_sealed, id_sealed, id_hash, name_masked, id_masked, is_default)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+identityColumns,
			tid, cid, db.Bytes(nameSealed), db.Bytes(idSealed), hash, maskName(name), maskIDNumber(number), len(rows) == 0).Scan(&out).Error
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteIdentity removes a buyer identity of the signed-in customer; if it
// was the default, the most recent of the others becomes the default.
func (s *Service) DeleteIdentity(ctx context.Context, id int64) error {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return err
	}
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := lockCustomer(tx, tid, cid); err != nil {
			return err
		}
		var gone []struct{ IsDefault bool }
		if err := tx.Raw(`DELETE FROM buyer_identities WHERE tenant_id = ? AND customer_id = ? AND id = ? RETURNING is_default`,
			tid, cid, id).Scan(&gone).Error; err != nil {
			return err
		}
		if len(gone) == 0 {
			return errNoIdentity
		}
		if !gone[0].IsDefault {
			return nil
		}
		return tx.Exec(`UPDATE buyer_identities SET is_default = true WHERE tenant_id = ? AND id = (
			SELECT id FROM buyer_identities WHERE tenant_id = ? AND customer_id = ? ORDER BY id DESC LIMIT 1)`, tid, tid, cid).Error
	})
}

// SetDefaultIdentity makes a buyer identity the customer's default.
func (s *Service) SetDefaultIdentity(ctx context.Context, id int64) (*Identity, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	var out []Identity
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := lockCustomer(tx, tid, cid); err != nil {
			return err
		}
		if err := tx.Raw(`UPDATE buyer_identities SET is_default = true WHERE tenant_id = ? AND customer_id = ? AND id = ?
			RETURNING `+identityColumns, tid, cid, id).Scan(&out).Error; err != nil {
			return err
		}
		if len(out) == 0 {
			return errNoIdentity
		}
		return tx.Exec(`UPDATE buyer_identities SET is_default = false WHERE tenant_id = ? AND customer_id = ? AND id <> ? AND is_default`,
			tid, cid, id).Error
	})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// OpenIdentity returns a buyer identity in the clear, for a customs
// declaration of the tenant in ctx. Nothing else may call it; what it
// returns must not be logged or returned to a client (it formats masked).
func (s *Service) OpenIdentity(ctx context.Context, customerID, id int64) (*BuyerIdentity, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var out *BuyerIdentity
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var rows []struct {
			NameSealed []byte
			IDSealed   []byte `gorm:"column:id_sealed"`
			IDHash     string `gorm:"column:id_hash"`
		}
		if err := tx.Raw(`SELECT name_sealed, id_sealed, id_hash FROM buyer_identities WHERE tenant_id = ? AND customer_id = ? AND id = ?`,
			tid, customerID, id).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return errNoIdentity
		}
		r := rows[0]
		name, err := s.Keys.Open(ctx, tx, tid, identityPurpose(customerID, r.IDHash, "name"), r.NameSealed)
		if err != nil {
			return fmt.Errorf("opening the name of buyer identity %d of tenant %d: %w", id, tid, err)
		}
		number, err := s.Keys.Open(ctx, tx, tid, identityPurpose(customerID, r.IDHash, "id_number"), r.IDSealed)
		if err != nil {
			return fmt.Errorf("opening the ID number of buyer identity %d of tenant %d: %w", id, tid, err)
		}
		out = &BuyerIdentity{ID: id, Name: string(name), IDNumber: string(number), IDHash: r.IDHash}
		return nil
	})
	return out, err
}

func (h *Handler) listIdentities(c *gin.Context) {
	out, err := h.S.Identities(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"identities": out})
}

func (h *Handler) createIdentity(c *gin.Context) {
	var in IdentityInput
	if err := httpx.Bind(c, &in); err != nil {
		fail(c, err)
		return
	}
	out, err := h.S.CreateIdentity(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (h *Handler) deleteIdentity(c *gin.Context) {
	id, err := pathID(c, "id", "identity")
	if err == nil {
		err = h.S.DeleteIdentity(c.Request.Context(), id)
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *Handler) defaultIdentity(c *gin.Context) {
	id, err := pathID(c, "id", "identity")
	if err != nil {
		fail(c, err)
		return
	}
	out, err := h.S.SetDefaultIdentity(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
