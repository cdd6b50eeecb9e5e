-- A staff refund may carry the Idempotency-Key of the request that asked for
-- it: a retried request (a double click, a timeout) finds its refund instead
-- of refunding twice.

-- +goose Up
ALTER TABLE order_refunds ADD COLUMN idempotency_key text, ADD COLUMN request_hash text;
CREATE UNIQUE INDEX order_refunds_idempotency ON order_refunds (tenant_id, order_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- +goose Down
DROP INDEX order_refunds_idempotency;
ALTER TABLE order_refunds DROP COLUMN request_hash, DROP COLUMN idempotency_key;
