#!/usr/bin/env bash
set -euo pipefail

# wait-ready.sh: the first remote command on every node.
#
# Waits until the node has finished booting: cloud-init done (where cloud-init exists), the user
# data's readiness marker written, and the Docker daemon answering. Everything is bounded by one
# deadline, READY_TIMEOUT seconds from the start.
#
# Env:    READY_TIMEOUT  seconds to wait in total (optional, default 600)
#         ENCRYPT_OVERLAY  `true` (swarm.encryptOverlay): also check that the kernel can do the
#                        IPsec ESP an encrypted overlay needs (optional, default false)
# Stdout: the Docker server version, e.g. "27.5.1"
# Run as: sudo bash -s   (script on stdin, rendered by lib/scripts.ts)

readonly ME=wait-ready
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
readonly READY_MARKER=/var/lib/aws-swarm/ready

# Seconds left until the deadline, at least 1 (`timeout 0` would mean "no limit").
remaining() {
  local left=$((DEADLINE - SECONDS))
  if ((left < 1)); then left=1; fi
  printf '%s\n' "$left"
}

wait_for_cloud_init() {
  if ! command -v cloud-init >/dev/null 2>&1; then
    log "no cloud-init on this host; not waiting for it"
    return 0
  fi
  log "waiting for cloud-init to finish"
  local rc=0
  # Exit 2 means "finished with recoverable errors" (cloud-init >= 23.4): the node still booted.
  timeout "$(remaining)" cloud-init status --wait </dev/null >&2 || rc=$?
  case $rc in
    0) ;;
    2) log "cloud-init finished with recoverable errors (exit 2); continuing" ;;
    124) die "cloud-init had not finished after ${READY_TIMEOUT}s; see 'cloud-init status --long' and /var/log/cloud-init-output.log on the node, or raise the ready timeout" ;;
    *) die "cloud-init failed (exit $rc); see 'cloud-init status --long' and /var/log/cloud-init-output.log on the node" ;;
  esac
}

wait_for_marker() {
  until [[ -e $READY_MARKER ]]; do
    if ((SECONDS >= DEADLINE)); then
      die "user data did not finish: $READY_MARKER is missing after ${READY_TIMEOUT}s; see /var/log/cloud-init-output.log on the node (Docker install failed?)"
    fi
    sleep 2
  done
}

wait_for_docker() {
  local version=""
  until version=$(info '{{.ServerVersion}}' 2>/dev/null) && [[ -n $version ]]; do
    if ((SECONDS >= DEADLINE)); then
      die "the Docker daemon is not answering after ${READY_TIMEOUT}s; check 'systemctl status docker' and 'journalctl -u docker' on the node"
    fi
    sleep 2
  done
  printf '%s\n' "$version"
}

# An encrypted overlay needs ESP with AES-GCM in the kernel. Without it Docker still creates the
# network and starts its tasks, but can't install the security associations, so tasks on
# different nodes silently can't talk. The probe installs the kind of SA Docker installs, in a
# throwaway network namespace, so the node's own state is untouched.
check_esp() {
  local key error
  key=0x$(printf '%040d' 0)
  if ! error=$(unshare --net ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 \
    mode transport aead 'rfc4106(gcm(aes))' "$key" 128 2>&1 </dev/null); then
    die "swarm.encryptOverlay is on, but this kernel can't do IPsec ESP with AES-GCM ($error): the encrypted overlay would drop all traffic between nodes. Use a kernel with the esp4 and xfrm modules (Ubuntu's generic and aws kernels have them), or turn swarm.encryptOverlay off"
  fi
  log "the kernel can do IPsec ESP (AES-GCM) for the encrypted overlay"
}

main() {
  seconds_env READY_TIMEOUT 600
  DEADLINE=$((SECONDS + READY_TIMEOUT))
  wait_for_cloud_init
  wait_for_marker
  if [[ ${ENCRYPT_OVERLAY:-false} == true ]]; then check_esp; fi
  log "readiness marker present; waiting for the Docker daemon"
  wait_for_docker
}

main "$@"
