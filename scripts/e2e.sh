#!/usr/bin/env bash
# Browser tests of the admin console against a real `minishop dev`.
#
#   1. ensures Chromium (Debian's package, never a browser download);
#   2. builds the console (scripts/web-build.sh) and bin/minishop;
#   3. creates a fresh database minishop_e2e_<random> on the DATABASE_URL
#      server, picks a Redis database, a temporary MINISHOP_DATA_DIR and two
#      free loopback ports, and starts `bin/minishop dev`;
#   4. waits for /readyz, runs web/admin/e2e/*.test.mjs (node --test);
#   5. always stops the server and drops the database (trap).
#
# Exit status: the tests' (non-zero also when setup fails).
#
# Usage: scripts/e2e.sh [node --test arguments, e.g. --test-name-pattern=sign-in]
#
# Environment:
#   DATABASE_URL, REDIS_URL  servers to use (set by the caller after
#                            `scripts/services.sh up`; when unset, the env file
#                            that command writes is read if it exists)
#   MINISHOP_E2E_REDIS_DB    Redis database number (default 200)
#   MINISHOP_E2E_KEEP=1      keep the database and data dir (for debugging)
#   CHROMIUM                 browser binary (default: chromium on PATH)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
export PATH="$PATH:/usr/local/go/bin"

log() { printf 'e2e: %s\n' "$*" >&2; }
die() {
  printf 'e2e: error: %s\n' "$*" >&2
  exit 1
}

# Servers: from the environment, else from the env file of services.sh.
if [[ -z "${DATABASE_URL:-}" || -z "${REDIS_URL:-}" ]]; then
  envfile="${MINISHOP_DATA_DIR:-$ROOT/.minishop}/env"
  if [[ -f "$envfile" ]]; then
    # shellcheck disable=SC1090
    . "$envfile"
  fi
fi
[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set: run 'scripts/services.sh up' and source its env file (or use make test)"
[[ -n "${REDIS_URL:-}" ]] || die "REDIS_URL is not set: run 'scripts/services.sh up' and source its env file (or use make test)"
command -v psql >/dev/null 2>&1 || die "psql is not installed (Debian: postgresql-client)"
command -v node >/dev/null 2>&1 || die "Node.js is not installed"

# 1-2. Tools and builds.
scripts/ensure-tools.sh chromium cjkfont
if [[ -z "${CHROMIUM:-}" ]]; then
  CHROMIUM="$(command -v chromium || command -v chromium-browser)"
fi
export CHROMIUM
scripts/web-build.sh
log "building bin/minishop"
go build -o bin/minishop ./cmd/minishop

# 3. A private world for this run.
rand="$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
DB_NAME="minishop_e2e_$rand"
DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/minishop-e2e.XXXXXX")"
SERVER_PID=""
DB_CREATED=0
E2E_REDIS_URL=""

# with_path URL PATH: URL with its path replaced (keeps user, host, query).
with_path() {
  node -e 'const u = new URL(process.argv[1]); u.pathname = process.argv[2]; console.log(u.toString())' "$1" "$2"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    log "stopping the server (pid $SERVER_PID)"
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      log "the server did not stop in 20s; killing it"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ "${MINISHOP_E2E_KEEP:-}" == 1 ]]; then
    log "MINISHOP_E2E_KEEP=1: kept database $DB_NAME and $DATA_DIR"
  else
    if ((DB_CREATED)); then
      psql "$DATABASE_URL" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 ||
        log "warning: could not drop database $DB_NAME"
    fi
    if [[ -n "$E2E_REDIS_URL" ]] && command -v redis-cli >/dev/null 2>&1; then
      redis-cli -u "$E2E_REDIS_URL" FLUSHDB >/dev/null 2>&1 || true
    fi
    rm -rf "$DATA_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "creating database $DB_NAME"
psql "$DATABASE_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB_NAME" >/dev/null ||
  die "could not create database $DB_NAME on $DATABASE_URL (the role needs CREATEDB)"
DB_CREATED=1
E2E_DATABASE_URL="$(with_path "$DATABASE_URL" "/$DB_NAME")"
E2E_REDIS_URL="$(with_path "$REDIS_URL" "/${MINISHOP_E2E_REDIS_DB:-200}")"
if command -v redis-cli >/dev/null 2>&1; then
  redis-cli -u "$E2E_REDIS_URL" FLUSHDB >/dev/null 2>&1 || true
fi

# Two free loopback ports (the kernel picks them; a race with another
# process taking one in between is reported by minishop as "cannot listen").
read -r HTTP_PORT SANDBOX_PORT < <(node -e '
  const net = require("net");
  const grab = () => new Promise((ok) => { const s = net.createServer().listen(0, "127.0.0.1", () => ok(s)); });
  Promise.all([grab(), grab()]).then((ss) => { console.log(ss.map((s) => s.address().port).join(" ")); ss.forEach((s) => s.close()); });
')
BASE="http://127.0.0.1:$HTTP_PORT"
LOG="$DATA_DIR/minishop.log"

log "starting minishop dev on $BASE (sandbox 127.0.0.1:$SANDBOX_PORT, log $LOG)"
DATABASE_URL="$E2E_DATABASE_URL" REDIS_URL="$E2E_REDIS_URL" MINISHOP_DATA_DIR="$DATA_DIR" \
  MINISHOP_HTTP_ADDR="127.0.0.1:$HTTP_PORT" MINISHOP_SANDBOX_ADDR="127.0.0.1:$SANDBOX_PORT" \
  MINISHOP_LOG_LEVEL="${MINISHOP_LOG_LEVEL:-warn}" \
  bin/minishop dev >"$LOG" 2>&1 &
SERVER_PID=$!

# 4. Ready, then test.
deadline=$((SECONDS + 120))
until curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    tail -n 40 "$LOG" >&2 || true
    SERVER_PID=""
    die "minishop dev exited before it was ready (log above)"
  fi
  if ((SECONDS > deadline)); then
    tail -n 40 "$LOG" >&2 || true
    die "minishop dev was not ready after 120s (log above)"
  fi
  sleep 0.3
done
log "server ready; running the browser tests"

rc=0
(cd web/admin && MINISHOP_E2E_URL="$BASE" node --test --test-concurrency=1 "$@" e2e/*.test.mjs) || rc=$?
if ((rc != 0)); then
  log "tests failed; last lines of the server log:"
  tail -n 30 "$LOG" >&2 || true
  log "screenshots: web/admin/e2e/artifacts/"
fi
exit "$rc"
