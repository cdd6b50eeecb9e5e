#!/usr/bin/env bash
# Build the admin console (web/admin) into web/admin/dist/app, which the Go
# binary embeds. Does only what is needed:
#
#   * `npm ci` when node_modules is missing or package-lock.json is newer than
#     node_modules/.package-lock.json (what npm wrote at the last install);
#   * `npm run build` (tsc --noEmit, then vite build) when the sources differ
#     from those of the last successful build, or dist/app/index.html is
#     missing. The sources' content hash is kept in
#     node_modules/.cache/minishop-web-build.stamp.
#
# A second run with nothing changed takes well under a second.
#
# Usage: scripts/web-build.sh [--force]
#   --force   build even when the stamp says the sources did not change
#
# Environment:
#   MINISHOP_WEB_SKIP=1   do nothing (for Go-only work on a machine without Node)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
WEB="$ROOT/web/admin"
STAMP_DIR="$WEB/node_modules/.cache"
STAMP="$STAMP_DIR/minishop-web-build.stamp"
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=19

log() { printf 'web-build: %s\n' "$*" >&2; }
die() {
  printf 'web-build: error: %s\n' "$*" >&2
  exit 1
}

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
      exit 0
      ;;
    *) die "unknown argument '$arg' (see --help)" ;;
  esac
done

if [[ "${MINISHOP_WEB_SKIP:-}" == 1 ]]; then
  log "MINISHOP_WEB_SKIP=1: not building the admin console"
  exit 0
fi

[[ -f "$WEB/package.json" ]] || die "$WEB/package.json not found"
command -v node >/dev/null 2>&1 || die "Node.js is not installed; the admin console needs Node >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR and npm"
command -v npm >/dev/null 2>&1 || die "npm is not installed (it comes with Node.js)"
node_version="$(node -p 'process.versions.node')"
IFS=. read -r major minor _ <<<"$node_version"
if ((major < NODE_MIN_MAJOR || (major == NODE_MIN_MAJOR && minor < NODE_MIN_MINOR))); then
  die "Node $node_version is too old; the admin console needs Node >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR"
fi

cd "$WEB"

# One build at a time (make run and make test may start together).
if command -v flock >/dev/null 2>&1; then
  lock="${TMPDIR:-/tmp}/minishop-web-build-$(printf '%s' "$WEB" | cksum | cut -d' ' -f1).lock"
  exec 9>"$lock"
  if ! flock -n 9; then
    log "another build of the console is running; waiting for it"
    flock 9
  fi
fi

# 1. Dependencies.
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing dependencies (npm ci)"
  if ! npm ci --no-audit --no-fund --loglevel=error; then
    die "npm ci failed in web/admin (see above). Is the npm registry reachable? Does package-lock.json match package.json (run 'npm install' in web/admin to update it)?"
  fi
fi

# 2. Build, when the sources changed. Everything that goes into the bundle:
# the sources, public files, the HTML entry, and the configuration.
sources_hash() {
  local f
  {
    find src public dev -type f -print0 2>/dev/null || true
    for f in index.html package.json package-lock.json vite.config.ts tsconfig*.json; do
      if [[ -f "$f" ]]; then printf '%s\0' "$f"; fi
    done
  } | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

hash="$(sources_hash)"
if ((FORCE == 0)) && [[ -f dist/app/index.html && -f "$STAMP" && "$(cat "$STAMP")" == "$hash" ]]; then
  log "admin console is up to date"
  exit 0
fi

log "building the admin console (typecheck, then vite build)"
rm -f "$STAMP"
if ! npm run --silent build; then
  die "the admin console did not build (see the errors above: TypeScript errors come first, then Vite's)"
fi
[[ -f dist/app/index.html ]] || die "the build finished but dist/app/index.html is missing; check build.outDir in web/admin/vite.config.ts"
mkdir -p "$STAMP_DIR"
printf '%s\n' "$hash" >"$STAMP"
log "built web/admin/dist/app"
