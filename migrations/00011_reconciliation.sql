-- Daily reconciliation of WeChat Pay trade bills against our payments and
-- refunds: one run per tenant and day (re-running a day updates it), and
-- its discrepancies, unique per (tenant, day, kind, reference) so that a
-- re-run finds the same ones again instead of adding copies.
--
-- +goose Up
CREATE TABLE reconciliation_runs (
  tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  bill_date        date NOT NULL,               -- the China (UTC+8) day of the bill
  status           text NOT NULL CHECK (status IN ('running', 'matched', 'discrepancies', 'failed')),
  bill_rows        bigint NOT NULL DEFAULT 0,
  bill_payments    bigint NOT NULL DEFAULT 0,   -- fen, payment rows
  bill_refunds     bigint NOT NULL DEFAULT 0,   -- fen, refund rows
  bill_fee         bigint NOT NULL DEFAULT 0,   -- fen, rounded once per day
  net_settlement   bigint NOT NULL DEFAULT 0,   -- payments - refunds - fee
  our_payments     bigint NOT NULL DEFAULT 0,
  our_refunds      bigint NOT NULL DEFAULT 0,
  summary_problems jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(summary_problems) = 'array'),
  open_count       int NOT NULL DEFAULT 0,
  error            text NOT NULL DEFAULT '',
  runs             int NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, bill_date)
);

CREATE TABLE reconciliation_discrepancies (
  tenant_id   bigint NOT NULL,
  id          bigint GENERATED ALWAYS AS IDENTITY,
  bill_date   date NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('missing_with_us', 'missing_in_bill', 'amount_mismatch', 'status_mismatch', 'refund_mismatch')),
  reference   text NOT NULL CHECK (length(reference) BETWEEN 1 AND 200), -- out_trade_no, or out_refund_no for refunds
  evidence    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(evidence) = 'object'),
  explanation text NOT NULL DEFAULT '',
  state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'auto_resolved', 'resolved')),
  seen_run    int NOT NULL DEFAULT 1,              -- the run (reconciliation_runs.runs) that last found it
  note        text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
  resolved_by text NOT NULL DEFAULT '',
  resolved_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, bill_date, kind, reference),
  FOREIGN KEY (tenant_id, bill_date) REFERENCES reconciliation_runs (tenant_id, bill_date) ON DELETE CASCADE
);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['reconciliation_runs', 'reconciliation_discrepancies'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
      USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
      WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)$p$, t);
  END LOOP;
END $$;
-- +goose StatementEnd
GRANT SELECT, INSERT, UPDATE ON reconciliation_runs, reconciliation_discrepancies TO minishop_app;
REVOKE DELETE ON reconciliation_runs, reconciliation_discrepancies FROM minishop_app;

-- Shops to reconcile daily: active, with WeChat Pay credentials for the
-- mode they are in. Runs as the owner (the app role cannot read across
-- shops), returns ids only.
-- +goose StatementBegin
CREATE FUNCTION reconciliation_tenants()
RETURNS TABLE (tenant_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.id FROM tenants t
  WHERE t.status = 'active' AND EXISTS (SELECT 1 FROM credentials c WHERE c.tenant_id = t.id AND c.mode = t.mode AND c.kind = 'wechatpay')
  ORDER BY t.id
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION reconciliation_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reconciliation_tenants() TO minishop_app;

-- +goose Down
DROP FUNCTION reconciliation_tenants();
DROP TABLE reconciliation_discrepancies;
DROP TABLE reconciliation_runs;
