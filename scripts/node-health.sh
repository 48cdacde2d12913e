#!/usr/bin/env bash
set -euo pipefail

# node-health.sh: lists the swarm's nodes that are not Ready, from a manager (any-manager.sh picks
# one). `pulumi up` runs it on every run, after the nodes joined, and reports the nodes Down for
# longer than swarm.reportDownAfter (lib/nodeHealth.ts says what to do about each).
#
# Verbs:  down   stdout: `nodes <count>` (every node was checked), then one line per node whose
#                status is not `ready`: <node id> <role> <status> <seconds since the node object last changed> <hostname>
#                (a node goes Down by a status update, so the age is how long it has been Down,
#                unless its labels or availability were changed since)
# Run as: sudo bash -s down   (script on stdin, rendered by lib/scripts.ts)
#
# Read-only, so safe to run any number of times.

readonly ME=node-health
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Prints the age in whole seconds of an RFC 3339 time such as 2026-11-28T15:20:01.123456789Z.
age_of() {
  local since now
  since=$(date -d "$1" +%s) || die "cannot read the time '$1'"
  now=$(date +%s)
  printf '%s\n' $((now > since ? now - since : 0))
}

main() {
  [[ ${1:-} == down ]] || die "usage: bash -s down (got '${1:-}')"
  require_manager "node states are read on a manager"
  local ids id role status updated hostname
  mapfile -t ids < <(dk node ls -q)
  printf 'nodes %s\n' "${#ids[@]}"
  # One inspect for every node: a node list line has no time, and one call per node would be
  # slow on a large swarm.
  while read -r id role status updated hostname; do
    [[ $status == ready ]] && continue
    printf '%s %s %s %s %s\n' "$id" "$role" "$status" "$(age_of "$updated")" "$hostname"
  done < <(dk node inspect --format '{{.ID}} {{.Spec.Role}} {{.Status.State}} {{.UpdatedAt.Format "2006-01-02T15:04:05Z07:00"}} {{.Description.Hostname}}' "${ids[@]}")
}

main "$@"
