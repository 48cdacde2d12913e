# shellcheck shell=bash
# Helpers shared by the node scripts. A script sets ME, then sources this file; when the program
# pipes a script to `sudo bash -s`, lib/scripts.ts inlines this file in place of that line.

log() { printf '%s: %s\n' "$ME" "$*" >&2; }

die() {
  printf '%s: error: %s\n' "$ME" "$*" >&2
  exit 1
}

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
  else
    printf 'manager\n'
  fi
}

locked_hint() {
  printf '%s' "the swarm on this node is locked (autolock is on and Docker restarted). Unlock it on this node with 'docker swarm unlock', entering the unlock key from 'pulumi stack output --show-secrets swarmUnlockKey', then run pulumi up again"
}
