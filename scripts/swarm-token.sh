#!/usr/bin/env bash
set -euo pipefail

# swarm-token.sh: reads a secret of the swarm on the first manager.
#
# Verbs:  worker | manager   stdout: that role's join token (SWMTKN-...)
#         unlock-key         stdout: the swarm unlock key, empty when autolock is off
# Env:    none
# Run as: sudo bash -s <verb>   (script on stdin, rendered by lib/scripts.ts)
#
# Read-only, so safe to run any number of times. The values are secrets: the remote command must
# mark stdout secret and must not log it.

readonly ME=swarm-token

log() { printf '%s: %s\n' "$ME" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$ME" "$*" >&2
  exit 1
}
dk() { docker "$@" </dev/null; }
info() { dk info --format "$1"; }

require_manager() {
  local state
  state=$(info '{{.Swarm.LocalNodeState}}') ||
    die "the Docker daemon is not answering; is Docker running on this node (wait-ready.sh)?"
  case $state in
    active) ;;
    locked) die "the swarm on this node is locked (autolock is on and Docker restarted). Unlock it on this node with 'docker swarm unlock', entering the unlock key from 'pulumi stack output --show-secrets swarmUnlockKey', then run pulumi up again" ;;
    *) die "this node is not an active swarm member (state '$state'); swarm-init.sh must succeed on it first" ;;
  esac
  [[ $(info '{{.Swarm.ControlAvailable}}') == true ]] ||
    die "this node is a worker; tokens can only be read on a manager (run this on the first manager)"
}

main() {
  local verb=${1:-}
  case $verb in
    worker | manager | unlock-key) ;;
    *) die "usage: bash -s worker|manager|unlock-key (got '${verb}')" ;;
  esac
  require_manager
  local value
  case $verb in
    worker | manager)
      value=$(dk swarm join-token -q "$verb")
      [[ -n $value ]] || die "docker returned an empty $verb join token"
      printf '%s\n' "$value"
      ;;
    unlock-key)
      # `docker swarm unlock-key` fails when autolock is off; the contract is an empty result.
      if [[ $(info '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}') == true ]]; then
        dk swarm unlock-key -q
      else
        log "autolock is off: there is no unlock key"
      fi
      ;;
  esac
}

main "$@"
