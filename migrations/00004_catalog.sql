-- Cross-border catalog, inventory and the Mini Program's customers.
-- Every table is tenant-owned: tenant_id first in the primary key and in
-- foreign keys, row-level security on. Localised texts are jsonb objects keyed
-- by locale ({"en": ..., "zh-CN": ...}). Money is integer fen (CNY).

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE categories (
  tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  parent_id  bigint,
  name       jsonb NOT NULL CHECK (jsonb_typeof(name) = 'object'),
  sort       int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, parent_id) REFERENCES categories (tenant_id, id) ON DELETE RESTRICT,
  CHECK (parent_id IS NULL OR parent_id <> id)
);

CREATE TABLE products (
  tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id           bigint GENERATED ALWAYS AS IDENTITY,
  status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
  category_id  bigint,
  brand        text NOT NULL DEFAULT '' CHECK (length(brand) <= 120),
  tags         text[] NOT NULL DEFAULT '{}',
  sort         int NOT NULL DEFAULT 0,
  content      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(content) = 'object'),  -- locale → {title, subtitle, description}
  options      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(options) = 'array'),   -- [{name: {locale: text}, values: [{locale: text}]}]
  images       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(images) = 'array'),    -- [{hash, alt: {locale: text}}]
  min_price    bigint,          -- lowest active SKU price, fen: sort and filter without a join
  sales_count  bigint NOT NULL DEFAULT 0,
  version      bigint NOT NULL DEFAULT 1, -- bumped on every change of the product or its SKUs or stock
  title_search text GENERATED ALWAYS AS (lower(coalesce(content -> 'en' ->> 'title', '') || ' ' || coalesce(content -> 'zh-CN' ->> 'title', ''))) STORED,
  published_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id) ON DELETE SET NULL (category_id)
);
CREATE INDEX products_storefront ON products (tenant_id, status, sort DESC, id DESC);
CREATE INDEX products_category ON products (tenant_id, category_id, status);
CREATE INDEX products_title_search ON products USING gin (title_search gin_trgm_ops);

CREATE TABLE skus (
  tenant_id         bigint NOT NULL,
  id                bigint GENERATED ALWAYS AS IDENTITY,
  product_id        bigint NOT NULL,
  code              text NOT NULL CHECK (code ~ '^[A-Za-z0-9._/-]{1,64}$'),
  barcode           text NOT NULL DEFAULT '' CHECK (length(barcode) <= 64),
  option_values     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(option_values) = 'array'), -- the English value of each option, in option order
  price             bigint NOT NULL DEFAULT 0 CHECK (price >= 0),       -- fen
  compare_at_price  bigint CHECK (compare_at_price IS NULL OR compare_at_price >= 0),
  weight_g          int CHECK (weight_g IS NULL OR weight_g >= 0),
  -- Cross-border (customs) data.
  hs_code           text NOT NULL DEFAULT '' CHECK (hs_code = '' OR hs_code ~ '^[0-9]{10}$'),
  origin_country    text NOT NULL DEFAULT '' CHECK (origin_country = '' OR origin_country ~ '^[0-9]{3}$'),
  gname             text NOT NULL DEFAULT '' CHECK (length(gname) <= 250),
  gmodel            text NOT NULL DEFAULT '' CHECK (length(gmodel) <= 250),
  unit              text NOT NULL DEFAULT '' CHECK (unit = '' OR unit ~ '^[0-9]{3}$'),
  legal_unit1       text NOT NULL DEFAULT '' CHECK (legal_unit1 = '' OR legal_unit1 ~ '^[0-9]{3}$'),
  legal_qty1        numeric(19, 5),
  legal_unit2       text NOT NULL DEFAULT '' CHECK (legal_unit2 = '' OR legal_unit2 ~ '^[0-9]{3}$'),
  legal_qty2        numeric(19, 5),
  net_weight_g      int CHECK (net_weight_g IS NULL OR net_weight_g >= 0),
  gross_weight_g    int CHECK (gross_weight_g IS NULL OR gross_weight_g >= 0),
  item_record_no    text NOT NULL DEFAULT '' CHECK (length(item_record_no) <= 64),
  trade_mode        text NOT NULL DEFAULT '1210' CHECK (trade_mode IN ('1210', '9610')),
  tax_category      text NOT NULL DEFAULT 'general',
  positive_list     boolean NOT NULL DEFAULT false,
  sort              int NOT NULL DEFAULT 0,
  archived_at       timestamptz, -- its option combination no longer exists; kept for orders that name it
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code),
  FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX skus_product ON skus (tenant_id, product_id);

CREATE TABLE warehouses (
  tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  code       text NOT NULL CHECK (code ~ '^[A-Za-z0-9_-]{1,32}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  kind       text NOT NULL CHECK (kind IN ('bonded', 'overseas')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code)
);

-- Stock of a SKU in a warehouse; reserved is held by unpaid orders.
CREATE TABLE stock_levels (
  tenant_id    bigint NOT NULL,
  sku_id       bigint NOT NULL,
  warehouse_id bigint NOT NULL,
  on_hand      bigint NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
  reserved     bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, sku_id, warehouse_id),
  FOREIGN KEY (tenant_id, sku_id) REFERENCES skus (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, warehouse_id) REFERENCES warehouses (tenant_id, id) ON DELETE RESTRICT
);

-- Append-only: every change of a stock level, so the figure can always be explained.
CREATE TABLE stock_movements (
  tenant_id      bigint NOT NULL,
  id             bigint GENERATED ALWAYS AS IDENTITY,
  sku_id         bigint NOT NULL,
  warehouse_id   bigint NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('received', 'reserved', 'released', 'sold', 'adjusted')),
  quantity       bigint NOT NULL,  -- signed change of on_hand (received, sold, adjusted) or of reserved (reserved, released)
  on_hand_after  bigint NOT NULL,
  reserved_after bigint NOT NULL,
  reason         text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
  ref            text NOT NULL DEFAULT '', -- e.g. order:123, import:7
  actor          text NOT NULL DEFAULT '',
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, sku_id, warehouse_id) REFERENCES stock_levels (tenant_id, sku_id, warehouse_id) ON DELETE CASCADE
);
CREATE INDEX stock_movements_sku ON stock_movements (tenant_id, sku_id, id DESC);

-- Uploaded images, content-addressed (sha256 of the bytes).
CREATE TABLE images (
  tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  hash         text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  content_type text NOT NULL,
  size         int NOT NULL,
  width        int NOT NULL,
  height       int NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, hash)
);

-- Mini Program users of a shop.
CREATE TABLE customers (
  tenant_id          bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id                 bigint GENERATED ALWAYS AS IDENTITY,
  openid             text NOT NULL,
  unionid            text,
  session_key_sealed bytea,   -- WeChat session_key, sealed; never returned
  nickname           text NOT NULL DEFAULT '' CHECK (length(nickname) <= 64),
  phone              text NOT NULL DEFAULT '' CHECK (length(phone) <= 32),
  created_at         timestamptz NOT NULL DEFAULT now(),
  last_login_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, openid)
);
CREATE INDEX customers_unionid ON customers (tenant_id, unionid) WHERE unionid IS NOT NULL;

CREATE TABLE addresses (
  tenant_id     bigint NOT NULL,
  id            bigint GENERATED ALWAYS AS IDENTITY,
  customer_id   bigint NOT NULL,
  consignee     text NOT NULL CHECK (length(consignee) BETWEEN 1 AND 60),
  phone         text NOT NULL CHECK (length(phone) BETWEEN 5 AND 32),
  province_code text NOT NULL CHECK (province_code ~ '^[0-9]{6}$'),
  city_code     text NOT NULL CHECK (city_code ~ '^[0-9]{6}$'),
  district_code text NOT NULL CHECK (district_code ~ '^[0-9]{6}$'),
  province      text NOT NULL DEFAULT '',
  city          text NOT NULL DEFAULT '',
  district      text NOT NULL DEFAULT '',
  detail        text NOT NULL CHECK (length(detail) BETWEEN 1 AND 200),
  is_default    boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX addresses_customer ON addresses (tenant_id, customer_id);

-- Buyer identity for customs (real name + resident ID), sealed; id_hash is a
-- keyed hash of the ID number, the same in every shop, for the annual limit.
CREATE TABLE buyer_identities (
  tenant_id    bigint NOT NULL,
  id           bigint GENERATED ALWAYS AS IDENTITY,
  customer_id  bigint NOT NULL,
  name_sealed  bytea NOT NULL,
  id_sealed    bytea NOT NULL,
  id_hash      text NOT NULL,
  name_masked  text NOT NULL,
  id_masked    text NOT NULL,
  is_default   boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, customer_id, id_hash),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE cart_items (
  tenant_id   bigint NOT NULL,
  customer_id bigint NOT NULL,
  sku_id      bigint NOT NULL,
  quantity    int NOT NULL CHECK (quantity BETWEEN 1 AND 999),
  added_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, customer_id, sku_id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, sku_id) REFERENCES skus (tenant_id, id) ON DELETE CASCADE
);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['categories', 'products', 'skus', 'warehouses', 'stock_levels', 'stock_movements', 'images',
                           'customers', 'addresses', 'buyer_identities', 'cart_items'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
      USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
      WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)$p$, t);
  END LOOP;
END $$;
-- +goose StatementEnd

REVOKE UPDATE, DELETE ON stock_movements FROM minishop_app;

-- +goose Down
DROP TABLE cart_items, buyer_identities, addresses, customers, images, stock_movements, stock_levels, warehouses, skus, products, categories;
