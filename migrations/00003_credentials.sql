-- Credentials vault: the kinds a tenant can store, and the result of the
-- last verification of each set (against WeChat, or only a format check
-- where no live check exists yet). Saving new values clears the result: it
-- spoke about the old ones.

-- +goose Up
ALTER TABLE credentials
  ADD CONSTRAINT credentials_kind CHECK (kind IN ('miniprogram', 'wechatpay', 'customs', 'logistics')),
  ADD COLUMN verify_status text CHECK (verify_status IN ('ok', 'failed', 'format_checked')),
  ADD COLUMN verify_message text NOT NULL DEFAULT '',
  ADD COLUMN verified_at timestamptz,
  ADD COLUMN verify_requested_at timestamptz;

-- +goose Down
ALTER TABLE credentials
  DROP CONSTRAINT credentials_kind,
  DROP COLUMN verify_status,
  DROP COLUMN verify_message,
  DROP COLUMN verified_at,
  DROP COLUMN verify_requested_at;
