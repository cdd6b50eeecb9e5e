#!/usr/bin/env bash
# `make bench`: every benchmark of the project, printing figures. Not part of
# `make test`: the figures belong in the README and the closing notes, not in
# assertions.
#
#   1. `go test -bench` over all packages (tenant resolution, permission checks,
#      and whatever else has a Benchmark function);
#   2. the storefront load harness (bench/cmd/storefront) at 10 tenants and at
#      10,000 tenants × 100 products (every list and product rendered into the
#      cache first: 1,000,000 products take several minutes to seed and warm),
#      each beside a bare gin handler serving the same bytes from memory (the
#      ceiling).
#
#   3. the checkout harness (bench/cmd/checkout): order + WeChat Pay prepay
#      throughput and p99 against the sandbox, a flash sale of 1,000 buyers on
#      100 units, and pgbench on a comparable write transaction (the ceiling).
#
#   4. the reconciliation harness (bench/cmd/reconcile): a generated trade bill
#      of 100,000 and of 1,000,000 rows downloaded, verified and matched as a
#      stream; wall time and peak memory.
#
# Environment: BENCH_DURATION (default 10s per measured run), BENCH_ONLY=go|storefront|checkout|reconcile.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
MINISHOP_PG_FAST=1 scripts/services.sh up --quiet
# shellcheck disable=SC1091
. "${MINISHOP_DATA_DIR:-.minishop}/env"
dur="${BENCH_DURATION:-10s}"
only="${BENCH_ONLY:-all}"
if [[ "$only" == all || "$only" == go ]]; then
  echo "== go test -bench ./..."
  go test -run '^$' -bench . -benchmem -timeout 60m ./...
fi
if [[ "$only" == all || "$only" == storefront ]]; then
  echo "== storefront load: 10 tenants × 100 products"
  go run ./bench/cmd/storefront -tenants 10 -products 100 -duration "$dur"
  echo "== storefront load: 10,000 tenants × 100 products, every response cached (the cached path)"
  go run ./bench/cmd/storefront -tenants 10000 -products 100 -prewarm all -duration "$dur"
fi
if [[ "$only" == all || "$only" == checkout ]]; then
  echo "== checkout + prepay load, flash sale, pgbench ceiling"
  scripts/ensure-tools.sh pgbench >/dev/null 2>&1 || true
  go run ./bench/cmd/checkout -duration "$dur" -buyers 1000 -units 100
fi
if [[ "$only" == all || "$only" == reconcile ]]; then
  echo "== reconciliation of a generated trade bill: 100,000 and 1,000,000 rows"
  go run ./bench/cmd/reconcile -rows 100000
  go run ./bench/cmd/reconcile -rows 1000000
fi
