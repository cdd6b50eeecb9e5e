-- Customs declarations, fourth part: orders split into customs orders.
-- An order that ships from several warehouses is several customs orders,
-- one per warehouse, numbered like its payment declaration's sub-orders
-- (out_trade_no-1, -2, … in the order of the lines, see 00013): each has
-- its own order declaration (CEB311), waybill (CEB511) and inventory list
-- (CEB621), and their receipts. So a CEB document row is keyed by its
-- customs order number (order_no) too; an order shipped from one warehouse
-- keeps one row per kind with order_no = out_trade_no, as before. The
-- payment declaration stays one row per order (order_no = out_trade_no),
-- its sub-orders in customs_payment_orders.

-- +goose Up
ALTER TABLE customs_declarations ADD COLUMN warehouse_id bigint; -- the warehouse of a customs sub-order (NULL when not split)

ALTER TABLE customs_payments DROP CONSTRAINT customs_payments_tenant_id_order_id_kind_fkey;
ALTER TABLE customs_receipts DROP CONSTRAINT customs_receipts_tenant_id_order_id_kind_fkey;
ALTER TABLE customs_declarations DROP CONSTRAINT customs_declarations_pkey;
ALTER TABLE customs_declarations ADD PRIMARY KEY (tenant_id, order_id, kind, order_no);

-- The payment declaration's row is the one of its out_trade_no.
ALTER TABLE customs_payments ADD CONSTRAINT customs_payments_declaration_fkey
  FOREIGN KEY (tenant_id, order_id, kind, out_trade_no) REFERENCES customs_declarations (tenant_id, order_id, kind, order_no) ON DELETE CASCADE;

-- A receipt belongs to one customs order's document.
ALTER TABLE customs_receipts ADD COLUMN order_no text;
UPDATE customs_receipts r SET order_no = d.order_no FROM customs_declarations d
  WHERE d.tenant_id = r.tenant_id AND d.order_id = r.order_id AND d.kind = r.kind;
ALTER TABLE customs_receipts ALTER COLUMN order_no SET NOT NULL;
ALTER TABLE customs_receipts DROP CONSTRAINT customs_receipts_pkey;
ALTER TABLE customs_receipts ADD PRIMARY KEY (tenant_id, order_id, kind, order_no, guid, return_status, return_time);
ALTER TABLE customs_receipts ADD CONSTRAINT customs_receipts_declaration_fkey
  FOREIGN KEY (tenant_id, order_id, kind, order_no) REFERENCES customs_declarations (tenant_id, order_id, kind, order_no) ON DELETE CASCADE;

-- A receipt written without its customs order number (the payment
-- declaration's, one per order) takes the only document of its kind; with
-- several the insert fails rather than guess.
-- +goose StatementBegin
CREATE FUNCTION customs_receipt_order_no() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  nos text[];
BEGIN
  IF NEW.order_no IS NULL THEN
    SELECT array_agg(order_no) INTO nos FROM customs_declarations
      WHERE tenant_id = NEW.tenant_id AND order_id = NEW.order_id AND kind = NEW.kind;
    IF coalesce(array_length(nos, 1), 0) <> 1 THEN
      RAISE EXCEPTION 'customs receipt of order % (%): its customs order number is needed', NEW.order_id, NEW.kind;
    END IF;
    NEW.order_no := nos[1];
  END IF;
  RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER customs_receipt_order_no BEFORE INSERT ON customs_receipts
  FOR EACH ROW WHEN (NEW.order_no IS NULL) EXECUTE FUNCTION customs_receipt_order_no();

-- Only the CEB documents are polled at the agent: the payment declaration
-- is asked of WeChat Pay (customs_payments_awaiting).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION customs_awaiting_receipts(p_before timestamptz, p_limit int)
RETURNS TABLE (tenant_id bigint, order_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT d.tenant_id, d.order_id FROM customs_declarations d
  WHERE d.kind <> 'payment' AND d.state IN ('sent', 'received') AND d.updated_at <= p_before
  GROUP BY d.tenant_id, d.order_id
  ORDER BY min(d.updated_at) LIMIT least(greatest(p_limit, 1), 1000)
$$;
-- +goose StatementEnd

-- As in 00015, with customs orders: an order still declaring waits for its
-- payment declaration once every order declaration and inventory list of
-- its customs orders is accepted.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION customs_orders_to_poll(p_before timestamptz, p_limit int)
RETURNS TABLE (tenant_id bigint, order_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT x.tenant_id, x.order_id FROM (
    SELECT d.tenant_id, d.order_id, min(d.updated_at) AS at FROM customs_declarations d
    WHERE d.state IN ('sent', 'received') AND d.kind <> 'payment' AND d.updated_at <= p_before
    GROUP BY d.tenant_id, d.order_id
    UNION ALL
    SELECT o.tenant_id, o.id, o.updated_at FROM orders o
    WHERE o.status = 'declaring'
      AND EXISTS (SELECT 1 FROM customs_declarations i WHERE i.tenant_id = o.tenant_id AND i.order_id = o.id
                  AND i.kind = 'inventory' AND i.state = 'accepted')
      AND NOT EXISTS (SELECT 1 FROM customs_declarations c WHERE c.tenant_id = o.tenant_id AND c.order_id = o.id
                  AND c.kind = 'order' AND (c.state <> 'accepted' OR NOT EXISTS (
                    SELECT 1 FROM customs_declarations i WHERE i.tenant_id = c.tenant_id AND i.order_id = c.order_id
                    AND i.kind = 'inventory' AND i.order_no = c.order_no AND i.state = 'accepted')))
  ) x
  GROUP BY x.tenant_id, x.order_id
  ORDER BY min(x.at) LIMIT least(greatest(p_limit, 1), 1000)
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION customs_orders_to_poll(p_before timestamptz, p_limit int)
RETURNS TABLE (tenant_id bigint, order_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT x.tenant_id, x.order_id FROM (
    SELECT d.tenant_id, d.order_id, min(d.updated_at) AS at FROM customs_declarations d
    WHERE d.state IN ('sent', 'received') AND d.kind <> 'payment' AND d.updated_at <= p_before
    GROUP BY d.tenant_id, d.order_id
    UNION ALL
    SELECT o.tenant_id, o.id, o.updated_at FROM orders o
    WHERE o.status = 'declaring'
      AND EXISTS (SELECT 1 FROM customs_declarations i WHERE i.tenant_id = o.tenant_id AND i.order_id = o.id
                  AND i.kind = 'inventory' AND i.state = 'accepted')
      AND EXISTS (SELECT 1 FROM customs_declarations c WHERE c.tenant_id = o.tenant_id AND c.order_id = o.id
                  AND c.kind = 'order' AND c.state = 'accepted')
  ) x
  GROUP BY x.tenant_id, x.order_id
  ORDER BY min(x.at) LIMIT least(greatest(p_limit, 1), 1000)
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION customs_awaiting_receipts(p_before timestamptz, p_limit int)
RETURNS TABLE (tenant_id bigint, order_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT d.tenant_id, d.order_id FROM customs_declarations d
  WHERE d.state IN ('sent', 'received') AND d.updated_at <= p_before
  ORDER BY d.updated_at LIMIT least(greatest(p_limit, 1), 1000)
$$;
-- +goose StatementEnd
DROP TRIGGER customs_receipt_order_no ON customs_receipts;
DROP FUNCTION customs_receipt_order_no();
ALTER TABLE customs_receipts DROP CONSTRAINT customs_receipts_declaration_fkey;
ALTER TABLE customs_receipts DROP CONSTRAINT customs_receipts_pkey;
ALTER TABLE customs_receipts ADD PRIMARY KEY (tenant_id, order_id, kind, guid, return_status, return_time);
ALTER TABLE customs_receipts DROP COLUMN order_no;
ALTER TABLE customs_payments DROP CONSTRAINT customs_payments_declaration_fkey;
ALTER TABLE customs_declarations DROP CONSTRAINT customs_declarations_pkey;
ALTER TABLE customs_declarations ADD PRIMARY KEY (tenant_id, order_id, kind);
ALTER TABLE customs_receipts ADD CONSTRAINT customs_receipts_tenant_id_order_id_kind_fkey
  FOREIGN KEY (tenant_id, order_id, kind) REFERENCES customs_declarations (tenant_id, order_id, kind) ON DELETE CASCADE;
ALTER TABLE customs_payments ADD CONSTRAINT customs_payments_tenant_id_order_id_kind_fkey
  FOREIGN KEY (tenant_id, order_id, kind) REFERENCES customs_declarations (tenant_id, order_id, kind) ON DELETE CASCADE;
ALTER TABLE customs_declarations DROP COLUMN warehouse_id;
