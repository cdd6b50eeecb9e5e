-- Bulk catalog import: a product handle (the key that groups a spreadsheet's
-- rows into one product and finds it again on the next import) and the
-- tenant's import jobs with their progress and bad rows.

-- +goose Up
-- NULL for products made in the console; the import and export then call
-- such a product "P<id>".
ALTER TABLE products ADD COLUMN handle text CHECK (handle ~ '^[A-Za-z0-9._/-]{1,64}$');
CREATE UNIQUE INDEX products_handle ON products (tenant_id, handle) WHERE handle IS NOT NULL;

CREATE TABLE catalog_imports (
  tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          bigint GENERATED ALWAYS AS IDENTITY,
  status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  format      text NOT NULL CHECK (format IN ('csv', 'xlsx')),
  filename    text NOT NULL DEFAULT '' CHECK (length(filename) <= 255),
  file_hash   text NOT NULL CHECK (file_hash ~ '^[0-9a-f]{64}$'), -- the upload, in the tenant's media storage
  size        bigint NOT NULL CHECK (size >= 0),
  rows_total  int NOT NULL DEFAULT 0,
  rows_done   int NOT NULL DEFAULT 0,
  error_count int NOT NULL DEFAULT 0,
  errors      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(errors) = 'array'),  -- the first 1000 bad rows: [{line, column, sku, message}]
  summary     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(summary) = 'object'), -- counts of what was created, updated, unchanged
  actor       text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  started_at  timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX catalog_imports_recent ON catalog_imports (tenant_id, id DESC);

ALTER TABLE catalog_imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_imports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON catalog_imports
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);

-- +goose Down
DROP TABLE catalog_imports;
DROP INDEX products_handle;
ALTER TABLE products DROP COLUMN handle;
