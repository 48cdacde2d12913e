#!/usr/bin/env bash
# Test hosts for aws-swarm: each "host" is a network + mount + UTS namespace on a bridge, with its
# own dockerd and sshd, a private and a public (1:1 NAT) address, and a security-group filter.
# See test/harness/README.md. Linux and root only.
#
#   HARNESS_ID=<0-9> hosts.sh up N | down | add | poweroff|poweron|reboot|remove|partition|heal|
#                    restart-docker NAME | firewall NAME <rules.json | firewall-many <rules-by-host.json |
#                    address NAME [IP|--release] |
#                    lb DIR | lb-remove |
#                    registry | base-image |
#                    build-image REF CTX | status
set -euo pipefail

ID=${HARNESS_ID:-0}
[[ $ID =~ ^[0-9]$ ]] || { echo "hosts.sh: HARNESS_ID must be one digit 0-9, got '$ID'" >&2; exit 2; }

NET=10.21$ID.0
BR=aswbr$ID
BRIP=$NET.1
REG=$BRIP:5000
PFX=asw$ID                                    # netns, veth and cgroup names: asw<ID>-<host>
STATE=/run/aws-swarm-harness/$ID              # keys, namespace handles, pids, logs, hosts.json
HJ=$STATE/hosts.json                          # the hosts as they are now (kept current by every verb)
DATA=/var/lib/aws-swarm-harness/$ID           # per-host files; on disk because images are big
CACHE=/var/cache/aws-swarm-harness            # survives `down`: debootstrap tarball, registry
TAG="aws-swarm-harness-$ID"                   # iptables comment that marks this harness's rules
MIRROR=${HARNESS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# python3, not python3-minimal: the latter lacks most of the stdlib (http.server, json, ...).
BASE_PKGS=haproxy,python3,curl,ca-certificates,procps,tini
# HARNESS_HOST_RELEASE (default trixie: dockerd 26, sshd 10): the Debian release whose userland the
# hosts run, closer to the nodes' current Docker; `machine` runs this machine's own instead.
HOST_PKGS=docker.io,docker-cli,containerd,runc,tini,openssh-server,openssh-client,iptables,sudo,iproute2,procps,python3,curl,jq,ca-certificates,kmod
# HARNESS_BASE_RELEASE (default trixie: haproxy 3.0, python 3.13, closer to the nodes' haproxy:3.2).
BASE_RELEASE=${HARNESS_BASE_RELEASE:-trixie}
[[ $BASE_RELEASE =~ ^[a-z]+$ ]] || { echo "hosts.sh: HARNESS_BASE_RELEASE must be a Debian codename" >&2; exit 2; }
BASE_REF=$REG/aws-swarm/base:$BASE_RELEASE
# Directories each host gets a private copy of (bind mounts), and those it sees copy-on-write.
PRIVATE_DIRS=(var/lib/docker var/lib/containerd var/lib/aws-swarm var/log var/tmp root home tmp opt run)
OVERLAY_DIRS=(etc usr/local)

die() { echo "hosts.sh[$ID]: $*" >&2; exit 1; }
log() { echo "hosts.sh[$ID]: $*" >&2; }

# wait_for SECONDS DESCRIPTION CMD...: poll CMD every 0.2 s until it succeeds or the deadline passes.
wait_for() {
  local limit=$1 deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${limit}s waiting for $what"
    sleep 0.2
  done
}

host_docker() { docker -H "unix://$DATA/$1/run/docker.sock" "${@:2}"; }

# Runs inside the new mount + UTS namespace (via unshare), before any daemon starts there.
host_mounts() {
  set -euo pipefail
  local name=$1 hd=$2 rootfs=$3 d m
  shift 3
  hostname "$name"
  # Copies of the root namespace's /run submounts (other hosts' netns and mount-ns handles) would
  # keep those namespaces alive after `down`; drop them before /run is replaced anyway.
  awk '$5 ~ "^/run/" {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  # Another Debian release's /usr (read-only) and /etc under the host's own: its dockerd, sshd, …
  if [[ -n $rootfs ]]; then
    mount --bind "$rootfs/usr" /usr
    mount -o remount,bind,ro /usr
  fi
  mount -t overlay overlay -o "lowerdir=${rootfs:-}/etc,upperdir=$hd/etc.upper,workdir=$hd/etc.work" /etc
  mount -t overlay overlay -o "lowerdir=/usr/local,upperdir=$hd/usr_local.upper,workdir=$hd/usr_local.work" /usr/local
  for d in "$@"; do
    mkdir -p "/$d"
    mount --bind "$hd/${d//\//_}" "/$d"
  done
}

# The dockerd command line, installed on each host so that a restart from inside the host (the
# systemctl shim) uses the same flags. Settings a node script may change live in daemon.json.
write_launcher() {
  local f=$1 name=$2
  cat >"$f" <<EOF
#!/bin/sh
# Written by test/harness/hosts.sh: starts this test host's dockerd, detached.
[ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1 && exit 0
setsid /usr/sbin/dockerd --cgroup-parent=/$PFX-$name/docker </dev/null >>/var/log/dockerd.log 2>&1 &
EOF
  chmod 755 "$f"
}

# A tiny systemctl for node scripts written for systemd hosts: only the docker unit is real.
write_systemctl_shim() {
  cat >"$1" <<'EOF'
#!/bin/sh
# Test-host stand-in for systemctl (no systemd here); written by test/harness/hosts.sh.
verb=""; unit=""
for a in "$@"; do case "$a" in -*) ;; *) if [ -z "$verb" ]; then verb=$a; elif [ -z "$unit" ]; then unit=${a%.service}; fi ;; esac; done
running() { [ -f /run/docker.pid ] && kill -0 "$(cat /run/docker.pid)" 2>/dev/null; }
stop() {
  running || return 0
  kill "$(cat /run/docker.pid)"
  i=0; while running && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
  ! running
}
start() {
  /usr/local/sbin/harness-dockerd
  i=0; until docker info >/dev/null 2>&1; do [ $i -lt 300 ] || { echo "dockerd did not start" >&2; return 1; }; sleep 0.2; i=$((i + 1)); done
}
case "$verb" in
  daemon-reload|enable|disable|mask|unmask) exit 0 ;;
esac
case "$unit" in
  docker|containerd) ;;
  *) echo "systemctl (test host): unit '$unit' is not managed here" >&2; [ "$verb" = is-active ] && exit 3; exit 0 ;;
esac
case "$verb" in
  start) start ;;
  stop) stop ;;
  restart|reload|try-restart|reload-or-restart) stop && start ;;
  is-active|status) if running; then echo active; else echo inactive; exit 3; fi ;;
  is-enabled) echo enabled ;;
  *) echo "systemctl (test host): '$verb' not supported" >&2; exit 1 ;;
esac
EOF
  chmod 755 "$1"
}

ensure_bridge() {
  if ! ip link show "$BR" >/dev/null 2>&1; then
    # A fixed MAC: a bridge otherwise takes its ports' lowest, which changes as hosts come and go,
    # and every host's ARP entry for the gateway would go stale.
    ip link add "$BR" address "$(mac_of "$BRIP")" type bridge
    ip addr add "$BRIP/24" dev "$BR"
  fi
  ip link set "$BR" up
  # br_netfilter sends bridged frames through FORWARD: let hosts talk to each other, and nothing
  # from the hosts leave through any other interface (workplace rule: no traffic off this machine).
  if ! iptables -C FORWARD -i "$BR" -o "$BR" -m comment --comment "$TAG" -j ACCEPT 2>/dev/null; then
    iptables -I FORWARD 1 -i "$BR" ! -o "$BR" -m comment --comment "$TAG" -j DROP
    iptables -I FORWARD 1 -i "$BR" -o "$BR" -m comment --comment "$TAG" -j ACCEPT
  fi
}

# make_disk NAME IP: the host's files (its "disk"), made once: private dirs, /etc and /usr/local
# upper layers with its hostname, daemon.json, dockerd launcher, systemctl shim and sshd config.
make_disk() {
  local name=$1 ip=$2 hd=$DATA/$1 d
  for d in "${PRIVATE_DIRS[@]}"; do mkdir -p "$hd/${d//\//_}"; done
  for d in "${OVERLAY_DIRS[@]}"; do mkdir -p "$hd/${d//\//_}.upper" "$hd/${d//\//_}.work"; done
  chmod 1777 "$hd/tmp" "$hd/var_tmp"
  chmod 700 "$hd/root"
  mkdir -p "$hd/var_lib_aws-swarm" "$hd/etc.upper/docker" "$hd/etc.upper/ssh" "$hd/usr_local.upper/sbin" "$STATE/$name"
  echo "$name" >"$hd/etc.upper/hostname"
  printf '127.0.0.1 localhost\n%s %s\n' "$ip" "$name" >"$hd/etc.upper/hosts"
  # Nothing answers DNS on the bridge: lookups of outside names fail fast instead of timing out.
  echo "nameserver $BRIP" >"$hd/etc.upper/resolv.conf"
  jq -n --arg reg "$REG" '{"insecure-registries": [$reg], "log-driver": "json-file",
    "log-opts": {"max-size": "10m", "max-file": "3"}}' >"$hd/etc.upper/docker/daemon.json"
  write_launcher "$hd/usr_local.upper/sbin/harness-dockerd" "$name"
  write_systemctl_shim "$hd/usr_local.upper/sbin/systemctl"
  ssh-keygen -q -t ed25519 -N "" -C "$name" -f "$hd/etc.upper/ssh/ssh_host_ed25519_key"
  cat >"$hd/etc.upper/ssh/sshd_config" <<EOF
# Test host $name (test/harness/hosts.sh): root by key only, on the host's private address.
ListenAddress $ip:22
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PidFile /run/sshd.pid
MaxStartups 100:30:200
MaxSessions 100
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
EOF
}

# mac_of IP: a locally administered MAC made of the address (02:00 + its four octets).
mac_of() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  printf '02:00:%02x:%02x:%02x:%02x\n' "$a" "$b" "$c" "$d"
}

# boot_net NAME IP: the host's network namespace, its link on the bridge (veth) and its private
# address. Made at every boot: a stopped host has none (its kernel state is gone).
boot_net() {
  local ns=$PFX-$1 ip=$2
  ip netns add "$ns"
  # eth0 keeps its MAC across stop/start, as an ENI does: ARP caches of the others stay right.
  ip link add "$ns" type veth peer name eth0 address "$(mac_of "$ip")" netns "$ns"
  ip link set "$ns" master "$BR" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$BRIP"
  # The bridge routes a host's traffic for public addresses back onto the bridge; that is NAT, not
  # a shorter path, so the host must not take the bridge's ICMP redirects as one.
  nsenter --net="/run/netns/$ns" sysctl -qw net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.eth0.accept_redirects=0
}

# boot_os NAME [ROOTFS]: a fresh mount + UTS namespace over the host's disk (and ROOTFS's /usr and
# /etc instead of the machine's, if given), its cgroup, and dockerd (started, not waited for).
boot_os() {
  local name=$1 hd=$DATA/$1
  touch "$STATE/ns/$name.mnt" "$STATE/ns/$name.uts"
  unshare --mount="$STATE/ns/$name.mnt" --uts="$STATE/ns/$name.uts" --propagation private \
    bash -c "$(declare -f host_mounts); host_mounts \"\$@\"" _ "$name" "$hd" "${2:-}" "${PRIVATE_DIRS[@]}"

  # Everything started for this host (and every container, via --cgroup-parent) lives under one
  # pids cgroup, so `down` and `poweroff` find it all, even processes in namespaces of their own.
  mkdir -p "/sys/fs/cgroup/pids/$PFX-$name/host"
  in_host "$name" /usr/local/sbin/harness-dockerd
}

# make_host NAME IP_SUFFIX: a host outside hosts.json (the builder): disk, network, dockerd.
make_host() {
  make_disk "$1" "$NET.$2"
  boot_net "$1" "$NET.$2"
  boot_os "$1"
}

# in_host NAME CMD...: run CMD inside host NAME's namespaces and cgroup.
in_host() {
  local name=$1
  shift
  (
    echo "$BASHPID" >"/sys/fs/cgroup/pids/$PFX-$name/host/cgroup.procs"
    exec 7>&- 8>&- 9>&- # daemons must not inherit (and so hold) this script's locks
    exec nsenter --net="/run/netns/$PFX-$name" --mount="$STATE/ns/$name.mnt" --uts="$STATE/ns/$name.uts" -- "$@"
  )
}

start_sshd() {
  local hd=$DATA/$1
  mkdir -p "$hd/root/.ssh" "$hd/run/sshd"
  chmod 700 "$hd/root/.ssh"
  # The disk keeps authorized_keys across a stop, start or reboot, as an EC2 volume does (keys
  # rolled onto the node stay): the harness key is added once, never written over the file.
  grep -qxF -- "$(cat "$STATE/id_ed25519.pub")" "$hd/root/.ssh/authorized_keys" 2>/dev/null ||
    cat "$STATE/id_ed25519.pub" >>"$hd/root/.ssh/authorized_keys"
  chmod 600 "$hd/root/.ssh/authorized_keys"
  in_host "$1" /usr/sbin/sshd -E /var/log/sshd.log
}

cmd_up() {
  local n=${1:-} i
  [[ $n =~ ^(0|[1-9][0-9]?)$ ]] || die "usage: hosts.sh up N (0-99 hosts)"
  preflight
  cmd_down
  # Several dockerds + containerds each take inotify instances; the default 128 runs out.
  (($(sysctl -n fs.inotify.max_user_instances) >= 8192)) || sysctl -qw fs.inotify.max_user_instances=8192
  mkdir -p "$STATE/ns" "$DATA"
  # Mount-namespace handles may only be bind-mounted onto a private mount.
  mount --bind "$STATE/ns" "$STATE/ns"
  mount --make-private "$STATE/ns"
  ssh-keygen -q -t ed25519 -N "" -C "aws-swarm-harness-$ID" -f "$STATE/id_ed25519"
  od -An -N8 -tx8 /dev/urandom | tr -d ' ' >"$STATE/epoch" # tells this up's hosts from a later up's
  ensure_bridge
  ensure_public
  cmd_registry >/dev/null
  host_rootfs >"$STATE/host-rootfs" # every host of this up (and those added later) runs the same
  jq -n --arg reg "$REG" --arg key "$STATE/id_ed25519" --arg pub "$(cat "$STATE/id_ed25519.pub")" \
    --arg runner "$RUNNER_IP" \
    '{registry: $reg, sshUser: "root", privateKeyPath: $key, publicKey: $pub, runnerIp: $runner, hosts: []}' >"$HJ"
  echo $((n + 1)) >"$STATE/next-index"
  echo $((n + 11)) >"$STATE/next-public"
  for ((i = 1; i <= n; i++)); do create_host "h$i" "$i" "$PUB.$((10 + i))"; done
  sync_nat
  for ((i = 1; i <= n; i++)); do
    finish_boot "h$i"
    touch "$DATA/h$i/var_lib_aws-swarm/ready"
  done
  cat "$HJ"
}

preflight() {
  (($(id -u) == 0)) || die "must run as root"
  local c
  for c in ip iptables iptables-restore nft nsenter unshare dockerd docker sshd ssh ssh-keygen jq curl docker-registry; do
    command -v "$c" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null ||
      die "missing command '$c' (see test/harness/README.md for the packages)"
  done
  [[ -d /sys/fs/cgroup/pids ]] || die "needs the cgroup v1 pids hierarchy at /sys/fs/cgroup/pids"
}

# pids_of CGROUP_GLOB NS_FILE...: processes in those pids cgroups (at any depth; containers are
# there via --cgroup-parent) or in those namespaces (a process started before its cgroup existed,
# or a shell entered with nsenter by hand).
pids_of() {
  local cgroups=$1 f ino pat inodes=()
  shift
  # shellcheck disable=SC2086 # CGROUP_GLOB is a glob
  find $cgroups -name cgroup.procs -exec cat {} + 2>/dev/null || true
  for f in "$@"; do
    [[ -e $f ]] && ino=$(stat -L -c %i "$f" 2>/dev/null) && inodes+=("$ino")
  done
  ((${#inodes[@]})) || return 0
  pat=$(printf '%s|' "${inodes[@]}")
  find /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt /proc/[0-9]*/ns/uts -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
    awk -v pat="\\[(${pat%|})\\]" '$2 ~ pat { split($1, p, "/"); print p[3] }'
}

harness_pids() { pids_of "/sys/fs/cgroup/pids/$PFX-*" /run/netns/"$PFX"-* "$STATE"/ns/*; }

# kill_pids LISTER ARGS...: SIGKILL whatever LISTER prints until it prints nothing.
kill_pids() {
  local deadline=$((SECONDS + 30)) pids
  while :; do
    pids=$("$@" | sort -un | grep -vx "$$" || true)
    [[ -z $pids ]] && return 0
    ((SECONDS < deadline)) || die "processes survive SIGKILL: $(echo "$pids" | tr '\n' ' ')"
    # shellcheck disable=SC2086 # one pid per word
    kill -9 $pids 2>/dev/null || true
    sleep 0.2
  done
}

remove_cgroups() { # remove_cgroups NAME_GLOB: in every hierarchy, deepest first
  local f
  # shellcheck disable=SC2231 # NAME_GLOB is a glob
  for f in /sys/fs/cgroup/*/$1; do
    if [[ -d $f ]]; then find "$f" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
}

cmd_down() {
  local f pid
  if [[ -f $STATE/registry.pid ]]; then
    pid=$(cat "$STATE/registry.pid")
    if grep -qF "$STATE/registry.yml" "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  fi
  kill_pids harness_pids
  remove_cgroups "$PFX-*"
  for f in "$STATE"/ns/*; do
    if [[ -e $f ]]; then umount "$f" 2>/dev/null || true; fi
  done
  while mountpoint -q "$STATE/ns" 2>/dev/null; do umount "$STATE/ns"; done
  for f in $(ip netns list | awk -v p="^$PFX-" '$1 ~ p {print $1}'); do ip netns del "$f"; done
  for f in $(ip -o link show | awk -F': ' -v p="^$PFX-" '$2 ~ p {sub(/@.*/, "", $2); print $2}'); do
    ip link del "$f" 2>/dev/null || true
  done
  ip link del "$BR" 2>/dev/null || true
  remove_public
  if grep -qF " $DATA/" /proc/self/mountinfo; then
    die "something is still mounted under $DATA (see /proc/self/mountinfo); not deleting it"
  fi
  rm -rf "$STATE" "$DATA"
}

# watch PID: tear this harness down once PID (a test runner) is gone, however it died; give up
# as soon as the harness it was started for is downed or replaced by another `up`.
cmd_watch() {
  local pid=${1:-} epoch
  [[ $pid =~ ^[0-9]+$ ]] || die "usage: hosts.sh watch PID"
  epoch=$(cat "$STATE/epoch" 2>/dev/null) || die "harness $ID is not up"
  while kill -0 "$pid" 2>/dev/null; do
    [[ $(cat "$STATE/epoch" 2>/dev/null) == "$epoch" ]] || return 0
    sleep 1
  done
  lock_id
  [[ $(cat "$STATE/epoch" 2>/dev/null) == "$epoch" ]] || return 0
  log "process $pid is gone; tearing harness $ID down"
  cmd_down
}

cmd_registry() {
  ensure_bridge
  mkdir -p "$STATE" "$CACHE/registry/$ID"
  if curl -fsS -m 2 "http://$REG/v2/" >/dev/null 2>&1; then echo "$REG"; return 0; fi
  cat >"$STATE/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $CACHE/registry/$ID}
  delete: {enabled: true}
http: {addr: "$REG"}
EOF
  mkdir -p "/sys/fs/cgroup/pids/$PFX-registry"
  (
    echo "$BASHPID" >"/sys/fs/cgroup/pids/$PFX-registry/cgroup.procs"
    exec 7>&- 8>&- 9>&-
    exec setsid docker-registry serve "$STATE/registry.yml" </dev/null >>"$STATE/registry.log" 2>&1
  ) &
  echo $! >"$STATE/registry.pid"
  wait_for 20 "registry on $REG (see $STATE/registry.log)" curl -fsS -m 2 "http://$REG/v2/"
  echo "$REG"
}

registry_has() { # registry_has REPO TAG
  curl -fsS -m 5 -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REG/v2/$1/manifests/$2" 2>/dev/null
}

# The builder is a host without sshd at .2: images are built apart from the test hosts, so those
# start with empty image stores as fresh EC2 nodes do.
ensure_builder() {
  [[ -d $STATE/ns ]] || die "harness $ID is not up (run: HARNESS_ID=$ID hosts.sh up N)"
  exec 9>"$STATE/builder.lock"
  flock 9
  if ! host_docker b info >/dev/null 2>&1; then
    [[ -e /run/netns/$PFX-b ]] || make_host b 2
    wait_for 120 "builder dockerd (see $DATA/b/var_log/dockerd.log)" host_docker b info
  fi
  if ! host_docker b image inspect "$BASE_REF" >/dev/null 2>&1 && registry_has aws-swarm/base "$BASE_RELEASE"; then
    host_docker b pull -q "$BASE_REF" >/dev/null
  fi
  flock -u 9
}

# debootstrap_tmp RELEASE PACKAGES: a minbase Debian RELEASE with PACKAGES in a new directory
# under the cache, as DIR/root, apt caches emptied; prints DIR. The caller holds the debootstrap
# lock and moves DIR into place, so a half-built tree is never taken for a finished one.
debootstrap_tmp() {
  local release=$1 pkgs=$2 tmp
  tmp=$(mktemp -d "$CACHE/debootstrap.XXXXXX")
  log "debootstrap $release ($pkgs) from $MIRROR; takes a few minutes once"
  # Private mount + pid namespaces: debootstrap's /proc etc. mounts and any daemon a postinst
  # starts vanish with it, even if it is interrupted.
  if ! unshare --mount --pid --fork --propagation private \
    debootstrap --variant=minbase --include="$pkgs" "$release" "$tmp/root" "$MIRROR" >"$tmp.log" 2>&1; then
    tail -20 "$tmp.log" >&2
    rm -rf "$tmp"
    die "debootstrap failed (full log: $tmp.log)"
  fi
  rm -rf "$tmp"/root/var/cache/apt/archives/*.deb "$tmp"/root/var/lib/apt/lists/* "$tmp.log"
  echo "$tmp"
}

# host_rootfs: the directory of a debootstrapped Debian HARNESS_HOST_RELEASE (default trixie)
# whose /usr and /etc the test hosts run (its docker.io, containerd, sshd, …), built once into the
# cache; with HARNESS_HOST_RELEASE=machine, nothing (hosts run the machine's).
host_rootfs() {
  local release=${HARNESS_HOST_RELEASE:-trixie} dir tmp
  [[ $release != machine ]] || return 0
  [[ $release =~ ^[a-z]+$ ]] || die "HARNESS_HOST_RELEASE must be a Debian codename"
  dir=$CACHE/host-$release-$(echo "$release $HOST_PKGS $MIRROR" | sha256sum | cut -c1-12)
  exec 8>"$CACHE/debootstrap.lock"
  flock 8
  if [[ ! -d $dir/root ]]; then
    tmp=$(debootstrap_tmp "$release" "$HOST_PKGS")
    mv "$tmp" "$dir"
  fi
  flock -u 8
  echo "$dir/root"
}

# Changing the package list or mirror yields a new tarball and a new registry tag.
base_hash() { echo "$BASE_RELEASE $BASE_PKGS $MIRROR" | sha256sum | cut -c1-12; }

rootfs_tarball() {
  local tar tmp
  tar=$CACHE/base-$BASE_RELEASE-$(base_hash).tar
  mkdir -p "$CACHE"
  exec 8>"$CACHE/debootstrap.lock"
  flock 8 # harnesses share the tarball; only one builds it
  if [[ ! -s $tar ]]; then
    tmp=$(debootstrap_tmp "$BASE_RELEASE" "$BASE_PKGS")
    tar -C "$tmp/root" --numeric-owner -cf "$tmp/rootfs.tar" .
    mv "$tmp/rootfs.tar" "$tar"
    rm -rf "$tmp"
  fi
  flock -u 8
  echo "$tar"
}

cmd_base_image() {
  cmd_registry >/dev/null
  local exact
  exact=$BASE_RELEASE-$(base_hash)
  if ! registry_has aws-swarm/base "$exact"; then
    local tar
    tar=$(rootfs_tarball)
    ensure_builder
    # tini as PID 1 so that services stop on SIGTERM instead of waiting out the grace period.
    host_docker b import \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      -c 'ENTRYPOINT ["/usr/bin/tini", "--"]' -c 'CMD ["/bin/bash"]' \
      "$tar" "$BASE_REF" >/dev/null
    host_docker b tag "$BASE_REF" "$REG/aws-swarm/base:$exact"
    host_docker b push -q "$BASE_REF" >/dev/null
    host_docker b push -q "$REG/aws-swarm/base:$exact" >/dev/null
  fi
  echo "$BASE_REF"
}

cmd_build_image() {
  local ref=${1:-} ctx=${2:-}
  [[ -n $ref && -d $ctx ]] || die "usage: hosts.sh build-image NAME:TAG CONTEXT_DIR"
  [[ $ref == "$REG/"* ]] || ref=$REG/$ref
  cmd_base_image >/dev/null
  ensure_builder
  # Dockerfiles say `ARG BASE_IMAGE` + `FROM ${BASE_IMAGE}`; the legacy builder never pulls.
  local out
  if ! out=$(DOCKER_BUILDKIT=0 host_docker b build -q --build-arg "BASE_IMAGE=$BASE_REF" -t "$ref" "$ctx" 2>&1); then
    echo "$out" >&2
    die "docker build of $ref from $ctx failed"
  fi
  host_docker b push -q "$ref" >/dev/null
  echo "$ref"
}

cmd_status() {
  echo "harness $ID: bridge $BR $(ip -br addr show "$BR" 2>/dev/null | awk '{print $2, $3, $4}' || true)"
  if curl -fsS -m 2 "http://$REG/v2/_catalog" 2>/dev/null; then :; else echo "registry $REG: down"; fi
  [[ -f $HJ ]] || return 0
  local name pids daemon
  for name in $(jq -r '.hosts[].name' "$HJ"); do
    daemon=down
    if [[ $(host_get "$name" state) == running ]]; then
      daemon=$(host_docker "$name" info -f '{{.Name}} swarm={{.Swarm.LocalNodeState}} containers={{.ContainersRunning}}' 2>/dev/null) || daemon=down
    fi
    pids=$({ find "/sys/fs/cgroup/pids/$PFX-$name" -name cgroup.procs -exec cat {} + 2>/dev/null || true; } | wc -l)
    printf '%-4s %-8s private %-12s public %-14s%s processes %-3s dockerd %s\n' "$name" "$(host_get "$name" state)" \
      "$(host_get "$name" privateIp)" "$(host_get "$name" publicIp)" \
      "$(if [[ $(host_get "$name" partitioned) == true ]]; then echo " PARTITIONED"; fi)" "$pids" "$daemon"
  done
  echo "hosts.json: $HJ"
}

# Verbs that change hosts of one id never interleave (a second caller waits, then sees the result).
lock_id() {
  mkdir -p "${STATE%/*}"
  exec 7>"$STATE.up-down.lock"
  flock -w 600 7 || die "another hosts.sh verb for harness $ID holds $STATE.up-down.lock"
}

HERE=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=SCRIPTDIR/hosts-net.sh
. "$HERE/hosts-net.sh"
# shellcheck source=SCRIPTDIR/hosts-machines.sh
. "$HERE/hosts-machines.sh"
# shellcheck source=SCRIPTDIR/hosts-lb.sh
. "$HERE/hosts-lb.sh"

USAGE="usage: HARNESS_ID=<0-9> $0 up N | down | add | poweroff NAME | poweron NAME [--new-public-ip] |
  reboot NAME | restart-docker NAME | partition NAME | heal NAME | remove NAME | firewall NAME <rules.json |
  firewall-many <rules-by-host.json | registry | base-image | build-image NAME:TAG DIR | status | watch PID"
case ${1:-} in
  up) lock_id && cmd_up "${2:-}" ;;
  down) lock_id && cmd_down ;;
  add) lock_id && cmd_add ;;
  poweroff) lock_id && cmd_poweroff "${2:-}" ;;
  poweron) lock_id && cmd_poweron "${2:-}" "${3:-}" ;;
  reboot) lock_id && cmd_reboot "${2:-}" ;;
  restart-docker) lock_id && cmd_restart_docker "${2:-}" ;;
  partition) lock_id && cmd_partition "${2:-}" ;;
  heal) lock_id && cmd_heal "${2:-}" ;;
  remove) lock_id && cmd_remove "${2:-}" ;;
  firewall) lock_id && cmd_firewall "${2:-}" ;;
  firewall-many) lock_id && cmd_firewall_many ;;
  address) lock_id && cmd_address "${2:-}" "${3:-}" ;;
  lb) lock_id && cmd_lb "${2:-}" ;;
  lb-remove) lock_id && cmd_lb_remove ;;
  watch) cmd_watch "${2:-}" ;;
  registry) cmd_registry ;;
  base-image) cmd_base_image ;;
  build-image) cmd_build_image "${2:-}" "${3:-}" ;;
  status) cmd_status ;;
  *) die "$USAGE" ;;
esac
