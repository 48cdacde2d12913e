#!/usr/bin/env bash
set -euo pipefail

# update-image.sh: rolling update of one service to a new image, run by a user on a manager.
#
# Usage:  update-image.sh <service> <image>
#         <service>  full name (app_hello) or the name inside the stack (hello, with STACK_NAME)
#         <image>    e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/echo:v2 (must be in a
#                    registry every node can pull from: a local-only image fails on the workers)
# Env:    STACK_NAME      stack of a short service name (default app)
#         UPDATE_TIMEOUT  seconds to wait for the update to finish (default 900)
# stdout: one line of JSON: {"service":"app_hello","image":"...","state":"completed","seconds":31}
# Exit:   0 updated (or nothing to change), 1 rolled back or paused, 2 usage, 3 timed out
#
# Replaces one task at a time, starting the new one first (stop-first for services with host-mode
# ports, which can't be bound twice on one node); a task that never gets healthy makes Swarm roll
# the whole service back to the previous image by itself, and this script then exits 1.
# Each replaced task leaves a stopped container behind until the swarm's task history limit
# removes it: see docs/stack-and-gateway.md.
#
# Standalone on purpose, unlike the scripts the program runs: users pipe this file to a manager
# as it is (`ssh ... 'sudo bash -s <service> <image>' <scripts/update-image.sh`), without
# lib/scripts.ts, so it cannot source lib/common.sh; log, die and dk below mirror that file's
# (die also takes an exit code: this script's exit codes are part of its contract).

readonly ME=update-image
readonly POLL_SECONDS=2
# If no update has started after this long, the service already runs that image.
readonly START_GRACE=15

log() { printf '%s: %s\n' "$ME" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$ME" "$*" >&2
  exit "${2:-1}"
}
dk() { docker "$@" </dev/null; }

resolve_service() {
  local name=$1 stack=${STACK_NAME:-app}
  if dk service inspect "$name" >/dev/null 2>&1; then
    printf '%s\n' "$name"
  elif dk service inspect "${stack}_$name" >/dev/null 2>&1; then
    printf '%s\n' "${stack}_$name"
  else
    die "no service '$name' (nor '${stack}_$name'); see 'docker service ls'"
  fi
}

update_status() {
  dk service inspect "$1" \
    --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}|{{.UpdateStatus.StartedAt}}|{{.UpdateStatus.Message}}{{else}}||{{end}}'
}

# start-first, unless the service publishes a host-mode port.
update_order() {
  local modes
  modes=$(dk service inspect "$1" --format '{{range .Endpoint.Ports}}{{.PublishMode}} {{end}}')
  if [[ " $modes " == *" host "* ]]; then
    echo stop-first
  else
    echo start-first
  fi
}

main() {
  [[ $# -eq 2 && -n $1 && -n $2 ]] || die "usage: update-image.sh <service> <image>" 2
  local timeout=${UPDATE_TIMEOUT:-900} service image=$2 order before state started message
  [[ $timeout =~ ^[0-9]+$ ]] || die "UPDATE_TIMEOUT must be a number of seconds" 2
  dk node ls -q >/dev/null 2>&1 || die "run this on a swarm manager"
  service=$(resolve_service "$1")
  order=$(update_order "$service")
  IFS='|' read -r _ before _ < <(update_status "$service")
  local start=$SECONDS
  log "updating $service to $image ($order, one task at a time, rollback on failure)"
  dk service update --detach --quiet --with-registry-auth --image "$image" \
    --update-parallelism 1 --update-order "$order" --update-failure-action rollback \
    --update-monitor 15s --update-max-failure-ratio 0 \
    --rollback-parallelism 1 --rollback-order "$order" \
    "$service" >/dev/null

  local last=""
  while :; do
    IFS='|' read -r state started message < <(update_status "$service")
    if [[ $started != "$before" && -n $state ]]; then
      [[ $state == "$last" ]] || log "update state: $state${message:+ ($message)}"
      last=$state
      case $state in
        completed)
          printf '{"service":"%s","image":"%s","state":"completed","seconds":%d}\n' "$service" "$image" $((SECONDS - start))
          return 0
          ;;
        rollback_completed | paused | rollback_paused)
          dk service ps --no-trunc --format '  {{.Name}} {{.Image}} {{.CurrentState}} {{.Error}}' "$service" | head -n 6 >&2
          printf '{"service":"%s","image":"%s","state":"%s","seconds":%d}\n' "$service" "$image" "$state" $((SECONDS - start))
          die "the update of $service to $image failed and Swarm ${state/_/ }: ${message:-see the tasks above}" 1
          ;;
      esac
    elif ((SECONDS - start >= START_GRACE)); then
      log "no update started: $service already runs $image"
      printf '{"service":"%s","image":"%s","state":"unchanged","seconds":%d}\n' "$service" "$image" $((SECONDS - start))
      return 0
    fi
    ((SECONDS - start < timeout)) || die "the update of $service is still '${state:-pending}' after ${timeout}s" 3
    sleep "$POLL_SECONDS"
  done
}

main "$@"
