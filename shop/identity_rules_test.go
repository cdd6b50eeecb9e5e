package shop

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/wechat"
)

var idToday = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// The valid numbers were computed independently of validateIDNumber; the
// first is the example of GB 11643 itself.
func TestValidateIDNumber(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"11010519491231002X", "11010519491231002X", ""},
		{"440524188001010014", "", "date of birth"},         // the standard's other example: born 1880
		{"11010519491231002x", "11010519491231002X", ""},    // lower-case x
		{" 110101 199003071233 ", "110101199003071233", ""}, // spaces
		{"650102200002290319", "650102200002290319", ""},    // 29 February of a leap year
		{"810000199501010023", "810000199501010023", ""},    // Hong Kong prefix
		{"110101199003071234", "", "check digit is wrong"},
		{"330106198808088883", "", "check digit is wrong"},
		{"330106198808088882", "330106198808088882", ""},
		{"11010519491231002Y", "", "digit or X"},
		{"1101011990030712", "", "18 characters"},
		{"1101011990030712334", "", "18 characters"},
		{"11010119900307123X3", "", "18 characters"},
		{"1101A1199003071233", "", "must be digits"},
		{"", "", "18 characters"},
		{"990101199003071237", "", "region code"},
		{"000101199003071238", "", "region code"},
		{"110101199002301236", "", "date of birth"}, // 30 February
		{"650102200102290316", "", "date of birth"}, // 29 February of 2001
		{"110101210001011231", "", "date of birth"}, // born in 2100
		{"110101189912311231", "", "date of birth"}, // before 1900
	}
	for _, tc := range tests {
		got, err := validateIDNumber(tc.in, idToday)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errs.Is(err, errs.Invalid)):
			t.Errorf("%q: err %v, want an invalid error containing %q", tc.in, err, tc.err)
		}
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"张三", "张三"},
		{" 张 三 ", "张三"},
		{"欧阳娜娜", "欧阳娜娜"},
		{"买买提·艾力", "买买提·艾力"},
		{"买买提•艾力", "买买提·艾力"},
		{"买买提 · 艾力", "买买提·艾力"},
		{"Anna Lindqvist", "Anna Lindqvist"},
		{"Anna  Lindqvist", "Anna Lindqvist"},
		{"Jean-Luc O'Neill", "Jean-Luc O'Neill"},
		{"Zoë Ångström", "Zoë Ångström"},
		{"J. R. Smith", "J. R. Smith"},
		{"张", ""},                     // one character
		{"A", ""},                     // one character
		{"张三3", ""},                   // digit
		{"李Anna", ""},                 // mixed scripts
		{"<script>", ""},              // markup
		{"·张三", ""},                   // leading dot
		{strings.Repeat("张", 31), ""}, // too long
		{"Иван Петров", ""},           // Cyrillic: not on a resident ID
	}
	for _, tc := range tests {
		got, err := validateName(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: accepted as %q", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestMasking(t *testing.T) {
	for in, want := range map[string]string{
		"张三":             "张*",
		"欧阳娜娜":           "欧***",
		"买买提·艾力":         "买**·**",
		"Anna Lindqvist": "A*** *********",
	} {
		if got := maskName(in); got != want {
			t.Errorf("maskName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := maskIDNumber("11010519491231002X"); got != "1101**********002X" {
		t.Errorf("maskIDNumber = %q", got)
	}
	// An opened identity formats and logs masked.
	b := BuyerIdentity{ID: 1, Name: "张三", IDNumber: "11010519491231002X"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "buyer", b)
	for _, s := range []string{fmt.Sprint(b), fmt.Sprintf("%+v", b), logs.String()} {
		if strings.Contains(s, "张三") || strings.Contains(s, "19491231") {
			t.Errorf("identity leaks in %q", s)
		}
	}
}

func TestPhonesAndRegions(t *testing.T) {
	phones := map[string]string{
		"13800138000":       "13800138000",
		"+86 138 0013 8000": "13800138000",
		"0086-13800138000":  "13800138000",
		"010-12345678":      "010-12345678",
		"0755 1234567":      "07551234567",
		"021-12345678-123":  "021-12345678-123",
		"12800138000":       "", // no such mobile prefix
		"1380013800":        "", // 10 digits
		"138001380000":      "", // 12 digits
		"12345678":          "", // landline without area code
		"+1 415 555 0100":   "",
		"":                  "",
	}
	for in, want := range phones {
		got, ok := normalizePhone(in)
		if ok != (want != "") || (ok && got != want) {
			t.Errorf("normalizePhone(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	regions := []struct {
		p, c, d, field string
	}{
		{"110000", "110100", "110105", ""}, // Beijing, Chaoyang
		{"440000", "440300", "440305", ""}, // Shenzhen, Nanshan
		{"650000", "650100", "650102", ""}, // Urumqi
		{"810000", "810100", "810101", ""}, // Hong Kong
		{"460000", "469000", "469001", ""}, // a county-level city of Hainan
		{"100000", "100100", "100101", "province_code"},
		{"660000", "660100", "660101", "province_code"},
		{"110100", "110100", "110105", "province_code"}, // a city as the province
		{"11000", "110100", "110105", "province_code"},
		{"110000", "120100", "120101", "city_code"},
		{"110000", "110000", "110105", "city_code"},
		{"110000", "1101a0", "110105", "city_code"},
		{"440000", "440300", "440105", "district_code"}, // Guangzhou's district under Shenzhen
		{"440000", "440300", "4403051", "district_code"},
	}
	for _, r := range regions {
		err := validateRegion(r.p, r.c, r.d)
		if r.field == "" && err != nil {
			t.Errorf("%v: %v", r, err)
		}
		if r.field != "" {
			e := errs.As(err)
			if e == nil || !strings.Contains(fmt.Sprint(e.Details), r.field) {
				t.Errorf("%v: err %v, want one about %s", r, err, r.field)
			}
		}
	}
}

// fixedKey is a platform key for tests.
type fixedKey []byte

func (k fixedKey) MAC(_ context.Context, name string, data []byte) ([]byte, error) {
	m := hmac.New(sha256.New, append([]byte(name+"/"), k...))
	m.Write(data)
	return m.Sum(nil), nil
}

func TestCustomerToken(t *testing.T) {
	ctx := context.Background()
	key := fixedKey("0123456789abcdef0123456789abcdef")
	now := time.Now()
	c := tokenClaims{TenantID: 7, CustomerID: 42, Expires: now.Add(CustomerTokenTTL).Truncate(time.Second)}
	tok, err := signToken(ctx, key, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseToken(ctx, key, tok, 7, now)
	if err != nil || got.CustomerID != 42 || got.TenantID != 7 || !got.Expires.Equal(c.Expires) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	check := func(name, tok string, tenant int64, at time.Time, k macer, want *errs.Error) {
		t.Helper()
		if _, err := parseToken(ctx, k, tok, tenant, at); err != want {
			t.Errorf("%s: err %v, want %v", name, err, want)
		}
	}
	check("another shop", tok, 8, now, key, errBadToken)
	check("expired", tok, 7, c.Expires, key, errExpiredToken)
	check("another key", tok, 7, now, fixedKey("another key, another platform..."), errBadToken)
	check("empty", "", 7, now, key, errBadToken)
	check("no prefix", strings.TrimPrefix(tok, tokenPrefix), 7, now, key, errBadToken)
	check("truncated", tok[:len(tok)-2], 7, now, key, errBadToken)
	check("too long", tok+strings.Repeat("A", 200), 7, now, key, errBadToken)
	// Flip each character of the signed part: never accepted.
	for i := len(tokenPrefix); i < len(tok); i++ {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := parseToken(ctx, key, string(b), 7, now); err == nil {
			t.Fatalf("tampered at %d: accepted", i)
		}
	}
	// A token for another tenant, re-signed by someone without the key, fails.
	forged, _ := signToken(ctx, fixedKey("guessed"), tokenClaims{TenantID: 7, CustomerID: 1, Expires: now.Add(time.Hour)})
	check("forged", forged, 7, now, key, errBadToken)
}

func TestLoginErrors(t *testing.T) {
	we := func(code int) error { return &wechat.Error{Code: code, Msg: "x rid: 1-2-3"} }
	tests := []struct {
		err        error
		kind       errs.Kind
		code       string
		retryAfter time.Duration
	}{
		{we(40029), errs.Invalid, "invalid_code", 0},
		{we(40163), errs.Invalid, "code_used", 0},
		{we(45011), errs.RateLimited, "rate_limited", time.Minute},
		{we(40226), errs.Forbidden, "blocked_user", 0},
		{we(-1), errs.Unavailable, "wechat_unavailable", 5 * time.Second},
		{fmt.Errorf("x: %w", wechat.ErrUnavailable), errs.Unavailable, "wechat_unavailable", 5 * time.Second},
		{we(40125), errs.Unavailable, "shop_misconfigured", 0},
		{we(12345), errs.Unavailable, "wechat_error", 0},
	}
	for _, tc := range tests {
		err := loginError(tc.err)
		e := errs.As(err)
		if e == nil || e.Kind != tc.kind || e.CodeString() != tc.code {
			t.Errorf("%v → %v, want %s/%s", tc.err, err, tc.kind, tc.code)
		}
		var ra *retryAfterError
		if got := errors.As(err, &ra); got != (tc.retryAfter > 0) || (got && ra.after != tc.retryAfter) {
			t.Errorf("%v: retry after %v, want %v", tc.err, ra, tc.retryAfter)
		}
	}
}
