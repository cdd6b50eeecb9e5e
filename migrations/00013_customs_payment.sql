-- The WeChat Pay customs declaration of payments (支付报关). Its state lives
-- in customs_declarations (kind 'payment', one row per order, same states
-- as the other documents) and its receipts in customs_receipts; what is
-- particular to WeChat Pay is here: the customs office and merchant customs
-- number declared, the payment, the identity check, and one row per
-- customs (sub-)order the payment is split into, with WeChat Pay's state of
-- each. Tenant-owned like 00004.

-- +goose Up
CREATE TABLE customs_payments (
  tenant_id        bigint NOT NULL,
  order_id         bigint NOT NULL,
  kind             text NOT NULL DEFAULT 'payment' CHECK (kind = 'payment'),
  api              text NOT NULL CHECK (api IN ('v2', 'v3')),  -- v2 XML (direct, partner) or v3 Global
  customs          text NOT NULL,          -- customs office code, e.g. HANGZHOU_ZS
  mch_customs_no   text NOT NULL,          -- the merchant's customs registration number
  out_trade_no     text NOT NULL,
  transaction_id   text NOT NULL,
  paid_fen         bigint NOT NULL CHECK (paid_fen > 0),
  refunded_fen     bigint NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0), -- refunds the declared amounts reflect
  cert_check_result text NOT NULL DEFAULT '',  -- UNCHECKED, SAME, DIFFERENT ('' before the first answer)
  verify_department text NOT NULL DEFAULT '',
  verify_department_trade_id text NOT NULL DEFAULT '',
  modifications    int NOT NULL DEFAULT 0,  -- MODIFY requests that changed the declaration
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, order_id),
  FOREIGN KEY (tenant_id, order_id, kind) REFERENCES customs_declarations (tenant_id, order_id, kind) ON DELETE CASCADE
);

-- One row per customs order: sub_order_no '' when the payment is not split.
CREATE TABLE customs_payment_orders (
  tenant_id      bigint NOT NULL,
  order_id       bigint NOT NULL,
  sub_order_no   text NOT NULL DEFAULT '',
  sub_order_id   text NOT NULL DEFAULT '',   -- WeChat Pay's id of the sub-order
  warehouse_id   bigint,
  order_fee      bigint NOT NULL CHECK (order_fee >= 0),
  transport_fee  bigint NOT NULL CHECK (transport_fee >= 0),
  product_fee    bigint NOT NULL CHECK (product_fee >= 0),
  duty           bigint NOT NULL CHECK (duty >= 0),
  state          text NOT NULL DEFAULT '',   -- WeChat Pay's: UNDECLARED … SUCCESS, FAIL, EXCEPT ('' before it answered)
  explanation    text NOT NULL DEFAULT '',
  modify_time    timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, order_id, sub_order_no),
  FOREIGN KEY (tenant_id, order_id) REFERENCES customs_payments (tenant_id, order_id) ON DELETE CASCADE,
  CHECK (order_fee = transport_fee + product_fee)
);

ALTER TABLE customs_payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE customs_payments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customs_payments
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);
ALTER TABLE customs_payment_orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE customs_payment_orders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customs_payment_orders
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);
GRANT SELECT, INSERT, UPDATE ON customs_payments, customs_payment_orders TO minishop_app;
REVOKE DELETE ON customs_payments, customs_payment_orders FROM minishop_app;

-- Payment declarations waiting for WeChat Pay's outcome, in every shop,
-- for the periodic poll (which then queries each in its own tenant
-- transaction). Runs as the owner (see customs_awaiting_receipts), ids only.
-- +goose StatementBegin
CREATE FUNCTION customs_payments_awaiting(p_before timestamptz, p_limit int)
RETURNS TABLE (tenant_id bigint, order_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT d.tenant_id, d.order_id FROM customs_declarations d
  WHERE d.kind = 'payment' AND d.state IN ('sent', 'received') AND d.updated_at <= p_before
  ORDER BY d.updated_at LIMIT least(greatest(p_limit, 1), 1000)
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION customs_payments_awaiting(timestamptz, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customs_payments_awaiting(timestamptz, int) TO minishop_app;

-- +goose Down
DROP FUNCTION customs_payments_awaiting(timestamptz, int);
DROP TABLE customs_payment_orders;
DROP TABLE customs_payments;
