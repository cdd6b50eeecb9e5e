package wechatpay

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Hosts of WeChat Pay API v3. The backup host api2.mch.weixin.qq.com serves
// the same API as DefaultBaseURL.
const (
	DefaultBaseURL = "https://api.mch.weixin.qq.com"
	GlobalBaseURL  = "https://apihk.mch.weixin.qq.com"
)

// Mode is the kind of WeChat Pay account the client acts for.
type Mode string

const (
	// ModeDirect is an ordinary merchant (直连商户): MchID and AppID.
	ModeDirect Mode = "direct"
	// ModePartner is a service provider acting for a sub-merchant (服务商):
	// SpMchID, SubMchID, SpAppID and optionally SubAppID.
	ModePartner Mode = "partner"
	// ModeGlobal is WeChat Pay Global (境外商户), either in its common mode
	// (MchID and AppID) or, when SubMchID is set, in its institutional mode
	// (SpMchID, SubMchID, SpAppID and optionally SubAppID).
	ModeGlobal Mode = "global"
)

// Config describes one merchant account. Secrets (PrivateKey, APIv3Key) are
// used for signing and decryption only and never appear in errors.
type Config struct {
	// BaseURL is the scheme and host, optionally with a path prefix:
	// DefaultBaseURL, GlobalBaseURL or a sandbox's URL. Empty means
	// DefaultBaseURL, or GlobalBaseURL in ModeGlobal. A path prefix is part
	// of what is signed, as the server receives it.
	BaseURL string
	Mode    Mode

	// MchID and AppID identify a direct merchant or a Global merchant in
	// common mode.
	MchID string
	AppID string
	// SpMchID, SubMchID, SpAppID and SubAppID identify a service provider
	// and its sub-merchant (partner mode, Global institutional mode).
	// SubAppID is the sub-merchant's own Mini Program, if it has one.
	SpMchID  string
	SubMchID string
	SpAppID  string
	SubAppID string

	// SerialNo is the serial number of the merchant API certificate
	// (apiclient_cert.pem), in hexadecimal, that PrivateKey belongs to.
	SerialNo string
	// PrivateKey is the merchant API private key (apiclient_key.pem), RSA of
	// at least 2048 bits.
	PrivateKey *rsa.PrivateKey
	// APIv3Key is the 32-byte key set in the merchant platform; it decrypts
	// notifications and downloaded certificates.
	APIv3Key []byte
	// APIv2Key is the merchant's API key (v2), which signs the v2 customs
	// declaration API; empty: the APIv3 key (merchants often set both
	// alike).
	APIv2Key []byte

	// PlatformCerts are the WeChat Pay platform certificates by serial
	// number (40 hexadecimal characters, case-insensitive). DownloadCertificates
	// adds to them at run time.
	PlatformCerts map[string]*x509.Certificate
	// PublicKeyID ("PUB_KEY_ID_…") and PublicKey are the WeChat Pay public
	// key. Either the public key or platform certificates (or both, during a
	// migration) must be configured before any call other than
	// DownloadCertificates.
	PublicKeyID string
	PublicKey   *rsa.PublicKey

	// HTTP sends the requests; nil means a shared client with a 15 s
	// timeout that does not follow redirects.
	HTTP *http.Client
	// Now is the clock used for request timestamps and the five-minute
	// window of answers and notifications; nil means time.Now.
	Now func() time.Time
}

// Client calls WeChat Pay API v3 for one merchant account. Create it with
// New; it is safe for concurrent use.
type Client struct {
	base       *url.URL
	mode       Mode
	mchID      string // the merchant that signs: MchID or SpMchID
	appID      string // AppID or SpAppID
	subMchID   string
	subAppID   string
	serialNo   string
	key        *rsa.PrivateKey
	apiV3Key   []byte
	apiV2Key   []byte
	verifier   *verifier
	http       *http.Client
	now        func() time.Time
	userAgent  string
	maxReply   int64
	maxBillLen int64
}

// defaultHTTP is used when Config.HTTP is nil. Redirects are not followed:
// WeChat Pay never sends them, and a redirected request would carry our
// Authorization to whatever host the redirect names.
var defaultHTTP = &http.Client{
	Timeout: 15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

var (
	mchIDPattern    = regexp.MustCompile(`^[0-9]{1,32}$`)
	pubKeyIDPattern = regexp.MustCompile(`^PUB_KEY_ID_[0-9A-Za-z_]{1,64}$`)
)

// ErrConfig matches every error New returns for a configuration it cannot
// use, and every call refused locally because the configuration lacks
// something (for example a verifier).
var ErrConfig = errors.New("wechatpay: bad configuration")

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
}

// New checks cfg and returns a Client. It fails (matching ErrConfig) on an
// unknown mode, identifiers missing or present for the wrong mode, a private
// key shorter than 2048 bits, an APIv3 key that is not 32 bytes, or a
// certificate or public key that is not RSA. A client without any verifier
// is allowed so that DownloadCertificates can bootstrap it.
func New(cfg Config) (*Client, error) {
	c := &Client{
		mode:       cfg.Mode,
		serialNo:   strings.ToUpper(cfg.SerialNo),
		key:        cfg.PrivateKey,
		apiV3Key:   append([]byte(nil), cfg.APIv3Key...),
		apiV2Key:   append([]byte(nil), cfg.APIv2Key...),
		http:       cfg.HTTP,
		now:        cfg.Now,
		userAgent:  "Minishop-WechatPay/1 (Go)",
		maxReply:   1 << 20,
		maxBillLen: 256 << 20,
	}
	if c.http == nil {
		c.http = defaultHTTP
	}
	if c.now == nil {
		c.now = time.Now
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
		if cfg.Mode == ModeGlobal {
			base = GlobalBaseURL
		}
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, configError("BaseURL %q is not an http(s) URL without query", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	c.base = u

	if err := c.setIDs(cfg); err != nil {
		return nil, err
	}
	if c.serialNo == "" {
		return nil, configError("SerialNo (the merchant API certificate serial) is required")
	}
	if c.key == nil {
		return nil, configError("PrivateKey (the merchant API private key) is required")
	}
	if n := c.key.N.BitLen(); n < 2048 {
		return nil, configError("PrivateKey must be RSA of at least 2048 bits, not %d", n)
	}
	if len(c.apiV3Key) != 32 {
		return nil, configError("APIv3Key must be 32 bytes, not %d", len(c.apiV3Key))
	}
	v, err := newVerifier(cfg.PlatformCerts, cfg.PublicKeyID, cfg.PublicKey)
	if err != nil {
		return nil, err
	}
	c.verifier = v
	return c, nil
}

// setIDs checks the merchant and app identifiers against the mode.
func (c *Client) setIDs(cfg Config) error {
	direct := func() error {
		if cfg.MchID == "" || cfg.AppID == "" {
			return configError("mode %s needs MchID and AppID", cfg.Mode)
		}
		if cfg.SpMchID != "" || cfg.SpAppID != "" || cfg.SubAppID != "" {
			return configError("mode %s without SubMchID takes MchID and AppID, not SpMchID, SpAppID or SubAppID", cfg.Mode)
		}
		c.mchID, c.appID = cfg.MchID, cfg.AppID
		return nil
	}
	partner := func() error {
		if cfg.SpMchID == "" || cfg.SubMchID == "" || cfg.SpAppID == "" {
			return configError("mode %s needs SpMchID, SubMchID and SpAppID", cfg.Mode)
		}
		if cfg.MchID != "" || cfg.AppID != "" {
			return configError("mode %s with a sub-merchant takes SpMchID and SpAppID, not MchID or AppID", cfg.Mode)
		}
		c.mchID, c.appID, c.subMchID, c.subAppID = cfg.SpMchID, cfg.SpAppID, cfg.SubMchID, cfg.SubAppID
		return nil
	}
	var err error
	switch cfg.Mode {
	case ModeDirect:
		if cfg.SubMchID != "" {
			return configError("mode direct has no SubMchID; use mode partner")
		}
		err = direct()
	case ModePartner:
		err = partner()
	case ModeGlobal:
		if cfg.SubMchID != "" {
			err = partner()
		} else {
			err = direct()
		}
	default:
		return configError("Mode must be %q, %q or %q, not %q", ModeDirect, ModePartner, ModeGlobal, cfg.Mode)
	}
	if err != nil {
		return err
	}
	for _, id := range []string{c.mchID, c.subMchID} {
		if id != "" && !mchIDPattern.MatchString(id) {
			return configError("merchant id %q must be digits", id)
		}
	}
	return nil
}

// Mode returns the account mode the client was configured with.
func (c *Client) Mode() Mode { return c.mode }

// institutional reports whether requests name a sub-merchant (partner mode,
// or Global institutional mode).
func (c *Client) institutional() bool { return c.subMchID != "" }
