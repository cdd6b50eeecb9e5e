#!/usr/bin/env bash
# `make test`: start Postgres and Redis (unless DATABASE_URL/REDIS_URL point
# elsewhere), then run every test. Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
scripts/ensure-tools.sh xmllint
MINISHOP_PG_FAST=1 scripts/services.sh up --quiet
# shellcheck disable=SC1091
. "${MINISHOP_DATA_DIR:-.minishop}/env"
echo "== admin console (npm ci, typecheck, build)"
scripts/web-build.sh
echo "== go vet"
go vet ./...
echo "== go test -race"
go test -race -count=1 -timeout 25m ./...
echo "== browser tests of the admin console (Chromium)"
scripts/e2e.sh
