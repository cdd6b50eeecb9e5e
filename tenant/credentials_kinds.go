package tenant

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/minishop/minishop/internal/errs"
)

// The input of PUT …/credentials/:mode/:kind, one struct per kind. A field
// left out (nil) keeps its stored value, so the console can edit public
// fields without uploading keys again; an empty string (or empty list)
// clears it. Fields tagged cred:"secret" are sealed and never shown again.

// MiniProgramInput is a Mini Program's AppID and AppSecret.
type MiniProgramInput struct {
	AppID  *string `json:"appid"`
	Secret *string `json:"secret" cred:"secret"`
}

// WeChatPayInput is a WeChat Pay merchant account (API v3).
type WeChatPayInput struct {
	Mode             *string   `json:"mode"` // direct | partner | global
	MchID            *string   `json:"mch_id"`
	SubMchID         *string   `json:"sub_mch_id"`
	SpAppID          *string   `json:"sp_appid"`
	SubAppID         *string   `json:"sub_appid"`
	CertSerial       *string   `json:"cert_serial"`
	PlatformSerials  *[]string `json:"platform_serials"`
	PublicKeyID      *string   `json:"public_key_id"`
	APIv3Key         *string   `json:"apiv3_key" cred:"secret"`
	APIv2Key         *string   `json:"apiv2_key" cred:"secret"` // signs the v2 customs declaration API (direct and partner merchants)
	PrivateKeyPEM    *string   `json:"private_key_pem" cred:"secret"`
	MerchantCertPEM  *string   `json:"merchant_cert_pem"`
	PlatformCertsPEM *string   `json:"platform_certs_pem"`
	PublicKeyPEM     *string   `json:"public_key_pem"`
}

// CustomsInput is what customs declarations need: the registered codes of
// the e-commerce enterprise (ebc) and platform (ebp), the customs office and
// the merchant's customs registration number.
type CustomsInput struct {
	EBCCode       *string `json:"ebc_code"`
	EBCName       *string `json:"ebc_name"`
	EBPCode       *string `json:"ebp_code"`
	EBPName       *string `json:"ebp_name"`
	CustomsOffice *string `json:"customs_office"`
	CustomsMchNo  *string `json:"customs_mch_no"`
	TradeMode     *string `json:"trade_mode"` // 1210 (bonded) or 9610 (direct mail)
	AgentAPIKey   *string `json:"agent_api_key" cred:"secret"`
}

// LogisticsInput is a Kuaidi100 account.
type LogisticsInput struct {
	Kuaidi100Customer *string `json:"kuaidi100_customer"`
	Kuaidi100Key      *string `json:"kuaidi100_key" cred:"secret"`
	Kuaidi100Salt     *string `json:"kuaidi100_salt" cred:"secret"`
}

// Credential kinds besides KindMiniProgram.
const (
	KindWeChatPay = "wechatpay"
	KindCustoms   = "customs"
	KindLogistics = "logistics"
)

// CredentialKinds lists the kinds in the order the console shows them.
var CredentialKinds = []string{KindMiniProgram, KindWeChatPay, KindCustoms, KindLogistics}

// CredentialModes lists the modes: test (sandbox) and live.
var CredentialModes = []string{ModeTest, ModeLive}

// credField is one field of a kind.
type credField struct {
	name   string
	secret bool
}

type kindSpec struct {
	input    func() any
	validate func(values) error
	fields   []credField
}

var kindSpecs = map[string]*kindSpec{
	KindMiniProgram: {input: func() any { return &MiniProgramInput{} }, validate: validateMiniProgram},
	KindWeChatPay:   {input: func() any { return &WeChatPayInput{} }, validate: validateWeChatPay},
	KindCustoms:     {input: func() any { return &CustomsInput{} }, validate: validateCustoms},
	KindLogistics:   {input: func() any { return &LogisticsInput{} }, validate: validateLogistics},
}

var specFieldsOnce sync.Once

func specOf(kind string) (*kindSpec, error) {
	specFieldsOnce.Do(func() {
		for _, s := range kindSpecs {
			t := reflect.TypeOf(s.input()).Elem()
			for i := range t.NumField() {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				s.fields = append(s.fields, credField{name: name, secret: f.Tag.Get("cred") == "secret"})
			}
		}
	})
	s, ok := kindSpecs[kind]
	if !ok {
		return nil, errs.E(errs.NotFound, "unknown_credential_kind", "no credential kind "+strconvQuote(kind)+"; kinds are "+strings.Join(CredentialKinds, ", "))
	}
	return s, nil
}

func checkMode(mode string) error {
	if !slices.Contains(CredentialModes, mode) {
		return errs.E(errs.NotFound, "unknown_credential_mode", "no credential mode "+strconvQuote(mode)+"; modes are test and live")
	}
	return nil
}

// strconvQuote quotes a path parameter for a message, cut short.
func strconvQuote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

// NewCredentialInput returns a pointer to the input struct of kind, for
// strict JSON decoding. Unknown kind → not_found.
func NewCredentialInput(kind string) (any, error) {
	s, err := specOf(kind)
	if err != nil {
		return nil, err
	}
	return s.input(), nil
}

func (s *kindSpec) isSecret(name string) bool {
	for _, f := range s.fields {
		if f.name == name {
			return f.secret
		}
	}
	return false
}

// values are a credential set's fields, public and secret together while it
// is validated: a string, or []string for lists.
type values map[string]any

// provided returns the fields set in an input struct, normalised: single-line
// values trimmed, PEM blocks trimmed of surrounding space, lists trimmed and
// emptied of blank entries.
func provided(in any) values {
	out := values{}
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return out
	}
	v = v.Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		switch x := f.Elem().Interface().(type) {
		case string:
			out[name] = strings.TrimSpace(x)
		case []string:
			l := []string{}
			for _, e := range x {
				if e = strings.TrimSpace(e); e != "" {
					l = append(l, e)
				}
			}
			out[name] = l
		}
	}
	return out
}

// empty reports whether a field value clears the field.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []string:
		return len(x) == 0
	}
	return false
}

func (v values) str(name string) string {
	s, _ := v[name].(string)
	return s
}

func (v values) list(name string) []string {
	switch x := v[name].(type) {
	case []string:
		return x
	case []any: // as decoded from the stored JSON
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (v values) has(name string) bool { return !empty(v[name]) }

// invalidField is the error of a field that does not pass: the message names
// the field and says what is wrong, never what the value was.
func invalidField(field, msg string) error {
	return errs.E(errs.Invalid, "invalid_credential_field", field+": "+msg).WithDetails(map[string]string{"field": field})
}

func required(v values, names ...string) error {
	for _, n := range names {
		if !v.has(n) {
			return invalidField(n, "is required")
		}
	}
	return nil
}

func absent(v values, why string, names ...string) error {
	for _, n := range names {
		if v.has(n) {
			return invalidField(n, why)
		}
	}
	return nil
}

var (
	appIDPattern     = regexp.MustCompile(`^wx[0-9a-f]{16}$`)
	appSecretPattern = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	mchIDPattern     = regexp.MustCompile(`^[0-9]{6,20}$`)
	serialPattern    = regexp.MustCompile(`^[0-9A-F]{40}$`)
	pubKeyIDPattern  = regexp.MustCompile(`^PUB_KEY_ID_[0-9]{1,64}$`)
	customsCode      = regexp.MustCompile(`^(?:[0-9A-Z]{10}|[0-9A-Z]{18})$`)
	customsMchNo     = regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`)
	printable        = regexp.MustCompile(`^[\x21-\x7e]+$`)
)

const appIDRule = `must be "wx" followed by 16 lowercase hexadecimal characters (the AppID in the Mini Program console under Development settings)`

func validateMiniProgram(v values) error {
	if err := required(v, "appid", "secret"); err != nil {
		return err
	}
	if !appIDPattern.MatchString(v.str("appid")) {
		return invalidField("appid", appIDRule)
	}
	if !appSecretPattern.MatchString(v.str("secret")) {
		return invalidField("secret", "must be the AppSecret: 32 hexadecimal characters")
	}
	return nil
}

// CustomsOffices are the customs offices WeChat Pay declares to.
var CustomsOffices = []string{"HANGZHOU_ZS", "SHANGHAI_ZS", "GUANGZHOU_ZS", "NINGBO", "ZHENGZHOU_BS", "ZHENGZHOU_ZH_ZS",
	"CHONGQING", "SHENZHEN", "TIANJIN", "ZONGSHU"}

func validateCustoms(v values) error {
	if err := required(v, "ebc_code", "ebc_name", "ebp_code", "ebp_name", "customs_office", "customs_mch_no", "trade_mode"); err != nil {
		return err
	}
	for _, f := range []string{"ebc_code", "ebp_code"} {
		if !customsCode.MatchString(v.str(f)) {
			return invalidField(f, "must be the customs registration code: 10 or 18 characters, digits and upper-case letters")
		}
	}
	for _, f := range []string{"ebc_name", "ebp_name"} {
		if n := utf8.RuneCountInString(v.str(f)); n > 100 {
			return invalidField(f, "must be the registered name, at most 100 characters")
		}
	}
	if !slices.Contains(CustomsOffices, v.str("customs_office")) {
		return invalidField("customs_office", "must be one of "+strings.Join(CustomsOffices, ", "))
	}
	if !customsMchNo.MatchString(v.str("customs_mch_no")) {
		return invalidField("customs_mch_no", "must be the merchant customs registration number: 1 to 32 letters and digits")
	}
	if tm := v.str("trade_mode"); tm != "1210" && tm != "9610" {
		return invalidField("trade_mode", "must be 1210 (bonded stock) or 9610 (direct mail)")
	}
	if v.has("agent_api_key") {
		if k := v.str("agent_api_key"); len(k) < 8 || len(k) > 256 || !printable.MatchString(k) {
			return invalidField("agent_api_key", "must be 8 to 256 printable characters without spaces")
		}
	}
	return nil
}

func validateLogistics(v values) error {
	if err := required(v, "kuaidi100_customer", "kuaidi100_key", "kuaidi100_salt"); err != nil {
		return err
	}
	if c := v.str("kuaidi100_customer"); len(c) > 64 || !printable.MatchString(c) {
		return invalidField("kuaidi100_customer", "must be the customer id from the Kuaidi100 console: up to 64 characters without spaces")
	}
	if k := v.str("kuaidi100_key"); len(k) < 8 || len(k) > 64 || !printable.MatchString(k) {
		return invalidField("kuaidi100_key", "must be the authorisation key from the Kuaidi100 console: 8 to 64 characters without spaces")
	}
	if s := v.str("kuaidi100_salt"); len(s) < 8 || len(s) > 32 || !printable.MatchString(s) {
		return invalidField("kuaidi100_salt", "must be 8 to 32 characters without spaces (Kuaidi100 signs its pushes with it)")
	}
	return nil
}
