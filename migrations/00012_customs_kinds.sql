-- Customs declarations, second part: the other three documents of 三单对碰
-- live in the same table as the order declaration (00010), one row per
-- order and kind: 'payment' (the WeChat Pay customs declaration), 'waybill'
-- (CEB511 from the logistics partner) and 'inventory' (CEB621, released with
-- 800 by the warehouse or agent). Their receipts go to customs_receipts.

-- +goose Up
ALTER TABLE customs_declarations DROP CONSTRAINT customs_declarations_kind_check;
ALTER TABLE customs_declarations ADD CONSTRAINT customs_declarations_kind_check
  CHECK (kind IN ('order', 'payment', 'waybill', 'inventory'));
ALTER TABLE customs_receipts ADD CONSTRAINT customs_receipts_kind_check
  CHECK (kind IN ('order', 'payment', 'waybill', 'inventory'));

-- +goose Down
ALTER TABLE customs_receipts DROP CONSTRAINT customs_receipts_kind_check;
ALTER TABLE customs_declarations DROP CONSTRAINT customs_declarations_kind_check;
ALTER TABLE customs_declarations ADD CONSTRAINT customs_declarations_kind_check CHECK (kind IN ('order'));
