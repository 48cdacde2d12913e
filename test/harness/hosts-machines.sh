# shellcheck shell=bash
# Sourced by hosts.sh: hosts as EC2 machines — created on demand, stopped (processes gone, link
# gone, disk kept), started again (optionally with a new public address), rebooted, terminated.
# Uses the helpers and variables of hosts.sh and hosts-net.sh.

# shellcheck disable=SC2016 # jq programs name their $variables in single quotes

hj_set() { # hj_set JQ_ARGS...: rewrites hosts.json through jq, atomically
  jq "$@" "$HJ" >"$HJ.tmp"
  mv "$HJ.tmp" "$HJ"
}

set_host() { hj_set --arg n "$1" "(.hosts[] | select(.name == \$n)) |= ($2)"; } # set_host NAME JQ_UPDATE

host_get() { jq -er --arg n "$1" ".hosts[] | select(.name == \$n) | .$2" "$HJ"; }

require_host() {
  [[ -f $HJ ]] || die "harness $ID is not up"
  if [[ -z ${1:-} ]] || ! host_get "$1" name >/dev/null 2>&1; then die "no host '${1:-}' in harness $ID"; fi
}

# create_host NAME INDEX PUBLIC_IP: disk, hosts.json entry, network and dockerd (not waited for).
create_host() {
  local name=$1 ip=$NET.$((10 + $2))
  make_disk "$name" "$ip"
  hj_set --arg n "$name" --arg ip "$ip" --arg pub "$3" --arg ns "$PFX-$name" \
    '.hosts += [{name: $n, privateIp: $ip, publicIp: $pub, netns: $ns, state: "running", partitioned: false}]'
  boot_net "$name" "$ip"
  boot_os "$name" "$(cat "$STATE/host-rootfs")"
}

# finish_boot NAME: waits for dockerd, starts sshd and waits for it. sshd is probed from inside the
# host, so a partitioned or firewalled host boots all the same.
finish_boot() {
  wait_for 120 "dockerd on $1 (see $DATA/$1/var_log/dockerd.log)" host_docker "$1" info
  start_sshd "$1"
  wait_for 20 "sshd on $1" ssh_probe "$1"
}

ssh_probe() {
  nsenter --net="/run/netns/$PFX-$1" ssh -i "$STATE/id_ed25519" -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=2 -o LogLevel=ERROR \
    "root@$(host_get "$1" privateIp)" true
}

host_pids() { pids_of "/sys/fs/cgroup/pids/$PFX-$1" "/run/netns/$PFX-$1" "$STATE/ns/$1.mnt" "$STATE/ns/$1.uts"; }

# stop_host NAME: an EC2 stop — dockerd and sshd get SIGTERM (dockerd stops its containers), the
# rest is killed after 30 s; then the host's kernel state goes: mount and network namespaces (so
# its link is gone) and cgroups. Its disk stays.
stop_host() {
  local name=$1 hd=$DATA/$1 f pid deadline=$((SECONDS + 30))
  for f in "$hd/run/docker.pid" "$hd/run/sshd.pid"; do
    pid=$(cat "$f" 2>/dev/null) || continue
    if grep -qF "/$PFX-$name/" "/proc/$pid/cgroup" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  pid=$(cat "$hd/run/docker.pid" 2>/dev/null) || pid=""
  while [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  kill_pids host_pids "$name"
  for f in "$STATE/ns/$name.mnt" "$STATE/ns/$name.uts"; do
    if [[ -e $f ]]; then umount "$f" 2>/dev/null || true; fi
    rm -f "$f"
  done
  # The link goes now: a namespace is dismantled asynchronously, and a boot right after this
  # one (reboot) must be able to make a link of the same name.
  ip link del "$PFX-$name" 2>/dev/null || true
  ip netns del "$PFX-$name" 2>/dev/null || true
  remove_cgroups "$PFX-$name"
  find "$hd/run" "$hd/tmp" -mindepth 1 -delete
}

# boot_host NAME: start a stopped host on the same disk; its security groups are loaded again.
boot_host() {
  boot_net "$1" "$(host_get "$1" privateIp)"
  apply_firewall "$1"
  boot_os "$1" "$(cat "$STATE/host-rootfs")"
  finish_boot "$1"
}

cmd_add() {
  [[ -f $HJ ]] || die "harness $ID is not up (run: HARNESS_ID=$ID hosts.sh up 0)"
  local index name public
  index=$(cat "$STATE/next-index")
  ((10 + index <= 254)) || die "no free private address in $NET.0/24"
  echo $((index + 1)) >"$STATE/next-index" # names are never reused within one up
  name=h$index
  public=$(alloc_public)
  create_host "$name" "$index" "$public"
  sync_nat
  finish_boot "$name"
  touch "$DATA/$name/var_lib_aws-swarm/ready"
  jq --arg n "$name" '.hosts[] | select(.name == $n)' "$HJ"
}

cmd_poweroff() {
  require_host "${1:-}"
  [[ $(host_get "$1" state) == running ]] || return 0
  stop_host "$1"
  set_host "$1" '.state = "stopped"'
}

# poweron NAME [--new-public-ip]: a start keeps the public address unless asked to move it (an
# instance without an Elastic IP gets a new one on every stop/start).
cmd_poweron() {
  local name=${1:-} flag=${2:-} public
  require_host "$name"
  [[ -z $flag || $flag == --new-public-ip ]] || die "usage: hosts.sh poweron NAME [--new-public-ip]"
  [[ $(host_get "$name" state) == stopped ]] || die "$name is not stopped"
  # An Elastic IP stays with its instance through a stop and a start; only an auto address changes.
  if [[ -n $flag && $(host_get "$name" elasticIp) != true ]]; then
    public=$(alloc_public)
    set_host "$name" ".publicIp = \"$public\""
    sync_nat
  fi
  boot_host "$name"
  set_host "$name" '.state = "running"'
  jq --arg n "$name" '.hosts[] | select(.name == $n)' "$HJ"
}

# address NAME [IP|--release]: an Elastic IP associated with host NAME, as EC2's AssociateAddress
# does: the host's public address becomes IP (a new one if not given), taken from any host that
# held it (that one gets a new auto address, as an instance does when its EIP moves away); its
# previous auto address is released. --release: disassociated, the host gets a new auto address.
cmd_address() {
  local name=${1:-} ip=${2:-} other
  require_host "$name"
  if [[ $ip == --release ]]; then
    set_host "$name" ".publicIp = \"$(alloc_public)\" | .elasticIp = false"
  else
    [[ -z $ip || $ip =~ ^${PUB//./\\.}\.[0-9]+$ ]] || die "usage: hosts.sh address NAME [IP in $PUB.0/24 | --release]"
    for other in $(jq -r --arg ip "$ip" --arg n "$name" '.hosts[] | select(.publicIp == $ip and .name != $n) | .name' "$HJ"); do
      set_host "$other" ".publicIp = \"$(alloc_public)\" | .elasticIp = false"
    done
    [[ -n $ip ]] || ip=$(alloc_public)
    set_host "$name" ".publicIp = \"$ip\" | .elasticIp = true"
  fi
  sync_nat
  jq --arg n "$name" '.hosts[] | select(.name == $n)' "$HJ"
}

cmd_reboot() {
  require_host "${1:-}"
  [[ $(host_get "$1" state) == running ]] || die "$1 is not running"
  stop_host "$1"
  boot_host "$1"
}

cmd_restart_docker() {
  require_host "${1:-}"
  [[ $(host_get "$1" state) == running ]] || die "$1 is not running"
  in_host "$1" /usr/local/sbin/systemctl restart docker
}

# remove NAME: terminated — stopped for good, its files, address mappings and partition entry gone.
cmd_remove() {
  require_host "${1:-}"
  stop_host "$1"
  cmd_heal "$1"
  hj_set --arg n "$1" 'del(.hosts[] | select(.name == $n))'
  sync_nat
  rm -rf "${DATA:?}/$1" "${STATE:?}/$1"
}
