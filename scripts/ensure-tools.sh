#!/usr/bin/env bash
# Install developer tools from the Debian archive, but only when they are missing.
#
# Usage: scripts/ensure-tools.sh TOOL...
#
#   TOOL       checked binary                  Debian package(s) installed when missing
#   redis      redis-server and redis-cli      redis-server redis-tools
#   chromium   chromium (or chromium-browser)  chromium
#   xmllint    xmllint                         libxml2-utils
#   wrk        wrk                             wrk
#   hey        hey                             hey
#   pgbench    pgbench                         postgresql-contrib
#   cjkfont    a Chinese font (fc-list :lang=zh) fonts-wqy-microhei (screenshots in Chinese)
#
# Exits 0 without touching apt when every requested tool is already on PATH.
# Otherwise it needs root (or password-less sudo) and:
#   * runs `apt-get update` only when the package lists are older than
#     MINISHOP_APT_MAX_AGE seconds (default 3600) or missing;
#   * waits up to MINISHOP_APT_LOCK_TIMEOUT seconds (default 300) for another
#     apt/dpkg process to release its locks instead of failing;
#   * installs with --no-install-recommends, non-interactively, keeping
#     existing config files.
# Progress goes to stderr; nothing is printed on stdout.
set -euo pipefail

APT_MAX_AGE="${MINISHOP_APT_MAX_AGE:-3600}"
APT_LOCK_TIMEOUT="${MINISHOP_APT_LOCK_TIMEOUT:-300}"
# Debian's pg_wrapper lives in /usr/bin, server binaries often in /usr/lib/postgresql/N/bin.
export PATH="$PATH:/usr/sbin:/sbin"

log() { printf 'ensure-tools: %s\n' "$*" >&2; }
die() { printf 'ensure-tools: error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

# tool_present TOOL: 0 when the tool's binaries are usable, 1 when missing, 2 when unknown.
tool_present() {
  case "$1" in
    redis) have redis-server && have redis-cli ;;
    chromium) have chromium || have chromium-browser ;;
    xmllint) have xmllint ;;
    wrk) have wrk ;;
    hey) have hey ;;
    pgbench) have pgbench ;;
    cjkfont) have fc-list && [[ -n "$(fc-list :lang=zh 2>/dev/null)" ]] ;;
    *) return 2 ;;
  esac
}

tool_packages() {
  case "$1" in
    redis) echo "redis-server redis-tools" ;;
    chromium) echo "chromium" ;;
    xmllint) echo "libxml2-utils" ;;
    wrk) echo "wrk" ;;
    hey) echo "hey" ;;
    pgbench) echo "postgresql-contrib" ;;
    cjkfont) echo "fonts-wqy-microhei fontconfig" ;;
  esac
}

# Seconds since the package lists were last refreshed (a large number if never).
lists_age() {
  local newest=0 t f
  # No downloaded index at all means `apt-get update` never ran (e.g. after docker-clean).
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    echo 999999999
    return
  fi
  for f in /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists /var/lib/apt/lists/partial; do
    [[ -e "$f" ]] || continue
    t="$(stat -c %Y "$f" 2>/dev/null || echo 0)"
    ((t > newest)) && newest="$t"
  done
  echo $(($(date +%s) - newest))
}

SUDO=()
need_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    return
  fi
  if have sudo && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
    return
  fi
  die "installing $* needs root; run: sudo apt-get install -y $*"
}

# apt_run CMD...: run an apt/dpkg command as root. `apt-get install` waits for the
# dpkg frontend lock by itself (DPkg::Lock::Timeout), but `apt-get update` fails
# at once when another process holds /var/lib/apt/lists/lock (apt 2.6), so any
# "Could not get lock" failure is retried here until APT_LOCK_TIMEOUT expires.
APT_OUT=""
apt_run() {
  local deadline=$(($(date +%s) + APT_LOCK_TIMEOUT)) rc out
  out="$(mktemp)"
  while :; do
    rc=0
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "$@" 2>&1 | tee "$out" >&2 || rc="${PIPESTATUS[0]}"
    APT_OUT="$(cat "$out")"
    if ((rc != 0)) && grep -qiE 'could not get lock|unable to (acquire|lock)' "$out" &&
      (($(date +%s) < deadline)); then
      log "apt is busy (another process holds its lock); retrying in 5s"
      sleep 5
      continue
    fi
    rm -f "$out"
    return "$rc"
  done
}

APT_OPTS=(-q -o "DPkg::Lock::Timeout=$APT_LOCK_TIMEOUT"
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

apt_update() {
  log "running apt-get update"
  apt_run apt-get "${APT_OPTS[@]}" update || return
  # Same stamp apt's periodic job uses; lets the next run skip the update.
  "${SUDO[@]}" mkdir -p /var/lib/apt/periodic
  "${SUDO[@]}" touch /var/lib/apt/periodic/update-success-stamp
}

apt_install() {
  log "installing: $*"
  apt_run apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "$@"
}

main() {
  (($# > 0)) || usage
  local tool rc missing_tools=() pkgs=() updated=0
  for tool in "$@"; do
    case "$tool" in -h | --help) usage ;; esac
    rc=0
    tool_present "$tool" || rc=$?
    case "$rc" in
      0) ;;
      1)
        missing_tools+=("$tool")
        # shellcheck disable=SC2207  # package names never contain spaces or globs
        pkgs+=($(tool_packages "$tool"))
        ;;
      *) die "unknown tool '$tool' (known: redis chromium xmllint wrk hey pgbench)" ;;
    esac
  done
  ((${#pkgs[@]} > 0)) || return 0

  have apt-get || die "${missing_tools[*]} missing and apt-get not available; install: ${pkgs[*]}"
  need_root "${pkgs[@]}"

  if (($(lists_age) > APT_MAX_AGE)); then
    apt_update || die "apt-get update failed"
    updated=1
  fi

  if ! apt_install "${pkgs[@]}"; then
    if grep -q 'dpkg --configure -a' <<<"$APT_OUT"; then
      log "dpkg was interrupted earlier; running dpkg --configure -a"
      apt_run dpkg --configure -a || die "dpkg --configure -a failed"
    elif ((updated == 0)); then
      # Stale lists give "Unable to locate package" or 404s: refresh once.
      apt_update || die "apt-get update failed"
    fi
    apt_install "${pkgs[@]}" || die "apt-get install ${pkgs[*]} failed"
  fi

  hash -r
  for tool in "${missing_tools[@]}"; do
    tool_present "$tool" || die "installed ${pkgs[*]} but '$tool' is still not on PATH"
  done
  log "ready: ${missing_tools[*]}"
}

main "$@"
