#!/usr/bin/env bash
set -euo pipefail

# swarm-token.sh: reads a secret of the swarm on a manager (any-manager.sh picks one).
#
# Verbs:  worker | manager   stdout: that role's join token (SWMTKN-...)
#         unlock-key         stdout: the swarm unlock key, empty when autolock is off
# Env:    none
# Run as: sudo bash -s <verb>   (script on stdin, rendered by lib/scripts.ts)
#
# Read-only, so safe to run any number of times. The values are secrets: the remote command must
# mark stdout secret and must not log it.

readonly ME=swarm-token
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

main() {
  local verb=${1:-}
  case $verb in
    worker | manager | unlock-key) ;;
    *) die "usage: bash -s worker|manager|unlock-key (got '${verb}')" ;;
  esac
  require_manager "tokens are read on a manager"
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
