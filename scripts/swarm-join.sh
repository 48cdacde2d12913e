#!/usr/bin/env bash
set -euo pipefail

# swarm-join.sh: makes this node a member of the cluster's swarm.
#
# Verbs:
#   join (default)  join the swarm as ROLE unless already a member of it; stdout: the node ID
#   leave           make this node leave whatever swarm it is in (docker swarm leave --force);
#                   meant as the delete step, after node-member.sh remove ran on the first
#                   manager; never fails; stdout: nothing. Needed: after `docker node rm --force`
#                   a removed worker still reports itself active, a removed manager goes to
#                   state error (measured on Docker 20.10, see README.md)
# Env (join):
#   ROLE              worker | manager
#   MANAGER_ADDRS     every configured manager's private IP, space-separated; each is tried in
#                     turn on port 2377 (this node's own address is skipped), so a join works
#                     while any one manager is up
#   SWARM_JOIN_TOKEN  the join token for ROLE (secret: never printed)
#   ADVERTISE_ADDR    this node's private IP (advertise, data path and listen address)
#   SWARM_ID          the cluster ID printed by swarm-init.sh
#   JOIN_TIMEOUT      seconds to keep retrying a join that fails transiently (optional, default 300)
# Run as: sudo bash -s [join|leave]   (script on stdin, rendered by lib/scripts.ts)
#
# The token never appears on a command line (where `ps` on the node would show it): the join is a
# request to the local Engine API over its unix socket, with the token in the request body.
#
# Idempotent: an active member of this swarm is left alone (a manager is recognised by the
# cluster ID, a worker, which cannot see the cluster ID, by one of MANAGER_ADDRS among its managers).
# A half-joined node (pending / error) leaves and joins again; a member of another swarm is an
# error and is never made to leave.

readonly ME=swarm-join
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Hides anything that looks like a join token in text passed through it.
mask() { sed -E 's/SWMTKN-[A-Za-z0-9-]+/SWMTKN-<hidden>/g'; }

check_env() {
  require_env ROLE MANAGER_ADDRS SWARM_JOIN_TOKEN ADVERTISE_ADDR SWARM_ID
  seconds_env JOIN_TIMEOUT 300
  local ipv4='^([0-9]{1,3}\.){3}[0-9]{1,3}$' addr
  [[ $ROLE == worker || $ROLE == manager ]] || die "ROLE must be worker or manager, got '$ROLE'"
  for addr in $MANAGER_ADDRS; do
    [[ $addr =~ $ipv4 ]] || die "MANAGER_ADDRS must be the managers' private IPv4 addresses, got '$addr'"
  done
  [[ $ADVERTISE_ADDR =~ $ipv4 ]] || die "ADVERTISE_ADDR must be this node's private IPv4 address, got '$ADVERTISE_ADDR'"
  # Also what keeps the token safe to place in the JSON request body as it is.
  [[ $SWARM_JOIN_TOKEN =~ ^SWMTKN-[A-Za-z0-9-]+$ ]] ||
    die "SWARM_JOIN_TOKEN does not look like a swarm join token (SWMTKN-...)"
}

# The managers to try, this node's own address left out: "a.b.c.d:2377" words.
remotes() {
  local addr
  for addr in $MANAGER_ADDRS; do
    if [[ $addr != "$ADVERTISE_ADDR" ]]; then printf '%s:2377 ' "$addr"; fi
  done
}

state() { info '{{.Swarm.LocalNodeState}}'; }

# Succeeds when this node is an active member of the swarm SWARM_ID / managed from one of MANAGER_ADDRS.
# Fails (exit 1) when it is a member of another swarm or has the wrong role.
member_of_this_swarm() {
  local node_id manager cluster_id managers
  node_id=$(info '{{.Swarm.NodeID}}')
  manager=$(info '{{.Swarm.ControlAvailable}}')
  if [[ $manager == true ]]; then
    cluster_id=$(info '{{.Swarm.Cluster.ID}}')
    if [[ $cluster_id != "$SWARM_ID" ]]; then
      die "this node ($node_id) is a manager of another swarm ($cluster_id, expected $SWARM_ID). Nothing was changed. If that swarm is no longer needed, demote and remove this node there or run 'docker swarm leave --force' on it, then run pulumi up again"
    fi
    if [[ $ROLE == worker ]]; then
      die "this node ($node_id) is a manager of this swarm but is configured as a worker. Roles are not changed in place: demote it with 'docker node demote $node_id' on a manager (or replace the instance), then run pulumi up again"
    fi
    return 0
  fi
  managers=$(info '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}')
  local remote ours=false
  for remote in $(remotes); do
    if [[ " $managers " == *" $remote "* ]]; then ours=true; fi
  done
  if [[ $ours != true ]]; then
    die "this node ($node_id) is a worker of another swarm (its managers: ${managers% }; expected one of: $(remotes)). Nothing was changed. If that swarm is no longer needed, run 'docker swarm leave' on this node, then run pulumi up again"
  fi
  if [[ $ROLE == manager ]]; then
    die "this node ($node_id) is a worker of this swarm but is configured as a manager. Roles are not changed in place: promote it with 'docker node promote $node_id' on a manager, or remove it ('docker swarm leave' here, 'docker node rm $node_id' on a manager) so that it joins as a manager, then run pulumi up again"
  fi
  return 0
}

# One join request to the local Engine API (POST /swarm/join) through manager $1 ("addr:2377").
# The body, token included, reaches curl on stdin: printf is a shell builtin, so the token is on
# no command line. Returns 0 on success, 1 on a transient failure, 2 on a permanent one.
join_once() {
  local body out status
  body=$(printf '{"ListenAddr":"%s:2377","AdvertiseAddr":"%s","DataPathAddr":"%s","RemoteAddrs":["%s"],"JoinToken":"%s"}' \
    "$ADVERTISE_ADDR" "$ADVERTISE_ADDR" "$ADVERTISE_ADDR" "$1" "$SWARM_JOIN_TOKEN")
  out=$(curl -sS --unix-socket /var/run/docker.sock -X POST -H 'Content-Type: application/json' \
    --data-binary @- -w '\n%{http_code}' http://localhost/swarm/join <<<"$body" 2>&1) || true
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  if [[ $status == 200 ]]; then return 0; fi
  printf '%s (HTTP %s)\n' "${out:-no answer from the Docker daemon}" "$status" | mask >&2
  # A token for another swarm or role, or a malformed one, will not get better by retrying.
  if grep -qiE 'join token|invalid token|InvalidArgument|fingerprint|already part of a swarm' <<<"$out"; then
    return 2
  fi
  return 1
}

# Waits up to $1 seconds for the node to become active; fails if it ends up in state error.
wait_active() {
  local deadline=$((SECONDS + $1)) s
  while true; do
    s=$(state) || s=unknown
    case $s in
      active) return 0 ;;
      error) return 1 ;;
    esac
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 2
  done
}

# One round: each manager in turn until one accepts. Returns like join_once.
join_round() {
  local remote rc=1
  for remote in $(remotes); do
    log "joining $remote as a $ROLE, advertising $ADVERTISE_ADDR"
    rc=0
    join_once "$remote" || rc=$?
    if ((rc != 1)); then return "$rc"; fi
  done
  return "$rc"
}

join() {
  local deadline=$((SECONDS + JOIN_TIMEOUT)) rc
  [[ -n $(remotes) ]] || die "MANAGER_ADDRS names no manager other than this node ($ADVERTISE_ADDR)"
  while true; do
    rc=0
    join_round || rc=$?
    if ((rc == 0)); then return 0; fi
    if ((rc == 2)); then
      die "a manager refused the join (message above): the join token does not belong to swarm $SWARM_ID or to role $ROLE; check the token commands"
    fi
    # A timed-out join goes on in the background ("pending"): give it a little time to finish.
    if wait_active 20; then return 0; fi
    if [[ $(state) != inactive ]]; then
      log "join did not complete (state $(state): $(info '{{.Swarm.Error}}' | mask)); leaving to start over"
      dk swarm leave --force >/dev/null 2>&1 || true
    fi
    if ((SECONDS >= deadline)); then
      die "could not join any of $(remotes)as a $ROLE within ${JOIN_TIMEOUT}s (last error above). Check that a manager is up and that TCP 2377, TCP/UDP 7946 and UDP 4789 are open between the nodes, then run pulumi up again"
    fi
    sleep 5
  done
}

do_join() {
  check_env
  local s
  s=$(state) || die "the Docker daemon is not answering; is Docker running on this node (wait-ready.sh)?"
  case $s in
    active)
      member_of_this_swarm
      log "already an active $ROLE of this swarm; nothing to do"
      ;;
    inactive)
      join
      ;;
    pending | error)
      log "node is half-joined (state $s: $(info '{{.Swarm.Error}}' | mask)); leaving it to join again"
      dk swarm leave --force >/dev/null
      join
      ;;
    locked)
      die "$(locked_hint)"
      ;;
    *)
      die "unexpected swarm state '$s' on this node"
      ;;
  esac
  if [[ $ROLE == manager ]]; then
    local cluster_id
    cluster_id=$(info '{{with .Swarm.Cluster}}{{.ID}}{{end}}')
    [[ $cluster_id == "$SWARM_ID" ]] ||
      die "joined, but this node sees swarm '$cluster_id' instead of $SWARM_ID; check the MANAGER_ADDRS and SWARM_ID wiring"
  fi
  local node_id
  node_id=$(info '{{.Swarm.NodeID}}')
  [[ -n $node_id ]] || die "joined, but Docker reports no node ID"
  printf '%s\n' "$node_id"
}

do_leave() {
  local s
  if ! s=$(state); then
    log "warning: the Docker daemon is not answering; cannot make this node leave its swarm, skipping"
    return 0
  fi
  if [[ $s == inactive ]]; then
    log "this node is not in a swarm; nothing to do"
    return 0
  fi
  if [[ $s == active && $(info '{{.Swarm.ControlAvailable}}') == true ]]; then
    log "warning: this node is still a manager; leaving without demotion first (run node-member.sh remove on the first manager before this step)"
  fi
  if dk swarm leave --force >/dev/null; then
    log "left the swarm (was in state $s)"
  else
    log "warning: 'docker swarm leave --force' failed (message above); skipping"
  fi
}

main() {
  case ${1:-join} in
    join) do_join ;;
    leave) do_leave ;;
    *) die "usage: bash -s [join|leave] (got '$1')" ;;
  esac
}

main "$@"
