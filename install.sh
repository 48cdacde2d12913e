#!/usr/bin/env bash
# One-step set-up of a development machine (Debian/Ubuntu): the Debian packages the real-cluster
# tests need, then the locked npm dependencies. Safe to run again.
set -euo pipefail

PACKAGES=(
  docker.io            # dockerd/containerd for the test hosts
  openssh-server       # one sshd per test host
  openssh-client       # what the program's remote commands use in tests
  iproute2 iptables    # network namespaces, veth, bridge, forwarding, NAT, security-group filters
  nftables             # `nft`: the harness's partitions (bridge-family table)
  util-linux           # nsenter, unshare
  sudo                 # node scripts run as `sudo bash -s`, like on EC2
  docker-registry      # the local registry nodes pull from, standing in for ECR
  debootstrap          # the test hosts' Debian trixie userland and the base image; nothing can be pulled here
  haproxy              # `haproxy -c` on generated gateway configs; the load balancer stand-in
  openssl              # the stand-in's certificates where the program asks ACM for one
  shellcheck           # every node script is linted
  systemd              # `systemd-analyze verify` of the units node scripts write (no running systemd needed)
  curl jq wrk procps psmisc
)

main() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  if command -v apt-get >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
  else
    echo "install.sh: no apt-get here; install these yourself: ${PACKAGES[*]}" >&2
  fi
  cd "$(dirname "$0")"
  npm ci --no-audit --no-fund
}

main "$@"
