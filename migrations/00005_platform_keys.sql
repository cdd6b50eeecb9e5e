-- Platform-wide secrets that must outlive a master key rotation (e.g. the
-- key of the buyer ID hash, which must give the same hash in every shop and
-- every year). Each is random, sealed under the master key; rotation
-- re-seals it, the secret itself never changes.

-- +goose Up
CREATE TABLE platform_keys (
  name       text PRIMARY KEY,
  sealed     bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- The app may create a key and read keys, never change or delete one.
REVOKE UPDATE, DELETE ON platform_keys FROM minishop_app;

-- +goose Down
DROP TABLE platform_keys;
