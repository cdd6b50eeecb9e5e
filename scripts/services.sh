#!/usr/bin/env bash
# Private PostgreSQL + Redis for development and tests (no Docker, no system services).
#
# Usage: scripts/services.sh up|down|status|env [--quiet]
#
#   up      Start (or reuse) the services, wait until they answer, write
#           $DATA/env and print its export lines (stdout) unless --quiet,
#           so `eval "$(scripts/services.sh up)"` works too.
#   down    Stop the PostgreSQL and Redis started by `up` (data is kept).
#   status  One line per service. Exit 0 when both answer, 3 otherwise.
#   env     Print the export lines written by the last `up`.
#
# Environment:
#   MINISHOP_DATA_DIR      data folder (default: <repo>/.minishop)
#   DATABASE_URL           use this PostgreSQL server instead of a private one
#   REDIS_URL              use this Redis server instead of a private one
#                          (URLs naming 127.0.0.1/localhost and the private
#                          port are taken as the private service, so an
#                          exported env file does not turn it "external")
#   MINISHOP_PG_PORT       private PostgreSQL port (default 54329, 127.0.0.1 only)
#   MINISHOP_REDIS_PORT    private Redis port (default 63799, 127.0.0.1 only)
#   MINISHOP_PG_FAST=1     fsync=off, synchronous_commit=off (tests; unsafe on crash)
#   MINISHOP_WAIT_TIMEOUT  seconds to wait for a service to answer (default 60)
#
# Layout of $DATA:
#   pg/        PostgreSQL cluster (superuser "minishop", database "minishop",
#              trust auth; it only listens on 127.0.0.1 and its own socket dir)
#   pg-run/    PostgreSQL unix socket directory
#   pg.log     PostgreSQL server log (initdb/pg_ctl output is appended too)
#   redis/     Redis dir: redis.conf, redis.pid, appendonlydir/ (AOF)
#   redis.log  Redis log
#   env        sourceable `export DATABASE_URL=... REDIS_URL=...`
#
# PostgreSQL refuses to run as root. When this script runs as root the cluster
# is owned and run by the unprivileged system user "minishop" (created on
# demand) via runuser. That user must be able to traverse every parent of
# $DATA; a checkout under /root (mode 700) is not traversable. In that case the
# cluster lives in /var/lib/minishop/<hash of $DATA>/{pg,pg-run,pg.log} and
# $DATA/pg and $DATA/pg.log are symlinks to it. The symlink is the record of
# that decision, so later runs never re-decide (and never silently start a
# second, empty cluster). /var/lib rather than /var/tmp because /var/tmp is
# age-cleaned by systemd-tmpfiles, which could delete an idle cluster's files.
# Removing $DATA resets everything: an orphaned /var/lib/minishop/<hash> for
# the same $DATA is deleted on the next `up`. Redis has no such restriction and
# runs as the invoking user with its files in $DATA/redis.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(dirname "$SCRIPT_DIR")"
DATA="$(realpath -m "${MINISHOP_DATA_DIR:-$REPO/.minishop}")"
PG_PORT="${MINISHOP_PG_PORT:-54329}"
REDIS_PORT="${MINISHOP_REDIS_PORT:-63799}"
PG_FAST="${MINISHOP_PG_FAST:-0}"
WAIT_TIMEOUT="${MINISHOP_WAIT_TIMEOUT:-60}"
PG_ROLE=minishop # bootstrap superuser and database name
PG_SYSTEM_USER=minishop
FALLBACK_ROOT=/var/lib/minishop
ENV_FILE="$DATA/env"
REDIS_DIR="$DATA/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$DATA/redis.log"
export PATH="$PATH:/usr/sbin:/sbin"

# DATABASE_URL / REDIS_URL that point at the private services (for example
# still exported by an earlier `eval "$(scripts/services.sh env)"`) are not
# external: `up` then starts the private service as usual.
pg_external() {
  [[ -n "${DATABASE_URL:-}" ]] &&
    ! [[ "$DATABASE_URL" =~ ^postgres(ql)?://[^@/]*@(127\.0\.0\.1|localhost):${PG_PORT}(/|\?|$) ]]
}
redis_external() {
  [[ -n "${REDIS_URL:-}" ]] &&
    ! [[ "$REDIS_URL" =~ ^redis://([^@/]*@)?(127\.0\.0\.1|localhost):${REDIS_PORT}(/|$) ]]
}

QUIET=0
info() { ((QUIET)) || printf 'services: %s\n' "$*" >&2; }
err() { printf 'services: error: %s\n' "$*" >&2; }
die() {
  err "$*"
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }
shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
mask_url() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }
# A pid is alive if it exists and is not a zombie (a container init may reap late).
pid_alive() {
  local st
  [[ "$1" =~ ^[0-9]+$ ]] || return 1
  st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  st="${st##*) }"
  [[ "${st%% *}" != Z && "${st%% *}" != X ]]
}
port_in_use() { timeout 2 bash -c ">/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
tail_log() { [[ -r "$1" ]] && tail -n 20 "$1" | sed 's/^/    /' >&2 || true; }

# Serialise up/down for one data folder (fd 9). Daemons are started with fd 9
# closed (9>&-), otherwise they would inherit it and hold the lock forever.
take_lock() {
  mkdir -p "$DATA"
  exec 9>"$DATA/.lock"
  flock -w 300 9 || die "another services.sh is still running for $DATA (lock $DATA/.lock)"
}

# ---------------------------------------------------------------- PostgreSQL --

PGBIN=""
PG_BASE=""    # folder holding pg/, pg-run/, pg.log (either $DATA or the fallback)
PGDATA_DIR="" # the cluster, resolved (no symlink)
PG_SOCK_DIR=""
PG_LOG=""
PG_OS_USER=""

# Find a directory holding initdb, pg_ctl and postgres of the wanted major
# version (any if empty): the one behind `pg_ctl` on PATH (e.g. /usr/local/bin
# symlinks) first, then Debian's /usr/lib/postgresql/N/bin, newest first.
find_pgbin() {
  local want="${1:-}" c d v
  local -a cands=()
  c="$(command -v pg_ctl 2>/dev/null || true)"
  [[ -n "$c" ]] && cands+=("$(dirname "$(readlink -f "$c")")")
  while IFS= read -r d; do cands+=("$d"); done < <(
    ls -d /usr/lib/postgresql/*/bin /usr/pgsql-*/bin 2>/dev/null | sort -V -r
  )
  for d in "${cands[@]}"; do
    [[ -x "$d/pg_ctl" && -x "$d/initdb" && -x "$d/postgres" ]] || continue
    if [[ -n "$want" ]]; then
      v="$("$d/pg_ctl" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')"
      [[ "$v" == "$want" ]] || continue
    fi
    PGBIN="$d"
    return 0
  done
  return 1
}

# Client tools: the matching ones next to the server if present, else PATH.
pgtool() {
  if [[ -n "$PGBIN" && -x "$PGBIN/$1" ]]; then
    echo "$PGBIN/$1"
  elif have "$1"; then
    command -v "$1"
  else
    die "$1 not found (install postgresql-client)"
  fi
}

# Run a command as the cluster's OS user, from / (the caller's cwd may be unreadable).
as_pg() {
  if [[ "$PG_OS_USER" == "$(id -un)" ]]; then
    (cd / && "$@")
  elif have runuser; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    (cd / && su -s /bin/bash "$PG_OS_USER" -c "$(printf '%q ' "$@")")
  fi
}

ensure_system_user() {
  id -u "$PG_SYSTEM_USER" >/dev/null 2>&1 && return 0
  info "creating system user $PG_SYSTEM_USER (PostgreSQL does not run as root)"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    "$PG_SYSTEM_USER" 2>/dev/null || id -u "$PG_SYSTEM_USER" >/dev/null 2>&1 ||
    die "could not create system user $PG_SYSTEM_USER"
}

fallback_base() {
  echo "$FALLBACK_ROOT/$(printf '%s' "$DATA" | sha256sum | cut -c1-12)"
}

# Set PG_BASE/PGDATA_DIR/... from what exists on disk. Returns 1 if no cluster folder yet.
pg_resolve_existing() {
  local link="$DATA/pg"
  if [[ -L "$link" ]]; then
    PG_BASE="$(dirname "$(readlink -m "$link")")"
  elif [[ -d "$link" ]]; then
    PG_BASE="$DATA"
  else
    return 1
  fi
  PGDATA_DIR="$PG_BASE/pg"
  PG_SOCK_DIR="$PG_BASE/pg-run"
  PG_LOG="$PG_BASE/pg.log"
  PG_OS_USER="$(id -un)"
  if is_root && [[ -d "$PGDATA_DIR" ]]; then
    PG_OS_USER="$(stat -c %U "$PGDATA_DIR")"
    if [[ "$PG_OS_USER" == root || "$PG_OS_USER" == UNKNOWN ]]; then
      PG_OS_USER="$PG_SYSTEM_USER"
    fi
  elif is_root; then
    PG_OS_USER="$PG_SYSTEM_USER"
  fi
  return 0
}

# Decide and create the cluster layout (first run, or after the folder was removed).
pg_prepare_layout() {
  if ! pg_resolve_existing; then
    PG_BASE="$DATA"
    if is_root; then
      ensure_system_user
      PG_OS_USER="$PG_SYSTEM_USER"
      if ! as_pg test -x "$DATA"; then
        PG_BASE="$(fallback_base)"
        info "$PG_SYSTEM_USER cannot reach $DATA; keeping the cluster in $PG_BASE (linked from $DATA/pg)"
        if [[ -e "$PG_BASE" ]]; then
          # Left over from an earlier $DATA that was deleted: a reset was intended.
          info "removing orphaned cluster $PG_BASE"
          PGDATA_DIR="$PG_BASE/pg"
          PG_LOG=/dev/null
          if pg_running_pid >/dev/null; then pg_ctl_as stop -m immediate -w -t 60 || true; fi
          rm -rf "$PG_BASE"
        fi
        mkdir -p "$FALLBACK_ROOT" "$PG_BASE"
        chmod 755 "$FALLBACK_ROOT" "$PG_BASE"
        printf '%s\n' "$DATA" >"$PG_BASE/origin"
        install -d -m 700 -o "$PG_SYSTEM_USER" -g "$PG_SYSTEM_USER" "$PG_BASE/pg"
        ln -sfn "$PG_BASE/pg" "$DATA/pg"
        ln -sfn "$PG_BASE/pg.log" "$DATA/pg.log"
      fi
    else
      PG_OS_USER="$(id -un)"
    fi
    PGDATA_DIR="$PG_BASE/pg"
    PG_SOCK_DIR="$PG_BASE/pg-run"
    PG_LOG="$PG_BASE/pg.log"
    mkdir -p -m 700 "$PGDATA_DIR"
  fi
  [[ -d "$PGDATA_DIR" ]] || install -d -m 700 "$PGDATA_DIR" # symlink target was removed
  mkdir -p -m 700 "$PG_SOCK_DIR"
  touch "$PG_LOG"
  if is_root; then
    [[ "$PG_OS_USER" == "$PG_SYSTEM_USER" ]] && ensure_system_user
    if [[ "$(stat -c %U "$PGDATA_DIR")" != "$PG_OS_USER" ]]; then
      chown -R "$PG_OS_USER:" "$PGDATA_DIR"
    fi
    chown "$PG_OS_USER:" "$PG_SOCK_DIR" "$PG_LOG"
  fi
}

pg_initialized() {
  [[ -f "$PGDATA_DIR/PG_VERSION" ]] &&
    grep -qx "include = 'minishop.conf'" "$PGDATA_DIR/postgresql.conf" 2>/dev/null
}

pg_init() {
  local locale=C
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
  if [[ -n "$(ls -A "$PGDATA_DIR" 2>/dev/null)" ]]; then
    # initdb was interrupted (our include line is only added after it succeeded).
    local aside
    aside="$PGDATA_DIR.incomplete-$(date +%Y%m%d%H%M%S)"
    info "moving incomplete cluster aside to $aside"
    mv "$PGDATA_DIR" "$aside"
    install -d -m 700 "$PGDATA_DIR"
    is_root && chown "$PG_OS_USER:" "$PGDATA_DIR"
  fi
  info "initialising PostgreSQL cluster in $PGDATA_DIR"
  {
    echo "---- initdb $(date -u +%FT%TZ)"
    as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U "$PG_ROLE" --auth=trust -E UTF8 \
      --locale="$locale"
  } >>"$PG_LOG" 2>&1 9>&- || {
    tail_log "$PG_LOG"
    die "initdb failed; see $PG_LOG"
  }
  printf "\n# Local settings for Minishop development.\ninclude = 'minishop.conf'\n" \
    >>"$PGDATA_DIR/postgresql.conf"
}

# Rewrite minishop.conf; returns 0 when its content changed.
pg_write_conf() {
  local f="$PGDATA_DIR/minishop.conf" tmp sock="$PG_SOCK_DIR" fsync=on sync=on
  # sun_path is 108 bytes: a deep $DATA cannot host the socket; TCP still works.
  if ((${#sock} + 20 > 107)); then
    info "socket path under $sock would be too long; unix socket disabled"
    sock=""
  fi
  if [[ "$PG_FAST" == 1 ]]; then
    fsync=off
    sync=off
  fi
  tmp="$(mktemp)"
  cat >"$tmp" <<EOF
# Managed by scripts/services.sh; rewritten on every 'up'.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sock'
max_connections = 300
fsync = $fsync
synchronous_commit = $sync
EOF
  if [[ -f "$f" ]] && cmp -s "$tmp" "$f"; then
    rm -f "$tmp"
    return 1
  fi
  chmod 644 "$tmp"
  is_root && chown "$PG_OS_USER:" "$tmp"
  mv "$tmp" "$f"
  return 0
}

pidfile_line() { sed -n "${1}p" "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true; }

# Print the postmaster pid if our cluster is running. Checks that the pid in
# postmaster.pid is a live postgres whose cwd is this cluster, so a pid reused
# by another process after a crash or reboot is not mistaken for the server.
pg_running_pid() {
  local pid comm cwd
  pid="$(pidfile_line 1)"
  pid_alive "$pid" || return 1
  comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
  [[ "$comm" == postgres || "$comm" == postmaster ]] || return 1
  if cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null)"; then
    [[ "$cwd" == "$(realpath -m "$PGDATA_DIR")" ]] || return 1
  fi
  echo "$pid"
}

# Print "pid state" of live processes whose name matches regex $1 and whose
# working directory is $2 ("live") or $2 after it was deleted ("deleted").
# postgres and redis-server chdir into their data folder, so this finds them
# even without a usable pidfile. Uses builtins only (no fork per process).
procs_in_dir() {
  local re="$1" dir="$2" p comm cwd
  for p in /proc/[0-9]*; do
    comm=""
    read -r comm 2>/dev/null <"$p/comm" || continue
    [[ "$comm" =~ $re ]] || continue
    pid_alive "${p#/proc/}" || continue
    cwd="$(readlink "$p/cwd" 2>/dev/null)" || continue
    if [[ "$cwd" == "$dir" ]]; then
      echo "${p#/proc/} live"
    elif [[ "$cwd" == "$dir (deleted)" ]]; then
      echo "${p#/proc/} deleted"
    fi
  done
}

# Stop processes left behind by a crash or by deleting the data folder while
# they ran. Those with a deleted cwd get signal $3 at once; the others (e.g.
# backends of a kill -9'd postmaster, which keep the shared memory attached
# and make a new postmaster refuse to start) get 10s to exit, then $3, then KILL.
stop_leftovers() {
  local re="$1" dir="$2" sig="$3" what="$4" i pid state
  local -a live deleted
  for ((i = 0; i < 100; i++)); do
    live=()
    deleted=()
    while read -r pid state; do
      if [[ "$state" == deleted ]]; then deleted+=("$pid"); else live+=("$pid"); fi
    done < <(procs_in_dir "$re" "$dir")
    ((${#live[@]} + ${#deleted[@]} == 0)) && return 0
    if ((${#deleted[@]} > 0)); then
      ((i == 0)) && info "stopping $what whose data folder was deleted (pid ${deleted[*]})"
      kill "-$sig" "${deleted[@]}" 2>/dev/null || true
    fi
    ((i == 0 && ${#live[@]} > 0)) && info "waiting for leftover $what process(es) ${live[*]} to exit"
    ((i == 50 && ${#live[@]} > 0)) && { kill "-$sig" "${live[@]}" 2>/dev/null || true; }
    ((i >= 80)) && { kill -KILL "${live[@]}" "${deleted[@]}" 2>/dev/null || true; }
    sleep 0.2
  done
  die "leftover $what processes still running: ${live[*]} ${deleted[*]}"
}

pg_wait_orphans() {
  # SIGQUIT = immediate shutdown for a postmaster, quick exit for a backend.
  stop_leftovers '^(postgres|postmaster)$' "$(realpath -m "$PGDATA_DIR")" QUIT postgres
}

pg_ready() {
  "$(pgtool pg_isready)" -q -h 127.0.0.1 -p "$1" -U "$PG_ROLE" -d postgres -t 2
}

pg_psql() {
  "$(pgtool psql)" "host=127.0.0.1 port=$PG_PORT user=$PG_ROLE dbname=postgres sslmode=disable" \
    -XtAq -v ON_ERROR_STOP=1 "$@"
}

wait_pg() {
  local deadline=$((SECONDS + WAIT_TIMEOUT))
  until pg_ready "$PG_PORT"; do
    if ((SECONDS >= deadline)); then
      tail_log "$PG_LOG"
      die "PostgreSQL did not answer on 127.0.0.1:$PG_PORT within ${WAIT_TIMEOUT}s; see $PG_LOG"
    fi
    sleep 0.2
  done
}

pg_ctl_as() {
  local action="$1"
  shift
  {
    echo "---- pg_ctl $action $(date -u +%FT%TZ)"
    as_pg "$PGBIN/pg_ctl" "$action" -D "$PGDATA_DIR" "$@"
  } >>"$PG_LOG" 2>&1 </dev/null 9>&-
}

pg_start() {
  local pid
  pid="$(pidfile_line 1)"
  if [[ "$pid" =~ ^[0-9]+$ && -d "/proc/$pid" ]]; then
    # The pid is a zombie or was reused by an unrelated process: postgres would
    # see it as alive and refuse to start.
    info "removing stale postmaster.pid (pid $pid no longer runs this cluster)"
    rm -f "$PGDATA_DIR/postmaster.pid"
  fi
  # Same for the socket lock files; the socket dir belongs to this cluster only.
  local lock lpid
  for lock in "$PG_SOCK_DIR"/.s.PGSQL.*.lock; do
    [[ -f "$lock" ]] || continue
    lpid="$(head -n1 "$lock" 2>/dev/null || true)"
    if ! pid_alive "$lpid" || ! [[ "$(cat "/proc/$lpid/comm" 2>/dev/null)" =~ ^(postgres|postmaster)$ ]]; then
      rm -f "$lock" "${lock%.lock}"
    fi
  done
  pg_wait_orphans
  if port_in_use "$PG_PORT"; then
    die "port $PG_PORT on 127.0.0.1 is used by another process; set MINISHOP_PG_PORT or DATABASE_URL"
  fi
  info "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  pg_ctl_as start -l "$PG_LOG" -w -t "$WAIT_TIMEOUT" || {
    tail_log "$PG_LOG"
    die "PostgreSQL failed to start; see $PG_LOG"
  }
}

pg_up() {
  local pid conf_changed=0 ver
  find_pgbin || die "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; apt-get install postgresql"
  pg_prepare_layout
  if [[ -f "$PGDATA_DIR/PG_VERSION" ]]; then
    ver="$(cat "$PGDATA_DIR/PG_VERSION")"
    find_pgbin "$ver" || die "cluster $PGDATA_DIR needs PostgreSQL $ver binaries (not found);" \
      "install postgresql-$ver or remove $DATA/pg (loses data)"
  fi
  pg_initialized || pg_init
  pg_write_conf && conf_changed=1

  if pid="$(pg_running_pid)"; then
    if [[ "$(pidfile_line 4)" != "$PG_PORT" ]]; then
      info "PostgreSQL runs on port $(pidfile_line 4); restarting on $PG_PORT"
      pg_ctl_as stop -m fast -w -t 60 || die "could not stop PostgreSQL; see $PG_LOG"
      pg_start
    elif ((conf_changed)); then
      info "reloading PostgreSQL configuration"
      pg_ctl_as reload || die "pg_ctl reload failed; see $PG_LOG"
      wait_pg
      if [[ "$(pg_psql -c 'select count(*) from pg_settings where pending_restart')" != 0 ]]; then
        info "restarting PostgreSQL for changed settings"
        pg_ctl_as restart -m fast -l "$PG_LOG" -w -t "$WAIT_TIMEOUT" || die "restart failed; see $PG_LOG"
      fi
    else
      info "PostgreSQL already running (pid $pid)"
    fi
  else
    pg_start
  fi
  wait_pg
  if [[ "$(pg_psql -c "select 1 from pg_database where datname = '$PG_ROLE'")" != 1 ]]; then
    info "creating database $PG_ROLE"
    pg_psql -c "create database $PG_ROLE owner $PG_ROLE" || die "could not create database $PG_ROLE"
  fi
}

pg_down() {
  pg_resolve_existing || return 0
  pg_stop_if_running
}

pg_stop_if_running() {
  [[ -f "$PGDATA_DIR/PG_VERSION" ]] || return 0
  if pg_running_pid >/dev/null; then
    find_pgbin "$(cat "$PGDATA_DIR/PG_VERSION")" || find_pgbin || die "pg_ctl not found"
    info "stopping PostgreSQL"
    pg_ctl_as stop -m fast -w -t 60 || die "could not stop PostgreSQL; see $PG_LOG"
  else
    info "PostgreSQL not running"
  fi
}

pg_status() {
  local pid
  if pg_external; then
    if "$(pgtool pg_isready)" -q -d "$DATABASE_URL" -t 3; then
      echo "postgres: external, answering ($(mask_url "$DATABASE_URL"))"
      return 0
    fi
    echo "postgres: external, NOT answering ($(mask_url "$DATABASE_URL"))"
    return 1
  fi
  if ! pg_resolve_existing || [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
    echo "postgres: not initialised ($DATA/pg)"
    return 1
  fi
  find_pgbin "$(cat "$PGDATA_DIR/PG_VERSION")" || true
  if pid="$(pg_running_pid)"; then
    local port
    port="$(pidfile_line 4)"
    if pg_ready "$port"; then
      echo "postgres: running, pid $pid, 127.0.0.1:$port, data $PGDATA_DIR"
      return 0
    fi
    echo "postgres: running but not answering, pid $pid, 127.0.0.1:$port (see $PG_LOG)"
    return 1
  fi
  echo "postgres: stopped (data $PGDATA_DIR)"
  return 1
}

# --------------------------------------------------------------------- Redis --

redis_cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }
redis_ping() { [[ "$(redis_cli "$1" ping 2>/dev/null)" == PONG ]]; }

# Print the pid of our redis-server: the pidfile's pid if it is a live
# redis-server working in our dir, else any redis-server working in our dir.
redis_running_pid() {
  local pid cwd state dir
  dir="$(realpath -m "$REDIS_DIR")"
  pid="$(cat "$REDIS_PIDFILE" 2>/dev/null || true)"
  if pid_alive "$pid" && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == redis-server* ]]; then
    if ! cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null)" || [[ "$cwd" == "$dir" ]]; then
      echo "$pid"
      return 0
    fi
  fi
  while read -r pid state; do
    [[ "$state" == live ]] && echo "$pid" && return 0
  done < <(procs_in_dir '^redis-server' "$dir")
  return 1
}

# Port the running instance was started with (from the config it was started with).
redis_conf_port() { awk '$1 == "port" { print $2 }' "$REDIS_CONF" 2>/dev/null; }

redis_write_conf() {
  local tmp
  tmp="$(mktemp)"
  cat >"$tmp" <<EOF
# Managed by scripts/services.sh; rewritten on every 'up'.
bind 127.0.0.1
protected-mode yes
port $REDIS_PORT
daemonize yes
pidfile "$REDIS_PIDFILE"
logfile "$REDIS_LOG"
dir "$REDIS_DIR"
databases 256
appendonly yes
appendfsync everysec
save ""
EOF
  chmod 644 "$tmp"
  mv "$tmp" "$REDIS_CONF"
}

redis_stop_pid() {
  local pid="$1" port="$2" i
  redis_cli "$port" shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.2
  done
  die "redis-server (pid $pid) did not stop; see $REDIS_LOG"
}

redis_up() {
  local pid out
  if ! have redis-server || ! have redis-cli; then
    info "redis-server not found; installing it"
    "$SCRIPT_DIR/ensure-tools.sh" redis 9>&- || die "could not install Redis"
    hash -r
  fi
  mkdir -p "$REDIS_DIR"
  if pid="$(redis_running_pid)"; then
    local old_port
    old_port="$(redis_conf_port)"
    if [[ "$old_port" != "$REDIS_PORT" ]]; then
      info "Redis runs on port $old_port; restarting on $REDIS_PORT"
      redis_stop_pid "$pid" "$old_port"
    fi
  fi
  redis_write_conf
  if ! redis_running_pid >/dev/null; then
    stop_leftovers '^redis-server' "$(realpath -m "$REDIS_DIR")" TERM redis-server
  fi
  if pid="$(redis_running_pid)"; then
    info "Redis already running (pid $pid)"
  elif redis_ping "$REDIS_PORT"; then
    # Answering but no valid pidfile: ours only if it serves our dir.
    local dir
    dir="$(redis_cli "$REDIS_PORT" --raw config get dir 2>/dev/null | tail -n1 || true)"
    [[ "$dir" == "$(realpath "$REDIS_DIR")" ]] ||
      die "port $REDIS_PORT answers as another Redis (dir $dir); set MINISHOP_REDIS_PORT or REDIS_URL"
    info "Redis already running on 127.0.0.1:$REDIS_PORT"
  elif port_in_use "$REDIS_PORT"; then
    die "port $REDIS_PORT on 127.0.0.1 is used by another process; set MINISHOP_REDIS_PORT or REDIS_URL"
  else
    info "starting Redis on 127.0.0.1:$REDIS_PORT"
    out="$( (cd "$REDIS_DIR" && redis-server "$REDIS_CONF") 2>&1 </dev/null 9>&-)" || {
      printf '%s\n' "$out" >&2
      tail_log "$REDIS_LOG"
      die "redis-server failed to start; see $REDIS_LOG"
    }
  fi
  local deadline=$((SECONDS + WAIT_TIMEOUT))
  until redis_ping "$REDIS_PORT"; do
    if ((SECONDS >= deadline)); then
      tail_log "$REDIS_LOG"
      die "Redis did not answer on 127.0.0.1:$REDIS_PORT within ${WAIT_TIMEOUT}s; see $REDIS_LOG"
    fi
    sleep 0.2
  done
}

redis_down() {
  local pid
  if pid="$(redis_running_pid)"; then
    info "stopping Redis"
    redis_stop_pid "$pid" "$(redis_conf_port)"
  else
    info "Redis not running"
  fi
}

redis_status() {
  local pid port
  if redis_external; then
    if [[ "$(redis-cli --no-auth-warning -u "$REDIS_URL" ping 2>/dev/null)" == PONG ]]; then
      echo "redis: external, answering ($(mask_url "$REDIS_URL"))"
      return 0
    fi
    echo "redis: external, NOT answering ($(mask_url "$REDIS_URL"))"
    return 1
  fi
  if pid="$(redis_running_pid)"; then
    port="$(redis_conf_port)"
    if redis_ping "$port"; then
      echo "redis: running, pid $pid, 127.0.0.1:$port, dir $REDIS_DIR"
      return 0
    fi
    echo "redis: running but not answering, pid $pid, 127.0.0.1:$port (see $REDIS_LOG)"
    return 1
  fi
  echo "redis: stopped (dir $REDIS_DIR)"
  return 1
}

# ------------------------------------------------------------ external URLs --

wait_external_pg() {
  local deadline=$((SECONDS + WAIT_TIMEOUT)) rc
  while :; do
    rc=0
    "$(pgtool pg_isready)" -q -d "$DATABASE_URL" -t 3 || rc=$?
    ((rc == 0)) && return 0
    ((rc == 3)) && die "DATABASE_URL is not a valid connection string: $(mask_url "$DATABASE_URL")"
    ((SECONDS >= deadline)) && die "DATABASE_URL $(mask_url "$DATABASE_URL") did not answer within ${WAIT_TIMEOUT}s"
    sleep 0.5
  done
}

wait_external_redis() {
  local deadline=$((SECONDS + WAIT_TIMEOUT)) out
  have redis-cli || "$SCRIPT_DIR/ensure-tools.sh" redis 9>&- || die "could not install redis-cli"
  while :; do
    out="$(redis-cli --no-auth-warning -u "$REDIS_URL" ping 2>&1 || true)"
    [[ "$out" == PONG ]] && return 0
    ((SECONDS >= deadline)) && die "REDIS_URL $(mask_url "$REDIS_URL") did not answer within ${WAIT_TIMEOUT}s: $out"
    sleep 0.5
  done
}

# ------------------------------------------------------------------ commands --

cmd_up() {
  local db_url redis_url tmp
  take_lock
  if pg_external; then
    info "using DATABASE_URL from the environment: $(mask_url "$DATABASE_URL")"
    wait_external_pg
  else
    pg_up
  fi
  db_url="${DATABASE_URL:-postgres://$PG_ROLE@127.0.0.1:$PG_PORT/$PG_ROLE?sslmode=disable}"
  if redis_external; then
    info "using REDIS_URL from the environment: $(mask_url "$REDIS_URL")"
    wait_external_redis
  else
    redis_up
  fi
  redis_url="${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}"
  tmp="$(mktemp "$DATA/.env.XXXXXX")"
  {
    echo "# Written by scripts/services.sh up; use: . $(shell_quote "$ENV_FILE")"
    echo "export DATABASE_URL=$(shell_quote "$db_url")"
    echo "export REDIS_URL=$(shell_quote "$redis_url")"
  } >"$tmp"
  # Keep the file private when a URL carries a password.
  if [[ "$db_url$redis_url" =~ ://[^/@]*:[^/@]*@ ]]; then chmod 600 "$tmp"; else chmod 644 "$tmp"; fi
  mv "$tmp" "$ENV_FILE"
  info "services ready; environment in $ENV_FILE"
  ((QUIET)) || cat "$ENV_FILE"
}

cmd_down() {
  if [[ ! -d "$DATA" ]]; then
    # Deleted while running? Stop what still runs from the deleted folders.
    local fb
    fb="$(fallback_base)"
    if is_root && [[ -f "$fb/pg/PG_VERSION" ]]; then
      PG_BASE="$fb" PGDATA_DIR="$fb/pg" PG_SOCK_DIR="$fb/pg-run" PG_LOG="$fb/pg.log"
      PG_OS_USER="$(stat -c %U "$PGDATA_DIR")"
      pg_stop_if_running
    fi
    stop_leftovers '^(postgres|postmaster)$' "$DATA/pg" QUIT postgres
    stop_leftovers '^redis-server' "$DATA/redis" TERM redis-server
    info "nothing else to stop ($DATA does not exist)"
    return 0
  fi
  take_lock
  pg_down
  redis_down
}

cmd_status() {
  local rc=0
  pg_status || rc=3
  redis_status || rc=3
  return "$rc"
}

cmd_env() {
  [[ -f "$ENV_FILE" ]] || die "$ENV_FILE not found; run: scripts/services.sh up"
  cat "$ENV_FILE"
}

main() {
  local cmd="" arg
  for arg in "$@"; do
    case "$arg" in
      -q | --quiet) QUIET=1 ;;
      up | down | status | env)
        [[ -z "$cmd" ]] || die "only one command allowed"
        cmd="$arg"
        ;;
      -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
        return 0
        ;;
      *) die "unknown argument '$arg' (usage: $0 up|down|status|env [--quiet])" ;;
    esac
  done
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *) die "usage: $0 up|down|status|env [--quiet]" ;;
  esac
}

main "$@"
