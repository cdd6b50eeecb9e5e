package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/wechat"
)

// Verification statuses stored in credentials.verify_status.
const (
	VerifyOK            = "ok"
	VerifyFailed        = "failed"
	VerifyFormatChecked = "format_checked"
)

// VerifyCredentials is the handler of TaskVerifyCredentials with live
// credentials checked against WeChat's production API
// (wechat.DefaultBaseURL); VerifyCredentialsAt takes another base URL.
func (s *Service) VerifyCredentials(ctx context.Context, taskID string) error {
	return s.verify(ctx, taskID, wechat.DefaultBaseURL)
}

// VerifyCredentialsAt returns the handler of TaskVerifyCredentials checking
// live credentials against liveAPI (MINISHOP_WECHAT_API_URL); test
// credentials are always checked against the sandbox.
func (s *Service) VerifyCredentialsAt(liveAPI string) func(ctx context.Context, taskID string) error {
	return func(ctx context.Context, taskID string) error { return s.verify(ctx, taskID, liveAPI) }
}

// verify checks the set named by the task's outbox row and records the
// result with the task's once-only marker, so a redelivered task neither
// calls WeChat again (when the first run committed) nor records twice. A
// result is recorded only if the set was not changed while it was checked:
// it would describe values that are gone.
func (s *Service) verify(ctx context.Context, taskID, liveAPI string) error {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return errs.Wrap(db.ErrNoTenant, "verify credentials")
	}
	oid, ok := outbox.OutboxID(taskID)
	if !ok {
		return fmt.Errorf("verify credentials: task id %q is not an outbox task", taskID)
	}
	var req verifyRequest
	var msg struct{ Payload []byte }
	if err := s.db.WithContext(ctx).Raw(`SELECT payload FROM outbox WHERE id = ? AND tenant_id = ?`, oid, tid).Scan(&msg).Error; err != nil {
		return err
	}
	if err := json.Unmarshal(msg.Payload, &req); err != nil || checkMode(req.Mode) != nil || kindSpecs[req.Kind] == nil {
		return fmt.Errorf("verify credentials: outbox row %d does not name a credential set", oid)
	}
	var done int64
	if err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM task_runs WHERE task_id = ?`, taskID).Scan(&done).Error; err != nil {
		return err
	}
	if done > 0 {
		return nil
	}

	var row *credRow
	var vals values
	var openErr error
	err := db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		if row, err = loadRow(ctx, tx, tid, req.Mode, req.Kind); err != nil || row == nil {
			return err
		}
		vals, openErr = s.openRow(ctx, tx, tid, row)
		return nil
	})
	if err != nil {
		return err
	}
	var status, message string
	switch {
	case row == nil: // deleted since: nothing to record
	case openErr != nil:
		s.log.ErrorContext(ctx, "verifying credentials: stored secrets do not open", "tenant_id", tid, "mode", req.Mode, "kind", req.Kind, "err", openErr)
		status, message = VerifyFailed, "the stored secrets could not be decrypted; save the credentials again or contact support"
	default:
		status, message = s.check(ctx, req, vals, liveAPI)
	}
	_, err = outbox.Once(ctx, s.db, taskID, TaskVerifyCredentials, func(tx *gorm.DB) error {
		if row == nil {
			return nil
		}
		res := tx.Exec(`UPDATE credentials SET verify_status = ?, verify_message = ?, verified_at = clock_timestamp()
			WHERE tenant_id = ? AND mode = ? AND kind = ? AND updated_at = ?`, status, message, tid, req.Mode, req.Kind, row.UpdatedAt)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return audit(scope.WithActor(ctx, System), tx, tid, "credentials.verified", "credentials:"+req.Mode+"/"+req.Kind,
			map[string]any{"mode": req.Mode, "kind": req.Kind, "status": status, "message": message})
	})
	return err
}

// check verifies a set and returns its status and a message for the
// console. Messages come from this code or from WeChat's errmsg, which the
// wechat client scrubs of the secret.
func (s *Service) check(ctx context.Context, req verifyRequest, v values, liveAPI string) (status, message string) {
	spec := kindSpecs[req.Kind]
	// The format rules may have tightened since the set was saved, and
	// certificates expire.
	if err := spec.validate(v); err != nil {
		msg := "the saved values no longer pass the format check"
		if e := errs.As(err); e != nil {
			msg += ": " + e.Message
		}
		return VerifyFailed, msg
	}
	if req.Kind != KindMiniProgram {
		return VerifyFormatChecked, "format checked; live check not available yet"
	}
	base, where := liveAPI, "WeChat"
	if req.Mode == ModeTest {
		base, where = s.sandboxURL, "the sandbox"
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err := wechat.New(base).StableToken(cctx, v.str("appid"), v.str("secret"), false)
	var we *wechat.Error
	switch {
	case err == nil:
		return VerifyOK, where + " issued an access token for AppID " + v.str("appid")
	case errors.As(err, &we):
		switch we.Code {
		case 40013:
			return VerifyFailed, where + " does not know AppID " + v.str("appid") + " (errcode 40013)"
		case 40125, 40001:
			return VerifyFailed, where + fmt.Sprintf(" refused the AppSecret for AppID %s (errcode %d); copy it again from the Mini Program console, or reset it there", v.str("appid"), we.Code)
		case 40164:
			return VerifyFailed, "this server's IP address is not in the Mini Program's IP whitelist (errcode 40164): " + we.Msg
		}
		return VerifyFailed, fmt.Sprintf("%s answered errcode %d: %s", where, we.Code, we.Msg)
	case errors.Is(err, wechat.ErrUnavailable):
		return VerifyFailed, where + " could not be reached; verify again later (" + err.Error() + ")"
	}
	s.log.ErrorContext(ctx, "verifying credentials", "mode", req.Mode, "kind", req.Kind, "err", err)
	return VerifyFailed, "the check could not be made (" + err.Error() + ")"
}
