# shellcheck shell=bash
# Sourced by hosts.sh: the stand-in for an AWS Network Load Balancer. A real HAProxy, in TCP mode,
# in a network namespace of its own (like a host, but no dockerd and no sshd): private address
# $NET.3 on the bridge, a public address (1:1 NAT) the runner dials. Its configuration is rendered
# by test/program/loadBalancerStandIn.ts from what the program registered (listeners, target group,
# health check, targets); here it is only started, reloaded and stopped.
#   lb DIR      start the stand-in with DIR/haproxy.cfg, or reload it (new targets, settings):
#               HAProxy's master re-reads the file, new workers take new connections, the old ones
#               finish theirs (bounded by the config's hard-stop-after: the deregistration delay).
#               A configuration without listeners gives the stand-in its addresses and no process.
#   lb-remove   stop it and release its addresses
# Uses ID, NET, BR, BRIP, PFX, STATE, HJ and die/log/wait_for from hosts.sh, boot_net,
# alloc_public and sync_nat from hosts.sh and hosts-net.sh.

LB=lb                 # netns $PFX-lb, veth $PFX-lb
LB_PRIVATE=$NET.3     # .1 the bridge, .2 the builder, .10+ the hosts

lb_pid() { cat "$STATE/lb/haproxy.pid" 2>/dev/null; }
lb_running() { local pid; pid=$(lb_pid) && kill -0 "$pid" 2>/dev/null; }

# lb_start: HAProxy in the stand-in's namespace and cgroup, master-worker, daemonised.
lb_start() {
  mkdir -p "/sys/fs/cgroup/pids/$PFX-$LB"
  (
    echo "$BASHPID" >"/sys/fs/cgroup/pids/$PFX-$LB/cgroup.procs"
    exec 7>&- 8>&- 9>&-
    exec ip netns exec "$PFX-$LB" haproxy -W -D -p "$STATE/lb/haproxy.pid" -f "$STATE/lb/haproxy.cfg" \
      </dev/null >>"$STATE/lb/haproxy.log" 2>&1
  ) || die "the load balancer stand-in did not start: $(tail -n 5 "$STATE/lb/haproxy.log")"
  wait_for 10 "load balancer stand-in (see $STATE/lb/haproxy.log)" lb_running
}

# lb_address: the stand-in's namespace and addresses, made once; prints nothing.
lb_address() {
  local public
  [[ -e /run/netns/$PFX-$LB ]] || boot_net "$LB" "$LB_PRIVATE"
  [[ -z $(jq -r '.loadBalancer.publicIp // empty' "$HJ") ]] || return 0
  public=$(alloc_public)
  jq --arg pub "$public" --arg priv "$LB_PRIVATE" --arg ns "$PFX-$LB" \
    '.loadBalancer = {privateIp: $priv, publicIp: $pub, netns: $ns}' "$HJ" >"$HJ.tmp"
  mv "$HJ.tmp" "$HJ"
  sync_nat
}

cmd_lb() {
  local dir=${1:-} rc=0
  [[ -d $dir && -f $dir/haproxy.cfg ]] || die "usage: hosts.sh lb DIR (with DIR/haproxy.cfg)"
  [[ -f $HJ ]] || die "harness $ID is not up (run: HARNESS_ID=$ID hosts.sh up N)"
  haproxy -c -q -f "$dir/haproxy.cfg" || rc=$?
  # 2: valid, but no listener. A load balancer without listeners has its address and takes nothing.
  ((rc == 0 || rc == 2)) || die "the load balancer configuration $dir/haproxy.cfg is invalid (see above)"
  mkdir -p "$STATE/lb"
  lb_address
  cp "$dir/haproxy.cfg" "$STATE/lb/haproxy.cfg"
  if ((rc == 2)); then
    lb_stop
  elif lb_running; then
    kill -USR2 "$(lb_pid)" # master-worker reload: re-reads the file
  else
    lb_start
  fi
  jq -c '.loadBalancer' "$HJ"
}

lb_stop() {
  local pid
  if pid=$(lb_pid); then
    kill "$pid" 2>/dev/null || true
    rm -f "$STATE/lb/haproxy.pid"
  fi
  if [[ -d /sys/fs/cgroup/pids/$PFX-$LB ]]; then kill_pids pids_of "/sys/fs/cgroup/pids/$PFX-$LB"; fi
}

cmd_lb_remove() {
  lb_stop
  remove_cgroups "$PFX-$LB"
  ip netns del "$PFX-$LB" 2>/dev/null || true
  ip link del "$PFX-$LB" 2>/dev/null || true
  rm -rf "$STATE/lb"
  if [[ -f $HJ ]]; then
    jq 'del(.loadBalancer)' "$HJ" >"$HJ.tmp"
    mv "$HJ.tmp" "$HJ"
    sync_nat
  fi
}
