#!/usr/bin/env bash
# `make run`: start Postgres and Redis (unless DATABASE_URL/REDIS_URL point
# elsewhere), then run `minishop dev` in the foreground. Ctrl-C stops Minishop
# and then the services this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh up --quiet
# shellcheck disable=SC1091
. "${MINISHOP_DATA_DIR:-.minishop}/env"
export MINISHOP_DEV=true
stop_services() { scripts/services.sh down >/dev/null 2>&1 || true; }
trap stop_services EXIT
# minishop handles SIGINT itself (graceful shutdown); the shell waits for it.
trap '' INT
bin/minishop dev
