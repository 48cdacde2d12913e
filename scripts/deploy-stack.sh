#!/usr/bin/env bash
set -euo pipefail

# deploy-stack.sh: deploys a compose stack from a swarm manager and waits until it runs.
#
# Verbs:  (none) | deploy   write the files, `docker stack deploy`, wait for convergence, then
#                           remove the stack's networks no service uses any more (a renamed one)
#         remove            `docker stack rm` and wait until its networks are gone
#         hold              say that STACK_NAME is deployed here: the program's holder of the
#                           stack's removal (its delete runs `remove`), apart from the deploy
# Env:    STACK_NAME        stack name (`docker stack deploy ... <name>`)
#         COMPOSE_B64       base64 of the compose file
#         FILES_B64         optional; lines "<file-name> <base64 content>": files the compose file
#                           references (haproxy.cfg, ...), written beside it
#         COMPOSE_OVERRIDES optional; space-separated names among FILES_B64 passed as extra `-c`
#         STACK_VARIABLES   optional; lines KEY=VALUE for `${KEY}` substitution in the compose file
#         CONVERGE_TIMEOUT  seconds to wait for every service to run its tasks (default 600)
# stdout: one line of JSON, e.g.
#         {"stack":"app","converged":true,"seconds":21,"services":{"app_hello":{"running":2,"desired":2}}}
#         hold: {"stack":"app"}
# Run as: sudo bash -s [deploy|remove|hold]   (script on stdin, rendered by lib/scripts.ts)
#
# Idempotent: deploying the same files again changes nothing and returns once the stack runs.
# A network the files no longer use (swarm.encryptOverlay renames it) is removed once converged.
# On timeout or a rolled-back update it exits 1 and names each failing service with its latest
# task error (`docker service ps --no-trunc`). Needs no ingress mesh: see stacks/app.yml.

readonly ME=deploy-stack
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
readonly STATE_ROOT=/var/lib/aws-swarm/stacks
readonly POLL_SECONDS=2
# Swarm starts a service's updater asynchronously: give it a moment before trusting "running".
readonly SETTLE_SECONDS=4
readonly REMOVE_TIMEOUT=180
readonly LOCK_TIMEOUT=900
# Gateway config objects (one per routing table) kept for rollbacks; older unused ones go.
readonly KEEP_CONFIGS=3
# How long a network no service names may still be held by stopping tasks before it is left for
# the next deploy (the longest stop_grace_period in stacks/app.yml is 35 s).
readonly NETWORK_RM_TIMEOUT=90

# Serialises deploys of one stack (a re-run while a previous `pulumi up` is still waiting).
take_lock() {
  install -d -m 0700 "$STATE_ROOT"
  exec 9>"$STATE_ROOT/.$STACK_NAME.lock"
  flock -w "$LOCK_TIMEOUT" 9 || die "another deploy of stack $STACK_NAME holds the lock for ${LOCK_TIMEOUT}s"
}

write_files() {
  local dir=$1 name content
  install -d -m 0700 "$dir"
  find "$dir" -mindepth 1 -maxdepth 1 -type f -delete
  printf '%s' "$COMPOSE_B64" | base64 -d >"$dir/compose.yml" || die "COMPOSE_B64 is not valid base64"
  while IFS=' ' read -r name content; do
    [[ -n $name ]] || continue
    [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ && $name != compose.yml ]] ||
      die "FILES_B64: '$name' is not a plain file name (letters, digits, '.', '_', '-')"
    printf '%s' "$content" | base64 -d >"$dir/$name" || die "FILES_B64: $name is not valid base64"
  done <<<"${FILES_B64:-}"
}

# Exports KEY=VALUE lines for compose substitution; refuses names that would change how the
# shell, the linker or the docker CLI itself behaves (the same list as lib/variables.ts).
export_variables() {
  local line key
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    key=${line%%=*}
    [[ $line == *=* && $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
      die "STACK_VARIABLES: '${line:0:40}' is not KEY=VALUE"
    case $key in
      PATH | HOME | IFS | ENV | CDPATH | GLOBIGNORE | PS4 | SHELLOPTS | BASHOPTS | BASH_* | LD_* | DOCKER_* | HTTP_PROXY | HTTPS_PROXY | NO_PROXY | ALL_PROXY | http_proxy | https_proxy | no_proxy | all_proxy | SSL_CERT_FILE | SSL_CERT_DIR | GODEBUG)
        die "STACK_VARIABLES: $key can't be used as a compose variable"
        ;;
    esac
    export "${key}=${line#*=}"
  done <<<"${STACK_VARIABLES:-}"
}

deploy_stack() {
  local dir=$1 override
  local args=(stack deploy --with-registry-auth --prune --resolve-image always -c "$dir/compose.yml")
  for override in ${COMPOSE_OVERRIDES:-}; do
    [[ -f $dir/$override ]] || die "COMPOSE_OVERRIDES names $override, which is not in FILES_B64"
    args+=(-c "$dir/$override")
  done
  # Docker >= 26 warns unless --detach is explicit; 20.10 has no such flag.
  local help
  help=$(dk stack deploy --help 2>&1 || true)
  if [[ $help == *--detach* ]]; then
    args+=(--detach=true)
  fi
  log "docker stack deploy $STACK_NAME ($(basename -a "$dir"/* | tr '\n' ' '))"
  (cd "$dir" && dk "${args[@]}" "$STACK_NAME" >&2) || die "docker stack deploy of $STACK_NAME failed (see above)"
}

# Tasks of global service $1 running on Ready nodes. `docker service ls` counts the last task of a
# Down node as running (its node can't say otherwise) but not as desired, so a global service
# would never look converged while a dead node is still listed (measured: 4/3 after a manager
# was powered off and replaced; its entry goes at the end of that `pulumi up`).
running_on_ready_nodes() {
  local ready
  ready=$(dk node ls --format '{{.Hostname}} {{.Status}}' | awk '$2 == "Ready" {print $1}')
  dk service ps --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' "$1" |
    awk 'NR == FNR {ready[$1] = 1; next} ($1 in ready) && $2 == "Running"' <(printf '%s\n' "$ready") - |
    wc -l
}

# Prints "name running desired mode update-state update-started-epoch" per service of the stack.
service_table() {
  local name mode replicas running desired state started epoch
  while read -r name mode replicas; do
    [[ -n $name ]] || continue
    replicas=${replicas%% *}
    running=${replicas%%/*}
    desired=${replicas##*/}
    if [[ $mode == global ]]; then running=$(running_on_ready_nodes "$name"); fi
    # The start as Unix seconds from Go itself: `date -d` can't read Go's "… +0000 UTC" and would
    # make every update look older than this deploy, so a rolling one would pass as converged.
    IFS='|' read -r state started < <(dk service inspect "$name" \
      --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}|{{if .UpdateStatus.StartedAt}}{{.UpdateStatus.StartedAt.Unix}}{{end}}{{else}}|{{end}}' 2>/dev/null || echo '|')
    epoch=${started:-0}
    printf '%s %s %s %s %s %s\n' "$name" "${running:-0}" "${desired:-0}" "$mode" "${state:--}" "$epoch"
  done < <(dk stack services "$STACK_NAME" --format '{{.Name}} {{.Mode}} {{.Replicas}}')
}

# ok | wait | failed for one row of service_table, given the deploy's start time.
service_verdict() {
  local running=$1 desired=$2 mode=$3 state=$4 epoch=$5 since=$6
  if ((epoch >= since)); then
    case $state in
      paused | rollback_paused | rollback_completed)
        echo failed
        return
        ;;
      updating | rollback_started)
        echo wait
        return
        ;;
    esac
  fi
  if [[ $mode == global ]] && ((desired == 0)); then
    echo wait # no eligible node (yet): a gateway without nodes is not a running stack
  elif ((running == desired)); then
    echo ok
  else
    echo wait
  fi
}

summary_json() {
  local table=$1 converged=$2 seconds=$3 name running desired first=1 services=""
  while read -r name running desired _; do
    [[ -n $name ]] || continue
    ((first)) || services+=","
    first=0
    services+=$(printf '"%s":{"running":%d,"desired":%d}' "$name" "$running" "$desired")
  done <<<"$table"
  printf '{"stack":"%s","converged":%s,"seconds":%d,"services":{%s}}\n' \
    "$STACK_NAME" "$converged" "$seconds" "$services"
}

# Names each service that is not ok, with its update status and latest task error.
failure_report() {
  local table=$1 since=$2 name running desired mode state epoch verdict message error
  while read -r name running desired mode state epoch; do
    [[ -n $name ]] || continue
    verdict=$(service_verdict "$running" "$desired" "$mode" "$state" "$epoch" "$since")
    [[ $verdict != ok ]] || continue
    message=$(dk service inspect "$name" --format '{{if .UpdateStatus}}{{.UpdateStatus.Message}}{{end}}' 2>/dev/null || true)
    error=$(dk service ps --no-trunc --format '{{.Name}} {{.CurrentState}}: {{.Error}}' "$name" 2>/dev/null |
      grep -v ': $' | head -n 1 || true)
    printf '  %s: %s/%s running (%s)' "$name" "$running" "$desired" "$mode" >&2
    [[ $state == - ]] || printf ', update %s' "$state" >&2
    [[ -z $message ]] || printf ' (%s)' "$message" >&2
    if [[ -n $error ]]; then
      printf '; latest task error: %s\n' "$error" >&2
    elif [[ $mode == global && $desired == 0 ]]; then
      printf '; no node matches its placement constraints\n' >&2
    else
      printf '; latest task: %s\n' "$(dk service ps --no-trunc --format '{{.Name}} {{.CurrentState}}' "$name" 2>/dev/null | head -n 1)" >&2
    fi
  done <<<"$table"
}

wait_converged() {
  local since=$1 timeout=$2 deadline table verdicts failure previous=""
  deadline=$(($(date +%s) + timeout))
  sleep "$SETTLE_SECONDS"
  while :; do
    table=$(service_table)
    [[ -n $table ]] || die "stack $STACK_NAME has no services after deploying it"
    verdicts=$(while read -r name running desired mode state epoch; do
      printf '%s\n' "$(service_verdict "$running" "$desired" "$mode" "$state" "$epoch" "$since")"
    done <<<"$table" | sort -u | tr '\n' ' ')
    if [[ $verdicts == "ok " ]]; then
      # Twice in a row: a service whose update has not started yet also looks "ok" once.
      if [[ $previous == ok ]]; then
        summary_json "$table" true $(($(date +%s) - since))
        return 0
      fi
      previous=ok
    else
      previous=""
    fi
    failure=""
    if [[ $verdicts == *failed* ]]; then
      failure="stack $STACK_NAME: an update failed and was rolled back or paused"
    elif (($(date +%s) >= deadline)); then
      failure="stack $STACK_NAME did not converge within ${timeout}s"
    fi
    if [[ -n $failure ]]; then
      log "$failure:"
      failure_report "$table" "$since"
      summary_json "$table" false $(($(date +%s) - since))
      return 1
    fi
    sleep "$POLL_SECONDS"
  done
}

# Removes gateway-style config objects of the stack that nothing uses, keeping the newest few
# (a rollback needs the previous one). `docker config rm` refuses configs in use.
prune_configs() {
  local name
  dk config ls --filter "label=com.docker.stack.namespace=$STACK_NAME" --format '{{.CreatedAt}}|{{.Name}}' |
    sort -r | tail -n +$((KEEP_CONFIGS + 1)) | cut -d'|' -f2 |
    while read -r name; do
      [[ -n $name ]] || continue
      if dk config rm "$name" >/dev/null 2>&1; then
        log "removed unused config $name"
      fi
    done
}

# Removes the stack's networks that no service names any more. Docker never changes an existing
# network, so lib/compose.ts gives a network whose definition changes (swarm.encryptOverlay) another
# name: `docker stack deploy` creates that one and moves the services onto it, but leaves the old
# one (its --prune only removes services). A network a service (of any stack) names is never
# tried; one that a stopping task still holds is retried, and after NETWORK_RM_TIMEOUT left for the
# next deploy with a warning. Swarm itself refuses to remove a network in use.
prune_networks() {
  local services used id name deadline error
  mapfile -t services < <(dk service ls -q)
  used=""
  if ((${#services[@]} > 0)); then
    # Targets are network IDs once the manager has them; names are matched too, to be safe. A
    # service removed meanwhile makes inspect fail: its networks are then Swarm's to protect.
    used=$(dk service inspect --format \
      '{{range .Spec.TaskTemplate.Networks}}{{println .Target}}{{end}}{{range .Spec.Networks}}{{println .Target}}{{end}}' \
      "${services[@]}" || true)
  fi
  deadline=$(($(date +%s) + NETWORK_RM_TIMEOUT))
  while read -r id name; do
    [[ -n $id ]] || continue
    if grep -qxF -e "$id" -e "$name" <<<"$used"; then continue; fi
    until error=$(dk network rm "$id" 2>&1 >/dev/null); do
      [[ -n $(dk network ls -q --filter "id=$id") ]] || break # removed meanwhile
      if (($(date +%s) >= deadline)); then
        log "warning: network $name is used by no service but could not be removed (${error}); the next deploy tries again"
        continue 2
      fi
      sleep "$POLL_SECONDS"
    done
    log "removed network $name: no service uses it any more"
  done < <(dk network ls --no-trunc --filter "label=com.docker.stack.namespace=$STACK_NAME" --format '{{.ID}} {{.Name}}')
}

deploy() {
  require_env STACK_NAME COMPOSE_B64
  seconds_env CONVERGE_TIMEOUT 600
  local timeout=$CONVERGE_TIMEOUT dir=$STATE_ROOT/$STACK_NAME since
  require_manager "stacks can only be deployed from a manager"
  take_lock
  umask 077
  write_files "$dir"
  export_variables
  since=$(date +%s)
  deploy_stack "$dir"
  wait_converged "$since" "$timeout" || exit 1
  prune_configs
  prune_networks
}

# `docker stack rm` of stack $1, waiting until its services and networks are gone.
remove_stack() {
  local stack=$1 deadline
  dk stack rm "$stack" >&2 || log "docker stack rm $stack failed; checking what is left"
  deadline=$(($(date +%s) + REMOVE_TIMEOUT))
  while [[ -n $(dk network ls -q --filter "label=com.docker.stack.namespace=$stack") ||
    -n $(dk service ls -q --filter "label=com.docker.stack.namespace=$stack") ]]; do
    (($(date +%s) < deadline)) || die "stack $stack still has services or networks after ${REMOVE_TIMEOUT}s"
    sleep "$POLL_SECONDS"
    # A network still attached to a stopping task can't go on the first try.
    dk stack rm "$stack" >/dev/null 2>&1 || true
  done
  rm -rf "${STATE_ROOT:?}/$stack"
}

remove() {
  require_env STACK_NAME
  # A manager outside the swarm tries the next one; with none left, the delete step is skipped.
  require_manager "stacks are removed from a manager"
  take_lock
  remove_stack "$STACK_NAME"
  printf '{"stack":"%s","removed":true}\n' "$STACK_NAME"
}

hold() {
  require_env STACK_NAME
  require_manager "stacks are removed from a manager"
  printf '{"stack":"%s"}\n' "$STACK_NAME"
}

main() {
  case ${1:-deploy} in
    deploy) deploy ;;
    remove) remove ;;
    hold) hold ;;
    *) die "usage: bash -s [deploy|remove|hold] (got '$1')" ;;
  esac
}

main "$@"
