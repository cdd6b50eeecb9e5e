package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"gorm.io/gorm"
)

// sandboxMerchant is the sandbox's answer to POST /sandbox/v1/pay/merchants:
// a WeChat Pay account derived from the sandbox seed, with the field names
// of the wechatpay credential kind.
type sandboxMerchant struct {
	Mode             string   `json:"mode"`
	MchID            string   `json:"mch_id"`
	CertSerial       string   `json:"cert_serial"`
	APIv3Key         string   `json:"apiv3_key"`
	PrivateKeyPEM    string   `json:"private_key_pem"`
	MerchantCertPEM  string   `json:"merchant_cert_pem"`
	PlatformSerials  []string `json:"platform_serials"`
	PlatformCertsPEM string   `json:"platform_certs_pem"`
	PublicKeyID      string   `json:"public_key_id"`
	PublicKeyPEM     string   `json:"public_key_pem"`
}

// sandboxMerchantFor asks the sandbox for the direct-merchant WeChat Pay
// account of key. The sandbox derives it from its seed, so a retried task
// gets the same account.
func (s *Service) sandboxMerchantFor(ctx context.Context, key string) (*sandboxMerchant, error) {
	body, _ := json.Marshal(map[string]string{"key": key, "mode": PayDirect})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.sandboxURL+"/sandbox/v1/pay/merchants", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := sandboxHTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sandbox unreachable at %s: %w", s.sandboxURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sandbox answered %d to merchant registration: %.200s", resp.StatusCode, b)
	}
	var out sandboxMerchant
	if err := json.Unmarshal(b, &out); err != nil || out.MchID == "" {
		return nil, fmt.Errorf("sandbox: unexpected merchant registration reply")
	}
	return &out, nil
}

// putSandboxWeChatPay stores the sandbox merchant as the tenant's test
// WeChat Pay credentials, unless a test set exists already. The set passes
// the same validation as one a brand saves. tx must be scoped to tenantID.
func (s *Service) putSandboxWeChatPay(ctx context.Context, tx *gorm.DB, tenantID int64, m *sandboxMerchant) error {
	v := values{
		"mode": m.Mode, "mch_id": m.MchID, "cert_serial": m.CertSerial, "apiv3_key": m.APIv3Key,
		"private_key_pem": m.PrivateKeyPEM, "merchant_cert_pem": m.MerchantCertPEM,
		"platform_serials": m.PlatformSerials, "platform_certs_pem": m.PlatformCertsPEM,
		"public_key_id": m.PublicKeyID, "public_key_pem": m.PublicKeyPEM,
	}
	if err := validateWeChatPay(v); err != nil {
		return fmt.Errorf("sandbox WeChat Pay merchant does not pass validation: %w", err)
	}
	spec, err := specOf(KindWeChatPay)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	public, secrets, hints := map[string]any{}, map[string]string{}, map[string]Hint{}
	for k, x := range v {
		if spec.isSecret(k) {
			secrets[k] = x.(string)
			hints[k] = hintOf(secrets[k], now)
		} else {
			public[k] = x
		}
	}
	return s.storeCredential(ctx, tx, tenantID, ModeTest, KindWeChatPay, public, secrets, hints, false)
}
