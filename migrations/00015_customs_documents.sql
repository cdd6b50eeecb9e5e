-- Customs declarations, third part: the waybill (CEB511) and inventory list
-- (CEB621) that the declaration agent and the logistics partner declare
-- after customs accepted the order (CEB311). Their receipts (CEB512, CEB622)
-- come back through the same agent. Their message guids are the agent's, not
-- ours: a document's current guid is the newest one the agent reported, and
-- the guids of attempts replaced by a re-declaration are listed here so that
-- a late receipt of one never counts again.

-- +goose Up
ALTER TABLE customs_declarations ADD COLUMN superseded_guids text[] NOT NULL DEFAULT '{}';

-- The needs-a-person queue reads rejected and failed documents of a shop.
CREATE INDEX customs_declarations_attention ON customs_declarations (tenant_id, order_id)
  WHERE state IN ('rejected', 'failed');

-- Orders whose customs documents the agent must be asked about, in every
-- shop: a document (other than the payment one, which WeChat Pay answers)
-- sent and not answered, last changed before p_before; or an order still
-- declaring whose order declaration and inventory list are both accepted
-- (it waits for its payment declaration, which may have been accepted
-- since). Runs as the owner (see orders_due_for_close), returns ids only.
-- +goose StatementBegin
CREATE FUNCTION customs_orders_to_poll(p_before timestamptz, p_limit int)
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
REVOKE EXECUTE ON FUNCTION customs_orders_to_poll(timestamptz, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customs_orders_to_poll(timestamptz, int) TO minishop_app;

-- +goose Down
DROP FUNCTION customs_orders_to_poll(timestamptz, int);
DROP INDEX customs_declarations_attention;
ALTER TABLE customs_declarations DROP COLUMN superseded_guids;
