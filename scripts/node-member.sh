#!/usr/bin/env bash
set -euo pipefail

# node-member.sh: runs on a manager (any-manager.sh picks one), once per node, and manages that
# node's swarm membership from the managers' side.
#
# Verbs:
#   apply   wait until NODE_ID is listed and Ready, then converge its labels; stdout: NODE_ID
#   remove  drain NODE_ID, let its tasks move (bounded), demote it if it is a manager, remove it
#           with `docker node rm --force`; exit 0 also when there is nothing to remove; stdout:
#           nothing
# Env:
#   NODE_ID        the node's swarm ID (stdout of swarm-join.sh)
#   LABELS         newline-separated key=value pairs (may be empty); not aws-swarm.managed-labels
#                  nor aws-swarm.cluster (this product's own bookkeeping)
#   READY_TIMEOUT  apply: seconds to wait for the node to be listed and Ready (default 120)
#   DRAIN_TIMEOUT  remove: seconds to wait for its tasks to move away (default 120); after that
#                  the node is removed anyway, with a warning
# Run as: sudo bash -s apply|remove   (script on stdin, rendered by lib/scripts.ts)
#
# Labels: the keys this product set are kept in the node label aws-swarm.managed-labels
# (comma-separated, sorted). apply adds or changes every label in LABELS and removes the keys
# listed there that are no longer in LABELS; it never touches any other label. `docker node update`
# runs only when something changes, so a second apply changes nothing.

readonly ME=node-member
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
readonly MANAGED_KEY=aws-swarm.managed-labels
readonly RESERVED_PREFIX=aws-swarm.

node_listed() {
  local ids
  ids=$(dk node ls --format '{{.ID}}') || return 1
  grep -qxF "$NODE_ID" <<<"$ids"
}

node_field() { dk node inspect --format "$1" "$NODE_ID"; }

node_ready() {
  node_listed && [[ $(node_field '{{.Status.State}}' 2>/dev/null) == ready ]]
}

# ---------------------------------------------------------------------------------------- apply

declare -A WANT=()

parse_labels() {
  local line key
  while IFS= read -r line; do
    line=${line%$'\r'}
    [[ -n ${line//[[:space:]]/} ]] || continue
    [[ $line == *=* ]] || die "LABELS line '$line' is not key=value"
    key=${line%%=*}
    [[ -n $key && $key != *[[:space:],]* ]] ||
      die "LABELS key '$key' must be non-empty, without spaces or commas"
    # The product's own bookkeeping labels; placement labels such as aws-swarm.gateway come in LABELS.
    [[ $key != "$MANAGED_KEY" && $key != "${RESERVED_PREFIX}cluster" ]] ||
      die "LABELS key '$key' is reserved: aws-swarm keeps its own state in it"
    [[ -z ${WANT[$key]+set} ]] || die "LABELS key '$key' is given twice"
    WANT[$key]=${line#*=}
  done <<<"${LABELS:-}"
}

# Sets CHANGES to the `docker node update` arguments that bring the node's labels to WANT.
CHANGES=()
label_changes() {
  CHANGES=()
  local -A have=()
  local dump line key
  # shellcheck disable=SC2016 # $k and $v are Go template variables, not shell expansions
  dump=$(node_field '{{range $k, $v := .Spec.Labels}}{{$k}}={{$v}}{{println}}{{end}}')
  while IFS= read -r line; do
    [[ $line == *=* ]] || continue
    have[${line%%=*}]=${line#*=}
  done <<<"$dump"

  local keys=() managed=""
  if ((${#WANT[@]})); then
    mapfile -t keys < <(printf '%s\n' "${!WANT[@]}" | LC_ALL=C sort)
    managed=$(IFS=,; printf '%s' "${keys[*]}")
  fi
  for key in "${keys[@]}"; do
    if [[ -z ${have[$key]+set} || ${have[$key]} != "${WANT[$key]}" ]]; then
      CHANGES+=(--label-add "$key=${WANT[$key]}")
    fi
  done
  local old=()
  IFS=, read -r -a old <<<"${have[$MANAGED_KEY]:-}"
  for key in "${old[@]}"; do
    if [[ -n $key && -z ${WANT[$key]+set} && -n ${have[$key]+set} ]]; then
      CHANGES+=(--label-rm "$key")
    fi
  done
  if [[ -n $managed ]]; then
    if [[ ${have[$MANAGED_KEY]-<unset>} != "$managed" ]]; then
      CHANGES+=(--label-add "$MANAGED_KEY=$managed")
    fi
  elif [[ -n ${have[$MANAGED_KEY]+set} ]]; then
    CHANGES+=(--label-rm "$MANAGED_KEY")
  fi
}

converge_labels() {
  local attempt
  for attempt in 1 2 3 4 5; do
    label_changes
    if ((${#CHANGES[@]} == 0)); then
      if ((attempt == 1)); then log "labels of $NODE_ID already up to date"; fi
      return 0
    fi
    log "updating labels of $NODE_ID: ${CHANGES[*]}"
    # `docker node update` prints the node ID; stdout is reserved for the result. A failure is
    # most likely a concurrent update of the same node ("update out of sequence"): go round again.
    dk node update "${CHANGES[@]}" "$NODE_ID" >/dev/null || sleep 2
  done
  label_changes
  ((${#CHANGES[@]} == 0)) ||
    die "could not converge the labels of node $NODE_ID after 5 attempts (messages above)"
}

apply() {
  parse_labels
  require_manager "labels are set from a manager"
  seconds_env READY_TIMEOUT 120
  local timeout=$READY_TIMEOUT deadline=$((SECONDS + READY_TIMEOUT))
  until node_ready; do
    if ((SECONDS >= deadline)); then
      if node_listed; then
        die "node $NODE_ID is listed but not Ready after ${timeout}s (status $(node_field '{{.Status.State}}')); check Docker on that node and the swarm ports between the nodes"
      fi
      die "node $NODE_ID is not in the swarm after ${timeout}s; did swarm-join.sh succeed on it?"
    fi
    sleep 2
  done
  converge_labels
  printf '%s\n' "$NODE_ID"
}

# --------------------------------------------------------------------------------------- remove

# Counts the node's tasks that are still meant to run, or (on a node that is up) still running:
# waiting for the second lets containers stop gracefully before the node is removed. A Down node
# never reports its tasks stopped, so there only the desired state counts.
busy_tasks() {
  local rows status
  status=$(node_field '{{.Status.State}}') || return 1
  rows=$(dk node ps --format '{{.DesiredState}} {{.CurrentState}}' "$NODE_ID") || return 1
  if [[ $status == ready ]]; then
    grep -cE '^Running |^[A-Za-z]+ Running' <<<"$rows" || true
  else
    grep -c '^Running ' <<<"$rows" || true
  fi
}

remove() {
  require_manager "nodes are removed from a manager"
  if [[ $NODE_ID == "$(info '{{.Swarm.NodeID}}')" ]]; then
    not_here "node $NODE_ID is this manager; another manager removes it"
  fi
  if ! node_listed; then
    log "node $NODE_ID is not in the swarm (already removed); nothing to do"
    return 0
  fi

  seconds_env DRAIN_TIMEOUT 120
  local timeout=$DRAIN_TIMEOUT
  if [[ $(node_field '{{.Spec.Availability}}') != drain ]]; then
    log "draining node $NODE_ID"
    dk node update --availability drain "$NODE_ID" >/dev/null
  fi
  local deadline=$((SECONDS + timeout)) left
  while left=$(busy_tasks) && ((left > 0)); do
    if ((SECONDS >= deadline)); then
      log "warning: $left task(s) still running on $NODE_ID after ${timeout}s; removing it anyway"
      break
    fi
    sleep 2
  done
  log "node $NODE_ID is drained"

  if [[ $(node_field '{{.Spec.Role}}') == manager ]]; then
    log "demoting manager $NODE_ID before removal"
    dk node demote "$NODE_ID" >&2 ||
      die "could not demote manager $NODE_ID (message above); removing it now could cost the swarm its quorum. Check 'docker node ls' on this manager"
  fi
  # The node leaves the Raft group shortly after the demotion; until then `node rm` refuses it.
  deadline=$((SECONDS + 60))
  until dk node rm --force "$NODE_ID" >/dev/null; do
    if ! node_listed; then break; fi
    if ((SECONDS >= deadline)); then
      die "could not remove node $NODE_ID within 60s (messages above); check 'docker node ls' on this manager"
    fi
    sleep 2
  done
  deadline=$((SECONDS + 30))
  while node_listed; do
    if ((SECONDS >= deadline)); then die "node $NODE_ID is still listed 30s after removal"; fi
    sleep 1
  done
  log "node $NODE_ID removed from the swarm"
}

main() {
  local verb=${1:-}
  case $verb in
    apply | remove) ;;
    *) die "usage: bash -s apply|remove (got '${verb}')" ;;
  esac
  require_env NODE_ID
  [[ $NODE_ID =~ ^[a-z0-9]{25}$ ]] ||
    die "NODE_ID '$NODE_ID' is not a swarm node ID (25 lowercase letters and digits)"
  "$verb"
}

main "$@"
