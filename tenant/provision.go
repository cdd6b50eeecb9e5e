package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
)

var sandboxHTTP = &http.Client{Timeout: 10 * time.Second}

// Provision sets up the defaults of the tenant in ctx: its sandbox Mini
// Program (registered with the sandbox, so the brand can try logins before it
// has a real AppID), its sandbox WeChat Pay merchant (test credentials, so
// it can try payments before it has a merchant account) and its provisioned
// time. It is the handler of TaskProvision; taskID makes it run once however
// often it is delivered.
func (s *Service) Provision(ctx context.Context, taskID string) error {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return errs.Wrap(db.ErrNoTenant, "provision")
	}
	// Deterministic per tenant, so a retried task asks for the same app.
	app, err := s.sandboxApp(ctx, "tenant:"+strconv.FormatInt(tid, 10))
	if err != nil {
		return err
	}
	mch, err := s.sandboxMerchantFor(ctx, "tenant:"+strconv.FormatInt(tid, 10))
	if err != nil {
		return err
	}
	_, err = outbox.Once(ctx, s.db, taskID, TaskProvision, func(tx *gorm.DB) error {
		if err := s.putCredential(ctx, tx, tid, ModeTest, KindMiniProgram,
			map[string]string{"appid": app.AppID}, map[string]string{"secret": app.Secret}, false); err != nil {
			return err
		}
		if err := s.putSandboxWeChatPay(ctx, tx, tid, mch); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE tenants SET provisioned_at = now(), updated_at = now() WHERE id = ? AND provisioned_at IS NULL`, tid).Error; err != nil {
			return err
		}
		return audit(scope.WithActor(ctx, System), tx, tid, "tenant.provisioned", "tenant", map[string]any{"sandbox_appid": app.AppID, "sandbox_mch_id": mch.MchID})
	})
	return err
}

type sandboxAppReply struct {
	AppID  string `json:"appid"`
	Secret string `json:"secret"`
}

// sandboxApp asks the sandbox for the Mini Program app of key.
func (s *Service) sandboxApp(ctx context.Context, key string) (*sandboxAppReply, error) {
	body, _ := json.Marshal(map[string]string{"key": key})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.sandboxURL+"/sandbox/v1/apps", bytes.NewReader(body))
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
		return nil, fmt.Errorf("sandbox answered %d to app registration: %.200s", resp.StatusCode, b)
	}
	var out sandboxAppReply
	if err := json.Unmarshal(b, &out); err != nil || out.AppID == "" || out.Secret == "" {
		return nil, fmt.Errorf("sandbox: unexpected app registration reply")
	}
	return &out, nil
}
