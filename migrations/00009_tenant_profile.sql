-- Company details and onboarding state of a shop, edited by the brand in the
-- console (GET/PUT /tenants/{slug}/profile). They live on shops, which is
-- already tenant-owned with row-level security; the new columns inherit its
-- policy and grants.

-- +goose Up
ALTER TABLE shops
  ADD COLUMN legal_name              text NOT NULL DEFAULT '',
  ADD COLUMN country                 text NOT NULL DEFAULT '' CHECK (country = '' OR country ~ '^[A-Z]{2}$'),
  ADD COLUMN contact_name            text NOT NULL DEFAULT '',
  ADD COLUMN contact_email           text NOT NULL DEFAULT '',
  ADD COLUMN contact_phone           text NOT NULL DEFAULT '',
  ADD COLUMN logo_image              text CHECK (logo_image ~ '^[0-9a-f]{64}$'),
  ADD COLUMN onboarding_completed_at timestamptz;

-- +goose Down
ALTER TABLE shops
  DROP COLUMN legal_name, DROP COLUMN country, DROP COLUMN contact_name, DROP COLUMN contact_email,
  DROP COLUMN contact_phone, DROP COLUMN logo_image, DROP COLUMN onboarding_completed_at;
