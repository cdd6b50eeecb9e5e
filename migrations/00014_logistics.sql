-- Logistics: shipments of an order (split delivery: several parcels, each
-- with the order lines it carries), their tracking through Kuaidi100, the
-- order's WeChat shipping-information upload, and the warehouse webhook
-- secret of each shop. Tenant-owned like 00004: tenant_id first in every
-- key, ENABLE + FORCE ROW LEVEL SECURITY.

-- +goose Up
CREATE TABLE shipments (
  tenant_id     bigint NOT NULL,
  id            bigint GENERATED ALWAYS AS IDENTITY,
  order_id      bigint NOT NULL,
  carrier       text NOT NULL CHECK (carrier ~ '^[a-z0-9]{2,32}$'),       -- Kuaidi100 company code
  tracking_no   text NOT NULL CHECK (tracking_no ~ '^[A-Za-z0-9-]{4,40}$'),
  source        text NOT NULL CHECK (source IN ('admin', 'import', 'warehouse')),
  -- Tracking: the Kuaidi100 state of the newest trace (by its time, not by
  -- when it arrived), and its text.
  kd_state      int,
  state         text NOT NULL DEFAULT 'created'
                CHECK (state IN ('created', 'in_transit', 'customs', 'delivering', 'delivered', 'exception', 'returned')),
  last_trace    text NOT NULL DEFAULT '',
  last_trace_at timestamptz,
  delivered_at  timestamptz,
  -- Subscription: pending (to do), active, aborted (Kuaidi100 gave up; a
  -- new one is due 30 min later), failed (refused: polling only), done.
  subscription  text NOT NULL DEFAULT 'pending' CHECK (subscription IN ('pending', 'active', 'aborted', 'failed', 'done')),
  subscribes    int NOT NULL DEFAULT 0,
  subscribed_at timestamptz,
  sub_error     text NOT NULL DEFAULT '',
  last_push_at  timestamptz,
  polled_at     timestamptz,
  next_poll_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, carrier, tracking_no),
  FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX shipments_order ON shipments (tenant_id, order_id, id);
CREATE INDEX shipments_open ON shipments (next_poll_at) WHERE state NOT IN ('delivered', 'returned');

-- What each parcel carries: a quantity of an order line.
CREATE TABLE shipment_lines (
  tenant_id   bigint NOT NULL,
  shipment_id bigint NOT NULL,
  order_id    bigint NOT NULL,
  line_no     int NOT NULL,
  quantity    int NOT NULL CHECK (quantity BETWEEN 1 AND 999),
  PRIMARY KEY (tenant_id, shipment_id, line_no),
  FOREIGN KEY (tenant_id, shipment_id) REFERENCES shipments (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, order_id, line_no) REFERENCES order_lines (tenant_id, order_id, line_no)
);
CREATE INDEX shipment_lines_order ON shipment_lines (tenant_id, order_id, line_no);

-- Every trace line Kuaidi100 reported, once: pushes repeat the whole list,
-- arrive twice or out of order, and change nothing the second time.
CREATE TABLE shipment_traces (
  tenant_id   bigint NOT NULL,
  shipment_id bigint NOT NULL,
  at          timestamptz NOT NULL,
  context     text NOT NULL,
  kd_state    int,
  area        text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, shipment_id, at, context),
  FOREIGN KEY (tenant_id, shipment_id) REFERENCES shipments (tenant_id, id) ON DELETE CASCADE
);

-- The order's shipping information at WeChat (upload_shipping_info): what
-- was uploaded last (a hash of the payload's content), how many uploads
-- WeChat took (the second one is the single re-ship it allows), and the
-- state of the pending one. delivered_at drives auto-completion.
CREATE TABLE order_shipping (
  tenant_id       bigint NOT NULL,
  order_id        bigint NOT NULL,
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'uploaded', 'failed', 'skipped')),
  want_hash       text NOT NULL DEFAULT '',  -- content that should be at WeChat
  done_hash       text NOT NULL DEFAULT '',  -- content WeChat accepted last
  uploads         int NOT NULL DEFAULT 0,
  full_uploads    int NOT NULL DEFAULT 0,    -- uploads that completed the delivery (the 2nd is the re-ship)
  attempts        int NOT NULL DEFAULT 0,    -- tries of the pending content
  last_errcode    int,
  last_error      text NOT NULL DEFAULT '',
  next_attempt_at timestamptz,
  uploaded_at     timestamptz,
  delivered_at    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, order_id),
  FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE
);

-- The shop's warehouse webhook secret (HMAC-SHA256 key), sealed with the
-- tenant's data key.
CREATE TABLE warehouse_webhooks (
  tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  secret_sealed bytea NOT NULL,
  hint          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['shipments', 'shipment_lines', 'shipment_traces', 'order_shipping', 'warehouse_webhooks'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
      USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
      WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)$p$, t);
  END LOOP;
END $$;
-- +goose StatementEnd
GRANT SELECT, INSERT, UPDATE, DELETE ON shipments, shipment_lines, shipment_traces, order_shipping, warehouse_webhooks TO minishop_app;
REVOKE UPDATE, DELETE ON shipment_traces FROM minishop_app;
REVOKE DELETE ON shipments, shipment_lines, order_shipping FROM minishop_app;

-- The logistics sweep's work in every shop (ids only; each item is then
-- handled in its own tenant transaction): waybills due for a fallback query
-- or a new subscription, uploads due for a retry, and delivered orders due
-- for completion. Runs as the owner (see orders_due_for_close).
CREATE POLICY owner_logistics_scan ON shipments FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY owner_logistics_scan ON order_shipping FOR SELECT TO CURRENT_USER USING (true);
-- +goose StatementBegin
CREATE FUNCTION logistics_due(p_now timestamptz, p_silent timestamptz, p_resub timestamptz, p_complete timestamptz, p_limit int)
RETURNS TABLE (kind text, tenant_id bigint, id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  (SELECT 'poll', s.tenant_id, s.id FROM shipments s
    WHERE s.state NOT IN ('delivered', 'returned') AND coalesce(s.next_poll_at, s.created_at) <= p_now
      AND coalesce(s.last_push_at, s.created_at) <= p_silent
    ORDER BY coalesce(s.next_poll_at, s.created_at) LIMIT least(greatest(p_limit, 1), 1000))
  UNION ALL
  (SELECT 'subscribe', s.tenant_id, s.id FROM shipments s
    WHERE s.state NOT IN ('delivered', 'returned') AND s.subscribes < 4
      AND s.subscription IN ('pending', 'aborted') AND s.updated_at <= p_resub
    ORDER BY s.updated_at LIMIT least(greatest(p_limit, 1), 1000))
  UNION ALL
  (SELECT 'upload', o.tenant_id, o.order_id FROM order_shipping o
    WHERE o.state = 'pending' AND coalesce(o.next_attempt_at, o.updated_at) <= p_now
    ORDER BY coalesce(o.next_attempt_at, o.updated_at) LIMIT least(greatest(p_limit, 1), 1000))
  UNION ALL
  (SELECT 'complete', o.tenant_id, o.order_id FROM order_shipping o
    WHERE o.delivered_at IS NOT NULL AND o.delivered_at <= p_complete
      AND EXISTS (SELECT 1 FROM orders x WHERE x.tenant_id = o.tenant_id AND x.id = o.order_id AND x.status = 'delivered')
    ORDER BY o.delivered_at LIMIT least(greatest(p_limit, 1), 1000))
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION logistics_due(timestamptz, timestamptz, timestamptz, timestamptz, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION logistics_due(timestamptz, timestamptz, timestamptz, timestamptz, int) TO minishop_app;

-- +goose Down
DROP FUNCTION logistics_due(timestamptz, timestamptz, timestamptz, timestamptz, int);
DROP TABLE warehouse_webhooks, order_shipping, shipment_traces, shipment_lines, shipments;
