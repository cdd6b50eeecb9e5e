-- Customs declarations (三单对碰), first part: the order declaration
-- (CEB311) of each paid order, and every receipt (CEB312) customs returned
-- for it. Tenant-owned like 00004: tenant_id first in every key, ENABLE +
-- FORCE ROW LEVEL SECURITY.

-- +goose Up
CREATE TABLE customs_declarations (
  tenant_id      bigint NOT NULL,
  order_id       bigint NOT NULL,
  kind           text NOT NULL DEFAULT 'order' CHECK (kind IN ('order')), -- later: payment, waybill, inventory
  order_no       text NOT NULL,          -- the order's out_trade_no: the document id customs and the gateway dedupe on
  -- pending: written, not yet accepted by the gateway; sent: the gateway
  -- took it; received: the e-port acknowledged it (2/3); accepted (120/399);
  -- rejected (100); failed (4 or a negative receipt).
  state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'received', 'accepted', 'rejected', 'failed')),
  attempt        int NOT NULL DEFAULT 1 CHECK (attempt >= 1),  -- 1, then +1 per re-declaration
  guid           text NOT NULL,          -- guid of the current attempt's message
  attempts       int NOT NULL DEFAULT 0, -- sends tried (retries included)
  last_status    int,                    -- returnStatus of the receipt that set the state
  last_info      text NOT NULL DEFAULT '',
  last_receipt_at timestamptz,
  last_error     text NOT NULL DEFAULT '',
  sent_at        timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, order_id, kind),
  UNIQUE (tenant_id, kind, order_no),
  FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX customs_declarations_open ON customs_declarations (tenant_id, state) WHERE state IN ('pending', 'sent', 'received');

-- Every receipt, once: a duplicate delivery finds its row and changes nothing.
CREATE TABLE customs_receipts (
  tenant_id     bigint NOT NULL,
  order_id      bigint NOT NULL,
  kind          text NOT NULL DEFAULT 'order',
  guid          text NOT NULL,
  return_status int NOT NULL,
  return_time   timestamptz NOT NULL,
  return_info   text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, order_id, kind, guid, return_status, return_time),
  FOREIGN KEY (tenant_id, order_id, kind) REFERENCES customs_declarations (tenant_id, order_id, kind) ON DELETE CASCADE
);

ALTER TABLE customs_declarations ENABLE ROW LEVEL SECURITY;
ALTER TABLE customs_declarations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customs_declarations
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);
ALTER TABLE customs_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE customs_receipts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customs_receipts
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);
REVOKE DELETE ON customs_declarations FROM minishop_app;
REVOKE UPDATE, DELETE ON customs_receipts FROM minishop_app;

-- Declarations waiting for receipts, in every shop, for the periodic poll
-- of the agents (which then polls each in its own tenant transaction). Runs
-- as the owner (see orders_due_for_close), returns ids only.
CREATE POLICY owner_poll_scan ON customs_declarations FOR SELECT TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION customs_awaiting_receipts(p_before timestamptz, p_limit int)
RETURNS TABLE (tenant_id bigint, order_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT d.tenant_id, d.order_id FROM customs_declarations d
  WHERE d.state IN ('sent', 'received') AND d.updated_at <= p_before
  ORDER BY d.updated_at LIMIT least(greatest(p_limit, 1), 1000)
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION customs_awaiting_receipts(timestamptz, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customs_awaiting_receipts(timestamptz, int) TO minishop_app;

-- +goose Down
DROP FUNCTION customs_awaiting_receipts(timestamptz, int);
DROP TABLE customs_receipts;
DROP TABLE customs_declarations;
