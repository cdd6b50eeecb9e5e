-- Identity and access: global users, agencies, memberships (a user's role in
-- a tenant), agency access to tenants (the collaborator model), invitations,
-- server-side sessions, API tokens, the dev mail outbox and the Casbin rules.
--
-- memberships and agency_access are the access directory: they are read
-- across tenants (a user's shops, an agency's clients) before any tenant is
-- chosen, like tenants itself, so they carry no RLS; every query on them names
-- the tenant or the user explicitly. api_tokens are tenant-owned and under RLS
-- (a token names its tenant, so it is looked up inside that tenant's scope).

-- +goose Up
-- A shop is in test mode (sandbox) until live credentials are saved.
ALTER TABLE tenants ADD COLUMN mode text NOT NULL DEFAULT 'test' CHECK (mode IN ('test', 'live'));

CREATE TABLE users (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email           text NOT NULL UNIQUE CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
  name            text NOT NULL DEFAULT '' CHECK (length(name) <= 120),
  password_hash   text NOT NULL,
  totp_sealed     bytea,         -- TOTP secret, sealed under the master key
  totp_enabled_at timestamptz,   -- set once the user proved a code
  operator        boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recovery_codes (
  user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash bytea NOT NULL,
  used_at   timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
  id_hash      bytea PRIMARY KEY, -- sha256 of the cookie value; the value itself is never stored
  user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  ip           inet,
  user_agent   text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL, -- absolute expiry
  revoked_at   timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE agencies (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agency_members (
  agency_id  bigint NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
  user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('agency_admin', 'agency_staff')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agency_id, user_id)
);
CREATE INDEX agency_members_user ON agency_members (user_id);

CREATE TABLE memberships (
  tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'admin', 'catalog_manager', 'order_manager', 'finance', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE agency_access (
  tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  agency_id    bigint NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
  status       text NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'revoked')),
  role         text CHECK (role IN ('admin', 'catalog_manager', 'order_manager', 'finance', 'viewer')),
  message      text NOT NULL DEFAULT '' CHECK (length(message) <= 1000),
  requested_by bigint REFERENCES users (id) ON DELETE SET NULL,
  decided_by   bigint REFERENCES users (id) ON DELETE SET NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  decided_at   timestamptz,
  PRIMARY KEY (tenant_id, agency_id),
  CHECK (status <> 'approved' OR role IS NOT NULL)
);
CREATE INDEX agency_access_agency ON agency_access (agency_id);

CREATE TABLE invitations (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  token_hash  bytea NOT NULL UNIQUE,
  tenant_id   bigint REFERENCES tenants (id) ON DELETE CASCADE,
  agency_id   bigint REFERENCES agencies (id) ON DELETE CASCADE,
  email       text NOT NULL CHECK (email = lower(email)),
  role        text NOT NULL,
  invited_by  bigint REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  accepted_at timestamptz,
  revoked_at  timestamptz,
  CHECK (num_nonnulls(tenant_id, agency_id) = 1)
);
CREATE INDEX invitations_tenant ON invitations (tenant_id) WHERE tenant_id IS NOT NULL;

CREATE TABLE api_tokens (
  tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id           bigint GENERATED ALWAYS AS IDENTITY,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
  role         text NOT NULL CHECK (role IN ('admin', 'catalog_manager', 'order_manager', 'finance', 'viewer')),
  token_hash   bytea NOT NULL UNIQUE,
  last4        text NOT NULL,
  created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz,
  PRIMARY KEY (tenant_id, id)
);
ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_tokens
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);

-- Mail sent in dev mode (and in tests) lands here instead of an SMTP server.
CREATE TABLE mail_outbox (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  to_addr    text NOT NULL,
  subject    text NOT NULL,
  body       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Casbin policy: the global role templates (p = role, object, action), one set
-- for every tenant. Role assignments (g) are derived from memberships and
-- agency_access, so there is one source of truth for who holds which role.
CREATE TABLE casbin_rule (
  id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ptype text NOT NULL,
  v0    text NOT NULL DEFAULT '',
  v1    text NOT NULL DEFAULT '',
  v2    text NOT NULL DEFAULT '',
  v3    text NOT NULL DEFAULT '',
  v4    text NOT NULL DEFAULT '',
  v5    text NOT NULL DEFAULT '',
  UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);

INSERT INTO casbin_rule (ptype, v0, v1, v2)
SELECT 'p', r.role, split_part(r.perm, ':', 1), split_part(r.perm, ':', 2)
FROM (VALUES
  -- owner: everything
  ('owner', 'shop:read'), ('owner', 'shop:write'), ('owner', 'catalog:read'), ('owner', 'catalog:write'),
  ('owner', 'orders:read'), ('owner', 'orders:write'), ('owner', 'orders:refund'), ('owner', 'customers:read'),
  ('owner', 'finance:read'), ('owner', 'finance:write'), ('owner', 'credentials:read'), ('owner', 'credentials:write'),
  ('owner', 'team:read'), ('owner', 'team:write'), ('owner', 'audit:read'), ('owner', 'billing:write'),
  ('owner', 'tenant:delete'), ('owner', 'ownership:transfer'),
  -- admin: everything but transferring ownership
  ('admin', 'shop:read'), ('admin', 'shop:write'), ('admin', 'catalog:read'), ('admin', 'catalog:write'),
  ('admin', 'orders:read'), ('admin', 'orders:write'), ('admin', 'orders:refund'), ('admin', 'customers:read'),
  ('admin', 'finance:read'), ('admin', 'finance:write'), ('admin', 'credentials:read'), ('admin', 'credentials:write'),
  ('admin', 'team:read'), ('admin', 'team:write'), ('admin', 'audit:read'), ('admin', 'billing:write'),
  ('admin', 'tenant:delete'),
  ('catalog_manager', 'shop:read'), ('catalog_manager', 'catalog:read'), ('catalog_manager', 'catalog:write'),
  ('order_manager', 'shop:read'), ('order_manager', 'catalog:read'), ('order_manager', 'orders:read'),
  ('order_manager', 'orders:write'), ('order_manager', 'orders:refund'), ('order_manager', 'customers:read'),
  ('finance', 'shop:read'), ('finance', 'orders:read'), ('finance', 'orders:refund'), ('finance', 'customers:read'),
  ('finance', 'finance:read'), ('finance', 'finance:write'),
  ('viewer', 'shop:read'), ('viewer', 'catalog:read'), ('viewer', 'orders:read'), ('viewer', 'customers:read'),
  ('viewer', 'finance:read'), ('viewer', 'credentials:read')
) AS r (role, perm);

-- Only migrations change the role templates.
REVOKE INSERT, UPDATE, DELETE ON casbin_rule FROM minishop_app;

-- +goose Down
ALTER TABLE tenants DROP COLUMN mode;
DROP TABLE casbin_rule, mail_outbox, api_tokens, invitations, agency_access, memberships, agency_members, agencies, sessions, recovery_codes, users;
