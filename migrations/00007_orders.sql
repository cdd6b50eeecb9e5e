-- Checkout and orders: shipping templates, orders with their lines, an
-- append-only timeline, idempotency keys of checkout requests, the payments
-- the payment side reported, and the platform-wide ledger of the CBEC
-- annual limit per buyer.
--
-- Tenant-owned tables follow 00004: tenant_id first in the primary key and in
-- foreign keys, ENABLE + FORCE ROW LEVEL SECURITY. Money is integer fen.

-- +goose Up
CREATE TABLE shipping_templates (
  tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  kind       text NOT NULL CHECK (kind IN ('flat', 'weight')),
  rule       jsonb NOT NULL CHECK (jsonb_typeof(rule) = 'object'),     -- {fee} or {first_weight_g, first_fee, additional_weight_g, additional_fee}
  regions    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(regions) = 'array'), -- [{provinces: ["540000"], rule: {...}}]
  free_above bigint CHECK (free_above IS NULL OR free_above >= 0),     -- goods value from which freight is free
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX shipping_templates_one_default ON shipping_templates (tenant_id) WHERE is_default;

CREATE TABLE orders (
  tenant_id            bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id                   bigint GENERATED ALWAYS AS IDENTITY,
  out_trade_no         text NOT NULL CHECK (out_trade_no ~ '^[A-Za-z0-9_-]{6,32}$'),
  customer_id          bigint NOT NULL,
  status               text NOT NULL DEFAULT 'pending_payment',
  currency             text NOT NULL DEFAULT 'CNY',
  goods_value          bigint NOT NULL CHECK (goods_value >= 0),
  freight              bigint NOT NULL CHECK (freight >= 0),
  discount             bigint NOT NULL DEFAULT 0 CHECK (discount >= 0),
  tax_total            bigint NOT NULL CHECK (tax_total >= 0),
  actural_paid         bigint NOT NULL,
  tax_mode             text NOT NULL CHECK (tax_mode IN ('cbec', 'general_trade')),
  trade_mode           text NOT NULL CHECK (trade_mode IN ('1210', '9610')),
  weight_g             bigint NOT NULL DEFAULT 0,
  shipping_template_id bigint,
  address              jsonb NOT NULL CHECK (jsonb_typeof(address) = 'object'), -- snapshot at checkout
  identity_id          bigint NOT NULL,   -- the buyer identity chosen (it may be deleted later; the snapshot stays)
  buyer_name_masked    text NOT NULL,
  buyer_id_masked      text NOT NULL,
  buyer_id_hash        text NOT NULL,
  buyer_name_sealed    bytea NOT NULL,    -- sealed with the tenant key, purpose order-buyer/<out_trade_no>/name
  buyer_id_sealed      bytea NOT NULL,
  note                 text NOT NULL DEFAULT '' CHECK (length(note) <= 200),
  expires_at           timestamptz NOT NULL, -- unpaid after this: closed
  prepay_at            timestamptz,          -- a prepay was requested: closing must close it at WeChat Pay too
  paid_at              timestamptz,
  transaction_id       text,
  paid_fen             bigint,
  needs_refund         boolean NOT NULL DEFAULT false, -- money arrived that the order cannot keep
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, out_trade_no),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
  -- CEB311: acturalPaid = goodsValue + freight + taxTotal − discount, to the fen.
  CHECK (actural_paid = goods_value + freight + tax_total - discount),
  CHECK (actural_paid > 0)
);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id, id DESC);
CREATE INDEX orders_status ON orders (tenant_id, status, id DESC);
CREATE INDEX orders_created ON orders (tenant_id, created_at DESC);
CREATE INDEX orders_due ON orders (expires_at) WHERE status = 'pending_payment';

CREATE TABLE order_lines (
  tenant_id      bigint NOT NULL,
  order_id       bigint NOT NULL,
  line_no        int NOT NULL,
  sku_id         bigint NOT NULL,
  product_id     bigint NOT NULL,
  warehouse_id   bigint NOT NULL,
  sku_code       text NOT NULL,
  title          jsonb NOT NULL,
  option_values  jsonb NOT NULL DEFAULT '[]',
  quantity       int NOT NULL CHECK (quantity BETWEEN 1 AND 999),
  unit_price     bigint NOT NULL CHECK (unit_price >= 0),
  goods          bigint NOT NULL,
  freight_share  bigint NOT NULL,
  discount_share bigint NOT NULL,
  tax_category   text NOT NULL,
  tax_rate       text NOT NULL,
  tax            bigint NOT NULL,
  total          bigint NOT NULL,
  hs_code        text NOT NULL,
  gname          text NOT NULL,
  item_record_no text NOT NULL,
  origin_country text NOT NULL,
  unit           text NOT NULL,
  trade_mode     text NOT NULL,
  PRIMARY KEY (tenant_id, order_id, line_no),
  FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE,
  CHECK (goods = unit_price * quantity),
  CHECK (total = goods + freight_share + tax - discount_share)
);

-- Append-only: every transition and every notable fact of an order.
CREATE TABLE order_events (
  tenant_id   bigint NOT NULL,
  id          bigint GENERATED ALWAYS AS IDENTITY,
  order_id    bigint NOT NULL,
  kind        text NOT NULL,
  from_status text,
  to_status   text,
  actor       text NOT NULL DEFAULT '',
  data        jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX order_events_order ON order_events (tenant_id, order_id, id);

-- Idempotency-Key of POST /api/v1/orders: the same key and body give the
-- same answer; the answer is kept as it was sent.
CREATE TABLE idempotency_keys (
  tenant_id    bigint NOT NULL,
  customer_id  bigint NOT NULL,
  key          text NOT NULL,
  request_hash text NOT NULL,
  order_id     bigint,
  response     text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, customer_id, key),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);

-- Payments the payment side reported, by WeChat Pay transaction id: a
-- repeated notification finds its row and changes nothing.
CREATE TABLE order_payments (
  tenant_id      bigint NOT NULL,
  transaction_id text NOT NULL,
  order_id       bigint NOT NULL,
  amount         bigint NOT NULL,
  paid_at        timestamptz NOT NULL,
  disposition    text NOT NULL CHECK (disposition IN ('applied', 'late', 'duplicate', 'amount_mismatch')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, transaction_id),
  FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE
);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['shipping_templates', 'orders', 'order_lines', 'order_events', 'idempotency_keys', 'order_payments'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
      USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
      WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)$p$, t);
  END LOOP;
END $$;
-- +goose StatementEnd

REVOKE UPDATE, DELETE ON order_events FROM minishop_app;
REVOKE UPDATE, DELETE ON order_payments FROM minishop_app;
REVOKE DELETE ON orders, order_lines FROM minishop_app;

-- The legal transitions of an order's status; shop/order_state.go holds the
-- same table (a test compares them). The trigger makes any other change of
-- status impossible, whatever the query.
CREATE TABLE order_transitions (
  from_status text NOT NULL,
  to_status   text NOT NULL,
  PRIMARY KEY (from_status, to_status)
);
INSERT INTO order_transitions (from_status, to_status) VALUES
  ('pending_payment', 'paid'), ('pending_payment', 'cancelled'), ('pending_payment', 'closed'),
  ('paid', 'declaring'), ('paid', 'refunding'),
  ('declaring', 'declared'), ('declaring', 'customs_rejected'),
  ('customs_rejected', 'declaring'), ('customs_rejected', 'refunding'),
  ('declared', 'shipped'), ('declared', 'refunding'),
  ('shipped', 'delivered'), ('shipped', 'refunding'),
  ('delivered', 'completed'), ('delivered', 'refunding'),
  ('completed', 'refunding'),
  ('refunding', 'refunded'), ('refunding', 'partially_refunded'),
  ('partially_refunded', 'refunding'), ('partially_refunded', 'declaring'), ('partially_refunded', 'shipped'),
  ('partially_refunded', 'delivered'), ('partially_refunded', 'completed');
REVOKE INSERT, UPDATE, DELETE ON order_transitions FROM minishop_app;

-- +goose StatementBegin
CREATE FUNCTION order_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'pending_payment' THEN
      RAISE EXCEPTION 'an order starts as pending_payment, not %', NEW.status USING ERRCODE = '23514';
    END IF;
  ELSIF NEW.status IS DISTINCT FROM OLD.status AND NOT EXISTS (
      SELECT 1 FROM order_transitions WHERE from_status = OLD.status AND to_status = NEW.status) THEN
    RAISE EXCEPTION 'illegal order transition % -> %', OLD.status, NEW.status USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER order_status_guard BEFORE INSERT OR UPDATE OF status ON orders FOR EACH ROW EXECUTE FUNCTION order_status_guard();

-- Unpaid orders past their deadline, in every shop, for the closing task
-- (which then closes each in its own tenant transaction). The app role sees
-- orders only through RLS; this function runs as the owner, to whom the
-- policy below shows all rows, and returns ids only.
CREATE POLICY owner_due_scan ON orders FOR SELECT TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION orders_due_for_close(p_now timestamptz, p_limit int)
RETURNS TABLE (tenant_id bigint, order_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT o.tenant_id, o.id FROM orders o
  WHERE o.status = 'pending_payment' AND o.expires_at <= p_now
  ORDER BY o.expires_at LIMIT least(greatest(p_limit, 1), 1000)
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION orders_due_for_close(timestamptz, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders_due_for_close(timestamptz, int) TO minishop_app;

-- The CBEC annual limit (RMB 26,000 per person per calendar year) counts a
-- buyer's orders in EVERY shop of the platform. Shops must not see each
-- other's orders, so the count lives here, at platform level, keyed by the
-- buyer's id_hash (HMAC-SHA256 of the ID number under the platform key
-- "buyer-id-hash": the same in every shop, not reversible without the key)
-- and the year. It holds an amount per order and nothing else: no name, no
-- number, nothing about the goods. The app role has no privilege on it (and
-- RLS without a policy denies it every row besides): it goes through the two
-- SECURITY DEFINER functions below, which act only on the caller's own
-- tenant (app.tenant_id) and reveal only a total.
CREATE TABLE buyer_annual_spend (
  tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  order_id   bigint NOT NULL,
  id_hash    text NOT NULL,
  year       int NOT NULL,
  amount     bigint NOT NULL CHECK (amount >= 0),
  state      text NOT NULL CHECK (state IN ('held', 'counted', 'released')), -- held: unpaid order; counted: paid, not refunded
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, order_id)
);
CREATE INDEX buyer_annual_spend_buyer ON buyer_annual_spend (id_hash, year) WHERE state <> 'released';
ALTER TABLE buyer_annual_spend ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON buyer_annual_spend FROM minishop_app;

-- +goose StatementBegin
-- Holds p_amount for an order if the buyer's year stays within p_limit, and
-- returns what was already used (held or counted) before it. Concurrent
-- checkouts of one buyer, in any shop, queue on an advisory lock until the
-- first one's transaction ends, so two orders cannot both pass on the same
-- remaining quota.
CREATE FUNCTION cbec_annual_hold(p_tenant bigint, p_order bigint, p_id_hash text, p_year int, p_amount bigint, p_limit bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE used bigint;
BEGIN
  IF p_tenant IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::bigint THEN
    RAISE EXCEPTION 'cbec_annual_hold: not the current tenant' USING ERRCODE = '42501';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('cbec-annual/' || p_id_hash || '/' || p_year, 0));
  SELECT coalesce(sum(amount), 0) INTO used FROM buyer_annual_spend
    WHERE id_hash = p_id_hash AND year = p_year AND state IN ('held', 'counted');
  IF used + p_amount <= p_limit THEN
    INSERT INTO buyer_annual_spend (tenant_id, order_id, id_hash, year, amount, state)
    VALUES (p_tenant, p_order, p_id_hash, p_year, p_amount, 'held');
  END IF;
  RETURN used;
END $$;

-- Moves an order's entry to p_state (counted on payment, released on close,
-- cancel or full refund) and, when p_amount is not null, sets the amount
-- that counts (after a partial refund). Only the caller's own tenant.
CREATE FUNCTION cbec_annual_set(p_tenant bigint, p_order bigint, p_state text, p_amount bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p_tenant IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::bigint THEN
    RAISE EXCEPTION 'cbec_annual_set: not the current tenant' USING ERRCODE = '42501';
  END IF;
  UPDATE buyer_annual_spend SET state = p_state, amount = coalesce(p_amount, amount), updated_at = now()
  WHERE tenant_id = p_tenant AND order_id = p_order;
END $$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION cbec_annual_hold(bigint, bigint, text, int, bigint, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION cbec_annual_set(bigint, bigint, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cbec_annual_hold(bigint, bigint, text, int, bigint, bigint) TO minishop_app;
GRANT EXECUTE ON FUNCTION cbec_annual_set(bigint, bigint, text, bigint) TO minishop_app;

-- +goose Down
DROP FUNCTION cbec_annual_set(bigint, bigint, text, bigint);
DROP FUNCTION cbec_annual_hold(bigint, bigint, text, int, bigint, bigint);
DROP TABLE buyer_annual_spend;
DROP FUNCTION orders_due_for_close(timestamptz, int);
DROP TABLE order_payments, idempotency_keys, order_events, order_lines, orders, order_transitions, shipping_templates;
DROP FUNCTION order_status_guard();
