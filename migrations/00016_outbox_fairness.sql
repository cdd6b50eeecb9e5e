-- Fair relaying between tenants, and failed tasks kept in Postgres.
--
-- The relay hands rows to asynq lane by lane, a lane being (queue, tenant):
-- round-robin across lanes, and at most a few tasks of one lane in flight
-- (relayed, not done, not failing) at a time, so a tenant that queues
-- 100,000 tasks waits in Postgres while other tenants' tasks pass.
--
-- A handler's failure is recorded on its row: failed_at and the error (for
-- operators, last_error; for the brand, error_message, in its own terms);
-- archived_at once asynq gave up (retries exhausted or not retryable). The
-- brand lists those and can run one again.

-- +goose Up
ALTER TABLE outbox
  ADD COLUMN failures      int NOT NULL DEFAULT 0,
  ADD COLUMN failed_at     timestamptz,
  ADD COLUMN archived_at   timestamptz,
  ADD COLUMN error_message text;

-- Pending rows by lane, for the relay's skip scan over lanes and its
-- per-lane pick in id order.
CREATE INDEX outbox_pending_lane ON outbox (queue, (coalesce(tenant_id, 0)), id) WHERE sent_at IS NULL;
-- In flight by lane, for the relay's cap (counted up to the cap only).
CREATE INDEX outbox_inflight_lane ON outbox (queue, (coalesce(tenant_id, 0)))
  WHERE sent_at IS NOT NULL AND done_at IS NULL AND failed_at IS NULL;
-- A tenant's failed tasks, newest first, for the brand's list.
CREATE INDEX outbox_failed ON outbox (tenant_id, id DESC) WHERE failed_at IS NOT NULL AND done_at IS NULL;
-- The lane index replaces it.
DROP INDEX outbox_unsent;

-- +goose Down
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
DROP INDEX outbox_failed;
DROP INDEX outbox_inflight_lane;
DROP INDEX outbox_pending_lane;
ALTER TABLE outbox DROP COLUMN error_message, DROP COLUMN archived_at, DROP COLUMN failed_at, DROP COLUMN failures;
