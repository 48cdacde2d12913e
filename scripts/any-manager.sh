#!/usr/bin/env bash
set -euo pipefail

# any-manager.sh: runs a node script on the first manager that can run it. It runs where
# `pulumi up` runs (a local command), not on a node: the swarm-wide steps (init, tokens, labels,
# node removal, stack deploy) must not depend on one particular manager being alive.
#
# Usage: bash -c "$AWS_SWARM_ANY_MANAGER" any-manager [--or-skip] [VERB]
#   VERB       passed to the node script (`sudo bash -s VERB`)
#   --or-skip  for delete steps: when no manager can be reached (all powered off, or the cluster
#              is gone), report it and exit 0 instead of failing, so a destroy or scale-down
#              moves on instead of blocking on a dead host
# Stdin: the node script, rendered by lib/scripts.ts.
# Env:
#   MANAGERS          `public=private` address pairs, space-separated, in config order
#   SSH_USER          the login on the nodes
#   SSH_PRIVATE_KEY   its key (secret: written to a 0600 temporary file, removed on exit)
#   CONNECT_TIMEOUT   seconds per SSH connection attempt (optional, default 5)
#   PULUMI_COMMAND_STDOUT  the previous run's stdout, set by the command provider on an update;
#                     handed to the node script as PREVIOUS_STDOUT
# Stdout: the node script's stdout, from the manager that ran it.
#
# Each manager is tried in config order. One that can't be reached (ssh exits 255) or whose script
# exits 75 ("not here": not a manager, locked, no quorum, or the node the step is about) is
# skipped; the first exit 0 wins. Any other exit is a real failure of the step and is not retried
# elsewhere. The node script gets CONTROL_ADDR, the private address of the manager it runs on.
# Bounded: at most CONNECT_TIMEOUT × 2 seconds per unreachable manager.

readonly ME=any-manager
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
readonly NOT_HERE=75

WORK="" VERB=""
cleanup() { if [[ -n $WORK ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

# The node script, with the manager's private address and the previous stdout put in front.
script_for() {
  printf 'export CONTROL_ADDR=%q\n' "$1"
  if [[ -n ${PULUMI_COMMAND_STDOUT:-} ]]; then printf 'export PREVIOUS_STDOUT=%q\n' "$PULUMI_COMMAND_STDOUT"; fi
  cat "$WORK/script"
}

# Runs the script on one manager; its exit status is the script's, or 255 if ssh could not connect.
run_on() {
  local public=$1 private=$2 remote="sudo bash -s"
  if [[ -n $VERB ]]; then remote+=" $VERB"; fi
  script_for "$private" | ssh -i "$WORK/key" -p 22 \
    -o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout="$CONNECT_TIMEOUT" -o ConnectionAttempts=2 \
    -o ServerAliveInterval=10 -o ServerAliveCountMax=3 \
    "$SSH_USER@$public" "$remote" >"$WORK/stdout" 2>"$WORK/stderr"
}

main() {
  local or_skip=false
  if [[ ${1:-} == --or-skip ]]; then
    or_skip=true
    shift
  fi
  VERB=${1:-}
  require_env MANAGERS SSH_USER SSH_PRIVATE_KEY
  seconds_env CONNECT_TIMEOUT 5
  WORK=$(mktemp -d)
  (umask 077 && printf '%s\n' "$SSH_PRIVATE_KEY" >"$WORK/key")
  cat >"$WORK/script"

  local pair public private code tried=()
  for pair in $MANAGERS; do
    [[ $pair == ?*=?* ]] || die "MANAGERS entry '$pair' is not public=private"
    public=${pair%%=*} private=${pair#*=}
    code=0
    run_on "$public" "$private" || code=$?
    cat "$WORK/stderr" >&2
    case $code in
      0)
        cat "$WORK/stdout"
        return 0
        ;;
      255) tried+=("$public: unreachable") ;;
      "$NOT_HERE") tried+=("$public: $(tail -n 1 "$WORK/stderr")") ;;
      *) die "the step failed on manager $public (exit $code, messages above)" ;;
    esac
    log "manager $public cannot run this step; trying the next one"
  done
  if [[ $or_skip == true ]]; then
    log "warning: no manager could run this step, so it is skipped (${tried[*]})"
    return 0
  fi
  die "no manager could run this step: $(printf '%s; ' "${tried[@]}")start or replace a manager (see the README, 'When a node dies'), then run pulumi up again"
}

main "$@"
