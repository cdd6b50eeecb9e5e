-- WeChat Pay payments and refunds: refunds of orders (asked by staff, or
-- returned automatically for a payment the order could not keep), each
-- with its out_refund_no (WeChat Pay's idempotency key) and its outcome;
-- and the scan of orders whose payment is still unconfirmed.
--
-- +goose Up
CREATE TABLE order_refunds (
  tenant_id     bigint NOT NULL,
  out_refund_no text NOT NULL,
  order_id      bigint NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('staff', 'payment_return')),
  amount        bigint NOT NULL CHECK (amount > 0),
  reason        text NOT NULL DEFAULT '',
  -- requested: written, not yet accepted by WeChat Pay; processing: accepted;
  -- succeeded, abnormal or closed: the outcome WeChat Pay notified.
  status        text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'processing', 'succeeded', 'abnormal', 'closed')),
  refund_id     text NOT NULL DEFAULT '',
  transaction_id text NOT NULL DEFAULT '',
  actor         text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, out_refund_no),
  FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX order_refunds_order ON order_refunds (tenant_id, order_id);

ALTER TABLE order_refunds ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_refunds FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON order_refunds
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);
REVOKE DELETE ON order_refunds FROM minishop_app;

-- Orders waiting for payment whose prepay was requested before p_before, in
-- every shop, for the task that asks WeChat Pay about them (a payment whose
-- notification never came). Runs as the owner (see orders_due_for_close),
-- returns ids only.
CREATE INDEX orders_prepaid_pending ON orders (prepay_at) WHERE status = 'pending_payment' AND prepay_at IS NOT NULL;
-- +goose StatementBegin
CREATE FUNCTION orders_pending_payment_query(p_before timestamptz, p_limit int)
RETURNS TABLE (tenant_id bigint, order_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT o.tenant_id, o.id FROM orders o
  WHERE o.status = 'pending_payment' AND o.prepay_at IS NOT NULL AND o.prepay_at <= p_before
  ORDER BY o.prepay_at LIMIT least(greatest(p_limit, 1), 1000)
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION orders_pending_payment_query(timestamptz, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders_pending_payment_query(timestamptz, int) TO minishop_app;

-- +goose Down
DROP FUNCTION orders_pending_payment_query(timestamptz, int);
DROP INDEX orders_prepaid_pending;
DROP TABLE order_refunds;
