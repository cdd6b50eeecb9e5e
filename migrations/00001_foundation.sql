-- Foundation: tenants and their routing, the app role, row-level security,
-- the credentials store, the audit log and the transactional outbox.
--
-- Conventions for every tenant-owned table (see ARCHITECTURE.md):
--   * tenant_id first in the primary key and in foreign keys;
--   * ENABLE + FORCE ROW LEVEL SECURITY with the tenant_isolation policy;
--   * the server connects as minishop_app, which owns nothing.
-- Platform tables (tenants, tenant_domains, outbox, task_runs) are read before
-- a tenant is known (Host resolution, the relay) and carry no RLS.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minishop_app') THEN
    CREATE ROLE minishop_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END $$;
-- +goose StatementEnd
GRANT minishop_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO minishop_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO minishop_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO minishop_app;

CREATE TABLE tenants (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug           text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  provisioned_at timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Custom domains route to a tenant only once verified.
CREATE TABLE tenant_domains (
  domain             text PRIMARY KEY CHECK (domain = lower(domain) AND length(domain) <= 253),
  tenant_id          bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  verification_token text NOT NULL,
  verified_at        timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);

-- The public shop profile the Mini Program shows.
CREATE TABLE shops (
  tenant_id      bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  logo_url       text,
  currency       text NOT NULL DEFAULT 'CNY' CHECK (currency ~ '^[A-Z]{3}$'),
  default_locale text NOT NULL DEFAULT 'zh-CN',
  locales        text[] NOT NULL DEFAULT '{zh-CN,en}',
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Per-tenant data key, wrapped (AES-256-GCM) by the master key.
CREATE TABLE tenant_keys (
  tenant_id  bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  master_id  text NOT NULL,
  wrapped    bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  rotated_at timestamptz
);

-- External-service credentials. Test-mode (sandbox) and live sets are kept
-- apart by mode. Public fields (AppID, mch_id) in public; every secret sealed
-- in sealed with the tenant's data key and the tenant id as associated data.
CREATE TABLE credentials (
  tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  mode       text NOT NULL CHECK (mode IN ('test', 'live')),
  kind       text NOT NULL,
  public     jsonb NOT NULL DEFAULT '{}',
  sealed     bytea NOT NULL,
  hints      jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, mode, kind)
);

-- Append-only record of what happened to a tenant and who did it.
CREATE TABLE audit_log (
  tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  actor_kind text NOT NULL CHECK (actor_kind IN ('system', 'operator', 'user', 'agency', 'token', 'customer')),
  actor_id   text NOT NULL DEFAULT '',
  action     text NOT NULL,
  object     text NOT NULL DEFAULT '',
  data       jsonb NOT NULL DEFAULT '{}',
  ip         inet,
  request_id text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_recent ON audit_log (tenant_id, created_at DESC);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['shops', 'tenant_keys', 'credentials', 'audit_log'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
      USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
      WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)$p$, t);
  END LOOP;
END $$;
-- +goose StatementEnd

-- Business changes write here in their own transaction; the relay hands each
-- row to asynq with "outbox:<id>" as the task id, so a task exists once it is
-- committed, however often Redis or the relay fail.
CREATE TABLE outbox (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  bigint REFERENCES tenants (id) ON DELETE CASCADE,
  kind       text NOT NULL,
  queue      text NOT NULL DEFAULT 'default',
  payload    jsonb NOT NULL,
  request_id text NOT NULL DEFAULT '',
  attempts   int NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz,
  done_at    timestamptz  -- set when the task's handler succeeded
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
-- Sent but not done: candidates for redelivery if Redis lost them.
CREATE INDEX outbox_undone ON outbox (sent_at) WHERE sent_at IS NOT NULL AND done_at IS NULL;

-- +goose StatementBegin
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('minishop_outbox', '');
  RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- A task's effect and its row here commit together: a redelivered task finds
-- its row and does nothing.
CREATE TABLE task_runs (
  task_id   text PRIMARY KEY,
  tenant_id bigint REFERENCES tenants (id) ON DELETE CASCADE,
  kind      text NOT NULL,
  done_at   timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO minishop_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO minishop_app;
-- The audit log is append-only for the application.
REVOKE UPDATE, DELETE ON audit_log FROM minishop_app;
-- Only migrations touch the migration ledger.
REVOKE ALL ON goose_db_version FROM minishop_app;

-- +goose Down
DROP TABLE task_runs, outbox, audit_log, credentials, tenant_keys, shops, tenant_domains, tenants;
DROP FUNCTION outbox_notify();
