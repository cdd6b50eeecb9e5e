package sandbox

// The WeChat Pay API v3 part of the sandbox (api.mch.weixin.qq.com and
// apihk.mch.weixin.qq.com share it). Merchants are not stored: a merchant
// id carries its kind in its first two digits and a MAC of the seed in its
// last two, and every key of a merchant (its API private key and
// certificate, its APIv3 key) is derived from the seed and the merchant id,
// so merchants survive restarts like apps do. Orders, refunds and
// notifications live in memory.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Merchant kinds, as the first two digits of a sandbox merchant id.
const (
	mchDirect          = "19" // ordinary merchant (直连商户)
	mchServiceProvider = "16" // service provider (服务商)
	mchSub             = "18" // sub-merchant of a service provider (特约商户)
	mchGlobal          = "13" // WeChat Pay Global merchant, common mode
	mchGlobalSP        = "14" // WeChat Pay Global institution (机构)
)

// Pay modes of PayMerchantFor, the same words as tenant credentials use.
const (
	PayModeDirect  = "direct"
	PayModePartner = "partner"
	PayModeGlobal  = "global"
	// PayModeGlobalInstitution is WeChat Pay Global with a sub-merchant.
	PayModeGlobalInstitution = "global_institution"
)

// PayMerchant is a sandbox WeChat Pay account, with the JSON names of the
// tenant credentials kind "wechatpay" so that it can be stored as is.
// MchID is the merchant that signs requests (the service provider in
// partner and institutional modes).
type PayMerchant struct {
	Mode             string   `json:"mode"` // direct, partner or global
	MchID            string   `json:"mch_id"`
	SubMchID         string   `json:"sub_mch_id,omitempty"`
	SpAppID          string   `json:"sp_appid,omitempty"`
	CertSerial       string   `json:"cert_serial"`
	APIv3Key         string   `json:"apiv3_key"`
	PrivateKeyPEM    string   `json:"private_key_pem"`
	MerchantCertPEM  string   `json:"merchant_cert_pem"`
	PlatformSerials  []string `json:"platform_serials"`
	PlatformCertsPEM string   `json:"platform_certs_pem"`
	PublicKeyID      string   `json:"public_key_id"`
	PublicKeyPEM     string   `json:"public_key_pem"`
}

// String leaves the secrets out.
func (m PayMerchant) String() string {
	return fmt.Sprintf("{Mode:%s MchID:%s SubMchID:%s CertSerial:%s}", m.Mode, m.MchID, m.SubMchID, m.CertSerial)
}

// mchKeys are the derived keys of a signing merchant.
type mchKeys struct {
	key      *rsa.PrivateKey
	serial   string
	certPEM  string
	apiV3Key string
	pubKeyID string // the WeChat Pay public key id shown to this merchant
}

// platformKeys sign the sandbox's answers: a platform certificate and the
// WeChat Pay public key (two different keys, as in WeChat Pay).
type platformKeys struct {
	certKey *rsa.PrivateKey
	serial  string
	certPEM string
	notAft  time.Time
	notBef  time.Time
	pubKey  *rsa.PrivateKey
	pubPEM  string
}

// payState is the in-memory state of the WeChat Pay sandbox.
type payState struct {
	scale float64
	http  *http.Client

	platOnce sync.Once
	plat     *platformKeys

	forgerOnce sync.Once
	forger     *rsa.PrivateKey // signs forged notifications (notify-replay)

	mu         sync.Mutex
	keys       map[string]*mchKeys
	orders     map[string]*payOrder // orderKey -> order
	prepays    map[string]*payOrder // prepay_id -> order
	txns       map[string]*payOrder // transaction_id -> order
	refunds    map[string]*payRefund
	settings   map[string]*notifyOptions // signing mchid -> settings
	faults     map[string][]payFault     // mchid+" "+api -> queued errors
	deliveries map[string][]*delivery    // signing mchid -> notifications sent or pending
	held       map[string][]*delivery    // signing mchid -> held notifications
	timers     map[*time.Timer]bool
	stopped    bool
}

func newPayState(scale float64) *payState {
	if scale <= 0 || scale > 1 {
		scale = 1
	}
	return &payState{
		scale:      scale,
		http:       &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		keys:       map[string]*mchKeys{},
		orders:     map[string]*payOrder{},
		prepays:    map[string]*payOrder{},
		txns:       map[string]*payOrder{},
		refunds:    map[string]*payRefund{},
		settings:   map[string]*notifyOptions{},
		faults:     map[string][]payFault{},
		deliveries: map[string][]*delivery{},
		held:       map[string][]*delivery{},
		timers:     map[*time.Timer]bool{},
	}
}

// mchNumber derives a merchant id of kind from key: the kind, six digits
// and two check digits. bind ties a sub-merchant to its service provider.
func mchNumber(seed []byte, kind, key, bind string) string {
	body := kind + fmt.Sprintf("%06d", binary.BigEndian.Uint64(macBytes(seed, "mch:"+kind+":"+key))%1_000_000)
	return body + mchCheck(seed, body, bind)
}

func mchCheck(seed []byte, body, bind string) string {
	return fmt.Sprintf("%02d", binary.BigEndian.Uint64(macBytes(seed, "mchcheck:"+body+":"+bind))%100)
}

// validMch reports whether id is a sandbox merchant of kind (bound to bind
// for sub-merchants).
func (s *Server) validMch(id, kind, bind string) bool {
	if len(id) != 10 || id[:2] != kind || !inAlphabet(id, "0123456789") {
		return false
	}
	return id[8:] == mchCheck(s.seed, id[:8], bind)
}

// signingKind returns the kind of a signing merchant id, or "".
func (s *Server) signingKind(id string) string {
	for _, k := range []string{mchDirect, mchServiceProvider, mchGlobal, mchGlobalSP} {
		if s.validMch(id, k, "") {
			return k
		}
	}
	return ""
}

// PayMerchant derives the sandbox WeChat Pay account of key (for example
// "tenant:42") in mode (PayModeDirect, PayModePartner, PayModeGlobal or
// PayModeGlobalInstitution). The same seed, key and mode always give the
// same account. The first call for a merchant derives RSA keys, which takes
// a fraction of a second.
func (s *Server) PayMerchant(key, mode string) (*PayMerchant, error) {
	m := &PayMerchant{}
	var spKind string
	switch mode {
	case PayModeDirect:
		m.Mode, m.MchID = PayModeDirect, mchNumber(s.seed, mchDirect, key, "")
	case PayModeGlobal:
		m.Mode, m.MchID = PayModeGlobal, mchNumber(s.seed, mchGlobal, key, "")
	case PayModePartner, PayModeGlobalInstitution:
		spKind, m.Mode = mchServiceProvider, PayModePartner
		if mode == PayModeGlobalInstitution {
			spKind, m.Mode = mchGlobalSP, PayModeGlobal
		}
		m.MchID = mchNumber(s.seed, spKind, key, "")
		m.SubMchID = mchNumber(s.seed, mchSub, key, m.MchID)
		m.SpAppID, _ = AppFor(s.seed, "service provider:"+m.MchID)
	default:
		return nil, fmt.Errorf("sandbox: pay mode must be direct, partner, global or global_institution, not %q", mode)
	}
	k := s.pay.keysOf(s.seed, m.MchID)
	p := s.pay.platform(s.seed)
	der, err := x509.MarshalPKCS8PrivateKey(k.key)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&p.pubKey.PublicKey)
	if err != nil {
		return nil, err
	}
	m.CertSerial, m.APIv3Key, m.MerchantCertPEM = k.serial, k.apiV3Key, k.certPEM
	m.PrivateKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	m.PlatformSerials, m.PlatformCertsPEM = []string{p.serial}, p.certPEM
	m.PublicKeyID = k.pubKeyID
	m.PublicKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	return m, nil
}

// keysOf derives (once) the keys of a signing merchant.
func (p *payState) keysOf(seed []byte, mchID string) *mchKeys {
	p.mu.Lock()
	k := p.keys[mchID]
	p.mu.Unlock()
	if k != nil {
		return k
	}
	key := deriveRSA(seed, "mchkey:"+mchID)
	serial := deriveSerial(seed, "mchserial:"+mchID)
	k = &mchKeys{
		key:      key,
		serial:   strings.ToUpper(hex.EncodeToString(serial.Bytes())),
		certPEM:  selfSigned(key, serial, mchID+" sandbox merchant API certificate"),
		apiV3Key: macAlnum(seed, "apiv3:"+mchID, 32),
		pubKeyID: "PUB_KEY_ID_01" + mchID + macDigits(seed, "pubkeyid:"+mchID, 22),
	}
	p.mu.Lock()
	if old := p.keys[mchID]; old != nil {
		k = old
	} else if len(p.keys) < 10_000 {
		p.keys[mchID] = k
	}
	p.mu.Unlock()
	return k
}

// platform derives (once) the sandbox's own signing keys.
func (p *payState) platform(seed []byte) *platformKeys {
	p.platOnce.Do(func() {
		certKey := deriveRSA(seed, "platform-cert")
		serial := deriveSerial(seed, "platform-serial")
		p.plat = &platformKeys{
			certKey: certKey,
			serial:  strings.ToUpper(hex.EncodeToString(serial.Bytes())),
			certPEM: selfSigned(certKey, serial, "Tenpay.com sandbox platform certificate"),
			notBef:  certNotBefore,
			notAft:  certNotAfter,
			pubKey:  deriveRSA(seed, "platform-pubkey"),
		}
	})
	return p.plat
}

var (
	certNotBefore = time.Date(2024, 1, 1, 0, 0, 0, 0, cst)
	certNotAfter  = time.Date(2049, 1, 1, 0, 0, 0, 0, cst)
)

// selfSigned makes a long-lived certificate for key. RSA PKCS#1 v1.5
// signatures are deterministic, so the same key and serial give the same
// certificate.
func selfSigned(key *rsa.PrivateKey, serial *big.Int, cn string) string {
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Minishop sandbox"}, Country: []string{"CN"}},
		NotBefore:    certNotBefore,
		NotAfter:     certNotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic("sandbox: certificate: " + err.Error())
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// deriveSerial is a 20-byte certificate serial (40 hex characters, the
// first never zero, the number positive).
func deriveSerial(seed []byte, label string) *big.Int {
	b := macBytes(seed, label)[:20]
	b[0] = b[0]&0x6f | 0x10
	return new(big.Int).SetBytes(b)
}

// deriveRSA generates a 2048-bit RSA key deterministically from seed and
// label: primes are searched upwards from HMAC-derived starting points.
// Baillie-PSW (ProbablyPrime(0)) has no known pseudoprime and keeps this
// fast. crypto/rsa.GenerateKey cannot do this (it ignores its random source), and
// keys that survive restarts are what lets sandbox merchants be derived
// rather than stored.
func deriveRSA(seed []byte, label string) *rsa.PrivateKey {
	e := big.NewInt(65537)
	one := big.NewInt(1)
	prime := func(which string) *big.Int {
		var buf []byte
		for i := 0; len(buf) < 128; i++ {
			buf = append(buf, macBytes(seed, fmt.Sprintf("rsa:%s:%s:%d", label, which, i))...)
		}
		buf = buf[:128]
		buf[0] |= 0xc0 // the product then has exactly 2048 bits
		buf[127] |= 1
		p := new(big.Int).SetBytes(buf)
		// Sieve: skip candidates with a small factor before the costly test.
		rem := make([]uint64, len(smallPrimes))
		m := new(big.Int)
		for i, sp := range smallPrimes {
			rem[i] = m.Mod(p, new(big.Int).SetUint64(sp)).Uint64()
		}
		pm1 := new(big.Int)
		for delta := uint64(0); ; delta += 2 {
			ok := true
			for i, sp := range smallPrimes {
				if (rem[i]+delta)%sp == 0 {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			c := new(big.Int).Add(p, new(big.Int).SetUint64(delta))
			if c.ProbablyPrime(0) && new(big.Int).GCD(nil, nil, pm1.Sub(c, one), e).Cmp(one) == 0 {
				return c
			}
		}
	}
	p, q := prime("p"), prime("q")
	if p.Cmp(q) == 0 {
		panic("sandbox: derived equal primes")
	}
	n := new(big.Int).Mul(p, q)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	d := new(big.Int).ModInverse(e, phi)
	key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
	key.Precompute()
	if err := key.Validate(); err != nil {
		panic("sandbox: derived RSA key: " + err.Error())
	}
	return key
}

// smallPrimes are the odd primes below 2¹⁴, for the sieve of deriveRSA.
var smallPrimes = func() []uint64 {
	const n = 1 << 14
	composite := make([]bool, n)
	var out []uint64
	for i := 3; i < n; i += 2 {
		if composite[i] {
			continue
		}
		out = append(out, uint64(i))
		for j := i * i; j < n; j += 2 * i {
			composite[j] = true
		}
	}
	return out
}()

// macAlnum derives n characters of [0-9A-Za-z] from seed and label.
func macAlnum(seed []byte, label string, n int) string {
	out := make([]byte, 0, n)
	for i := 0; len(out) < n; i++ {
		for _, b := range macBytes(seed, fmt.Sprintf("%s:%d", label, i)) {
			if b < 248 && len(out) < n {
				out = append(out, alnum[int(b)%62])
			}
		}
	}
	return string(out)
}

// macDigits derives n decimal digits from seed and label.
func macDigits(seed []byte, label string, n int) string {
	out := make([]byte, 0, n)
	for i := 0; len(out) < n; i++ {
		for _, b := range macBytes(seed, fmt.Sprintf("%s:%d", label, i)) {
			if b < 250 && len(out) < n {
				out = append(out, '0'+b%10)
			}
		}
	}
	return string(out)
}

// controlPayMerchants serves POST /sandbox/v1/pay/merchants:
// {"key","mode"} -> the PayMerchant with its keys.
func (s *Server) controlPayMerchants(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Key  string `json:"key"`
		Mode string `json:"mode"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if req.Key == "" || len(req.Key) > 256 {
		writeControlError(w, http.StatusBadRequest, "invalid", `"key" is required and must be at most 256 bytes`)
		return
	}
	if req.Mode == "" {
		req.Mode = PayModeDirect
	}
	m, err := s.PayMerchant(req.Key, req.Mode)
	if err != nil {
		writeControlError(w, http.StatusBadRequest, "invalid", `"mode" must be direct, partner, global or global_institution`)
		return
	}
	writeJSON(w, ctJSON, http.StatusOK, m)
}
