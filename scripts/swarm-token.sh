#!/usr/bin/env bash
set -euo pipefail

# swarm-token.sh: reads a secret of the swarm on a manager (any-manager.sh picks one).
#
# Verbs:  worker | manager   stdout: that role's join token (SWMTKN-...)
#         unlock-key         stdout: the swarm unlock key, empty when autolock is off
#         rotate             TOKEN_GENERATION > 0: rotate both join tokens (nodes already in the
#                            swarm are unaffected); 0: nothing (the first generation). stdout: the
#                            generation
# Env:    TOKEN_GENERATION   (rotate only) the swarm.tokenGeneration it was run for
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
    worker | manager | unlock-key | rotate) ;;
    *) die "usage: bash -s worker|manager|unlock-key|rotate (got '${verb}')" ;;
  esac
  require_manager "tokens are read on a manager"
  local value
  case $verb in
    worker | manager)
      value=$(dk swarm join-token -q "$verb")
      [[ -n $value ]] || die "docker returned an empty $verb join token"
      printf '%s\n' "$value"
      ;;
    rotate)
      [[ ${TOKEN_GENERATION:-} =~ ^[0-9]+$ ]] || die "TOKEN_GENERATION must be a whole number, got '${TOKEN_GENERATION:-}'"
      if ((TOKEN_GENERATION > 0)); then
        # The new tokens are printed: they must go nowhere (the read commands fetch them).
        dk swarm join-token --rotate -q worker >/dev/null
        dk swarm join-token --rotate -q manager >/dev/null
        log "rotated both join tokens (generation $TOKEN_GENERATION)"
      fi
      printf '%s\n' "$TOKEN_GENERATION"
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
