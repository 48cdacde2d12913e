#!/usr/bin/env bash
set -euo pipefail

# swarm-init.sh: creates the cluster's swarm once, ever, or converges the settings of the swarm
# this product created before. any-manager.sh runs it on the first manager that can run it.
#
# Env:
#   CLUSTER_NAME                   marks the swarm as ours (node label aws-swarm.cluster=<name>)
#   ADVERTISE_ADDR                 the node's private IP (advertise, data path and listen address);
#                                  default CONTROL_ADDR, set by any-manager.sh
#   PREVIOUS_STDOUT                the swarm ID this step printed before (set on a re-run): then a
#                                  manager outside that swarm never creates one, it exits 75 so
#                                  that the next manager is tried
#   TASK_HISTORY_LIMIT             tasks kept per slot (old task containers beyond it are removed)
#   AUTOLOCK                       true | false
#   CERT_EXPIRY                    node certificate validity, Go duration in h/m/s (e.g. 2160h)
#   DEFAULT_ADDR_POOL              CIDR overlay networks are allocated from (fixed at init)
#   DEFAULT_ADDR_POOL_MASK_LENGTH  prefix length of each overlay network (optional, default 24)
# Stdout: the swarm (cluster) ID
# Run as: sudo bash -s   (script on stdin, rendered by lib/scripts.ts)
#
# Idempotent: a node that is already the manager of the swarm labelled with CLUSTER_NAME is left
# in its swarm; only task history limit, certificate expiry and autolock are updated, and only
# when they differ. Any other swarm on the node is an error: it is never left or re-created here.
# Once the swarm exists (PREVIOUS_STDOUT set), a manager outside it (new, replaced, locked, or cut
# off from the quorum) is "not here" (exit 75): it joins by its own join step, never inits.

readonly ME=swarm-init
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
readonly CLUSTER_LABEL=aws-swarm.cluster

check_env() {
  ADVERTISE_ADDR=${ADVERTISE_ADDR:-${CONTROL_ADDR:-}}
  require_env CLUSTER_NAME ADVERTISE_ADDR TASK_HISTORY_LIMIT AUTOLOCK CERT_EXPIRY DEFAULT_ADDR_POOL
  DEFAULT_ADDR_POOL_MASK_LENGTH=${DEFAULT_ADDR_POOL_MASK_LENGTH:-24}
  local ipv4='([0-9]{1,3}\.){3}[0-9]{1,3}'
  [[ $ADVERTISE_ADDR =~ ^${ipv4}$ ]] || die "ADVERTISE_ADDR must be the node's private IPv4 address, got '$ADVERTISE_ADDR'"
  [[ $TASK_HISTORY_LIMIT =~ ^[0-9]+$ ]] || die "TASK_HISTORY_LIMIT must be a whole number, got '$TASK_HISTORY_LIMIT'"
  # shellcheck disable=SC2153 # a parameter (checked by require_env), not a misspelt local
  [[ $AUTOLOCK == true || $AUTOLOCK == false ]] || die "AUTOLOCK must be true or false, got '$AUTOLOCK'"
  [[ $DEFAULT_ADDR_POOL =~ ^${ipv4}/[0-9]{1,2}$ ]] || die "DEFAULT_ADDR_POOL must be an IPv4 CIDR, got '$DEFAULT_ADDR_POOL'"
  [[ $DEFAULT_ADDR_POOL_MASK_LENGTH =~ ^[0-9]{1,2}$ ]] || die "DEFAULT_ADDR_POOL_MASK_LENGTH must be a prefix length, got '$DEFAULT_ADDR_POOL_MASK_LENGTH'"
  CERT_EXPIRY_NS=$(duration_ns "$CERT_EXPIRY") ||
    die "CERT_EXPIRY must be a Go duration in whole hours/minutes/seconds such as 2160h or 90h30m, at most ${MAX_DURATION_S}s, got '$CERT_EXPIRY'"
}

# The largest duration in seconds that Docker can take as a certificate validity: it holds
# durations as int64 nanoseconds and adds a 1h backdate (lib/durations.ts, MAX_CERT_EXPIRY_SECONDS).
readonly MAX_DURATION_S=9223368436

# Go duration (h/m/s parts with whole numbers; lib/durations.ts has the same grammar) to
# nanoseconds; fails on anything else and above MAX_DURATION_S, before bash's 64-bit arithmetic
# could wrap: a part has at most 10 significant digits and the total is checked after each part.
duration_ns() {
  local rest=$1 total=0
  [[ -n $rest ]] || return 1
  while [[ -n $rest ]]; do
    [[ $rest =~ ^0*([0-9]{1,10})(h|m|s)(.*)$ ]] || return 1
    local n=$((10#${BASH_REMATCH[1]}))
    case ${BASH_REMATCH[2]} in
      h) total=$((total + n * 3600)) ;;
      m) total=$((total + n * 60)) ;;
      s) total=$((total + n)) ;;
    esac
    ((total <= MAX_DURATION_S)) || return 1
    rest=${BASH_REMATCH[3]}
  done
  printf '%s\n' $((total * 1000000000))
}

init_swarm() {
  local args=(
    --advertise-addr "$ADVERTISE_ADDR"
    --data-path-addr "$ADVERTISE_ADDR"
    --listen-addr "$ADVERTISE_ADDR:2377"
    --task-history-limit "$TASK_HISTORY_LIMIT"
    --cert-expiry "$CERT_EXPIRY"
    --default-addr-pool "$DEFAULT_ADDR_POOL"
    --default-addr-pool-mask-length "$DEFAULT_ADDR_POOL_MASK_LENGTH"
  )
  if [[ $AUTOLOCK == true ]]; then args+=(--autolock); fi
  log "initialising a new swarm advertised on $ADVERTISE_ADDR"
  # stdout of init holds the join command with the worker token (and the unlock key with
  # --autolock): it must go nowhere.
  dk swarm init "${args[@]}" >/dev/null ||
    die "'docker swarm init' failed (message above); check that $ADVERTISE_ADDR is an address of this node"
  log "swarm created"
  label_self "$(info '{{.Swarm.NodeID}}')"
}

# Puts the cluster label on this manager, so the swarm stays recognisable after the node that
# created it is gone (the label moves to whichever manager runs this step).
label_self() {
  local node_id=$1
  if [[ $(dk node inspect --format "{{index .Spec.Labels \"$CLUSTER_LABEL\"}}" "$node_id") == "$CLUSTER_NAME" ]]; then
    return 0
  fi
  # Retried: a node update right after init can race the node's own status update ("update out
  # of sequence").
  retry 5 2 dk node update --label-add "$CLUSTER_LABEL=$CLUSTER_NAME" "$node_id" >/dev/null ||
    die "could not label node $node_id with $CLUSTER_LABEL=$CLUSTER_NAME; label it by hand with 'docker node update --label-add $CLUSTER_LABEL=$CLUSTER_NAME $node_id', then run pulumi up again"
  log "node $node_id labelled $CLUSTER_LABEL=$CLUSTER_NAME"
}

# Brings the mutable settings of an existing swarm to the requested values.
converge_settings() {
  local history expiry autolock pool mask args=()
  history=$(info '{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}')
  expiry=$(info '{{json .Swarm.Cluster.Spec.CAConfig.NodeCertExpiry}}')
  autolock=$(info '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}')
  if [[ $history != "$TASK_HISTORY_LIMIT" ]]; then
    args+=(--task-history-limit "$TASK_HISTORY_LIMIT")
  fi
  if [[ $expiry != "$CERT_EXPIRY_NS" ]]; then args+=(--cert-expiry "$CERT_EXPIRY"); fi
  if [[ $autolock != "$AUTOLOCK" ]]; then args+=("--autolock=$AUTOLOCK"); fi
  if ((${#args[@]} == 0)); then
    log "swarm settings already up to date"
  else
    log "updating swarm settings: ${args[*]}"
    # With --autolock=true the new unlock key is printed on stdout: it must go nowhere.
    dk swarm update "${args[@]}" >/dev/null
  fi
  # The address pool is fixed when the swarm is created; say so instead of failing.
  pool=$(info '{{range .Swarm.Cluster.DefaultAddrPool}}{{.}} {{end}}')
  mask=$(info '{{.Swarm.Cluster.SubnetSize}}')
  if [[ ${pool% } != "$DEFAULT_ADDR_POOL" || $mask != "$DEFAULT_ADDR_POOL_MASK_LENGTH" ]]; then
    log "warning: the swarm's address pool is ${pool% }/mask $mask, not $DEFAULT_ADDR_POOL/mask $DEFAULT_ADDR_POOL_MASK_LENGTH; it can only be set when the swarm is created, so it is left as it is"
  fi
}

# A manager already in a swarm: ours (converge), or an error that nothing here may fix.
existing_swarm() {
  local node_id label cluster_id status
  node_id=$(info '{{.Swarm.NodeID}}')
  if [[ $(info '{{.Swarm.ControlAvailable}}') != true ]]; then
    die "this node ($node_id) is a worker of another swarm (managers: $(info '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}')). It cannot become a manager of '$CLUSTER_NAME'. Make it leave that swarm with 'docker swarm leave' on the node, or use another instance, then run pulumi up again"
  fi
  status=$(manager_status)
  [[ $status == manager ]] || not_here "$status"
  cluster_id=$(info '{{.Swarm.Cluster.ID}}')
  # Ours: the swarm this step created (its id, on a re-run), or one where a node carries the
  # cluster label (the first run, re-run after an interruption).
  if [[ -n ${PREVIOUS_STDOUT:-} ]]; then
    [[ $cluster_id == "$PREVIOUS_STDOUT" ]] ||
      die "this node manages swarm $cluster_id, but the swarm of cluster '$CLUSTER_NAME' is $PREVIOUS_STDOUT: a second swarm was created by hand. Nothing was changed; keep one of them (see the README, 'When a node dies')"
  else
    label=$(dk node ls -q --filter "node.label=$CLUSTER_LABEL=$CLUSTER_NAME")
    [[ -n $label ]] ||
      die "this node already manages swarm $cluster_id, which is not the swarm of cluster '$CLUSTER_NAME' (no node has the label $CLUSTER_LABEL=$CLUSTER_NAME). Nothing was changed. If that swarm is no longer needed, run 'docker swarm leave --force' on the node; if it is this cluster's swarm from an interrupted run, label it with 'docker node update --label-add $CLUSTER_LABEL=$CLUSTER_NAME $node_id'; then run pulumi up again"
  fi
  log "node $node_id already manages swarm $cluster_id of cluster '$CLUSTER_NAME'"
  label_self "$node_id"
  converge_settings
}

main() {
  check_env
  local state
  state=$(info '{{.Swarm.LocalNodeState}}') ||
    not_here "the Docker daemon is not answering; is Docker running on this node (wait-ready.sh)?"
  if [[ -n ${PREVIOUS_STDOUT:-} && $state != active && $state != locked ]]; then
    not_here "this manager ($ADVERTISE_ADDR, state $state) is not in swarm $PREVIOUS_STDOUT; a new or replaced manager joins by its own join step"
  fi
  case $state in
    inactive) init_swarm ;;
    active) existing_swarm ;;
    locked) not_here "$(locked_hint)" ;;
    pending | error)
      die "this node is in swarm state '$state' (a join to another swarm is in progress or failed: $(info '{{.Swarm.Error}}')). Run 'docker swarm leave --force' on the node, then run pulumi up again"
      ;;
    *) die "unexpected swarm state '$state' on this node" ;;
  esac
  info '{{.Swarm.Cluster.ID}}'
}

main "$@"
