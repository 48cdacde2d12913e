# shellcheck shell=bash
# Helpers shared by the node scripts. A script sets ME, then sources this file; when the program
# pipes a script to `sudo bash -s`, lib/scripts.ts inlines this file in place of that line.
# Everything here only defines functions and constants: inlining it runs nothing.

# ------------------------------------------------------------------------------ messages

# Progress and diagnostics go to stderr: stdout is reserved for the script's result.
log() { printf '%s: %s\n' "$ME" "$*" >&2; }

die() {
  printf '%s: error: %s\n' "$ME" "$*" >&2
  exit 1
}

# Exit status of a swarm-wide step that this manager can't run but another one may:
# any-manager.sh then tries the next manager.
readonly EXIT_NOT_HERE=75

not_here() {
  printf '%s: not here: %s\n' "$ME" "$*" >&2
  exit "$EXIT_NOT_HERE"
}

# -------------------------------------------------------------------------------- params

# Dies naming the first of the given variables that is unset or empty.
require_env() {
  local name
  for name in "$@"; do
    [[ -n ${!name:-} ]] || die "environment variable $name is required"
  done
}

# Sets variable $1 to $2 when it is unset or empty, then dies unless it is a whole number of
# seconds.
seconds_env() {
  local name=$1
  printf -v "$name" '%s' "${!name:-$2}"
  [[ ${!name} =~ ^[0-9]+$ ]] || die "$name must be a whole number of seconds, got '${!name}'"
}

# -------------------------------------------------------------------------------- docker

# Docker with stdin closed: the script itself arrives on stdin and must not be read by a command.
dk() { docker "$@" </dev/null; }

info() { dk info --format "$1"; }

# Prints "manager", "locked", or why this node cannot manage the swarm.
manager_status() {
  local s
  if ! s=$(info '{{.Swarm.LocalNodeState}}'); then
    printf 'the Docker daemon is not answering\n'
  elif [[ $s == locked ]]; then
    printf 'locked\n'
  elif [[ $s != active ]]; then
    printf 'this node is not in a swarm (state %s)\n' "$s"
  elif [[ $(info '{{.Swarm.ControlAvailable}}') != true ]]; then
    printf 'this node is a worker, not a manager\n'
  elif ! dk node ls -q >/dev/null 2>&1; then
    # A manager cut off from the majority answers `docker info` but no swarm-wide request.
    printf 'this manager has no quorum (the swarm has no leader it can reach)\n'
  else
    printf 'manager\n'
  fi
}

locked_hint() {
  printf '%s' "the swarm on this node is locked (autolock is on and Docker restarted). Unlock it on this node with 'docker swarm unlock', entering the unlock key from 'pulumi stack output --show-secrets swarmUnlockKey', then run pulumi up again"
}

# Exits "not here" unless this node is a manager of an unlocked swarm with quorum, so that
# any-manager.sh tries another manager; $1 says why a manager is needed.
require_manager() {
  local status
  status=$(manager_status)
  [[ $status != locked ]] || not_here "$(locked_hint)"
  [[ $status == manager ]] || not_here "$status; $1"
}

# ------------------------------------------------------------------------- files, retries

# Runs a command up to $1 times, $2 seconds apart, until it succeeds; returns 1 if no attempt
# did. The command line is logged on failure: never pass a secret in it.
retry() {
  local attempts=$1 delay=$2 attempt
  shift 2
  for ((attempt = 1; ; attempt++)); do
    if "$@"; then return 0; fi
    if ((attempt >= attempts)); then return 1; fi
    log "attempt $attempt of $attempts failed: $*; retrying in ${delay}s"
    sleep "$delay"
  done
}

# Writes stdin to file $1 (mode $2) if its content differs; returns 0 if it changed the file, 1
# if the file already had that content. Missing parent directories are created (mode 0755).
write_if_changed() {
  local file=$1 mode=$2 dir tmp
  # Called in conditions, where `set -e` is off: every step checks for itself.
  dir=$(dirname "$file")
  [[ -d $dir ]] || install -d -m 0755 "$dir" || die "cannot create the directory $dir"
  tmp=$(mktemp "$file.XXXXXX") || die "cannot create a temporary file next to $file"
  cat >"$tmp" || die "cannot write $tmp"
  chmod "$mode" "$tmp" || die "cannot chmod $tmp"
  if [[ -f $file ]] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$file" || die "cannot replace $file"
  log "wrote $file"
}

# How long apt may wait for the dpkg lock held by unattended-upgrades / apt-daily at first boot.
readonly APT_LOCK_TIMEOUT=600

# apt-get, non-interactive, that waits for the dpkg lock and retries transient failures (lock on
# the lists, mirror hiccups) a bounded number of times. Its output goes to stderr.
apt_get() {
  local -x DEBIAN_FRONTEND=noninteractive
  retry 5 10 apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" -o Acquire::Retries=3 "$@" </dev/null >&2 ||
    die "apt-get $* kept failing; see the messages above"
}
