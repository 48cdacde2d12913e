#!/usr/bin/env bash
set -euo pipefail

# user-data.sh: EC2 user data; cloud-init runs it as root on the first boot of every node.
#
# Installs Docker CE and containerd from Docker's apt repository for Ubuntu (Debian works too),
# pinned to exact versions, and the ECR credential helper; configures log rotation, starts Docker, lets
# SSH_USER use it, and finally writes the readiness
# marker /var/lib/aws-swarm/ready that wait-ready.sh waits for.
#
# Env (rendered in by lib/scripts.ts; user data is stored in plain text, so NEVER a secret here):
#   DOCKER_VERSION      Docker CE version, e.g. 29.8.1 (apt pin "5:29.8.1-1~*": engine, CLI, rootless extras)
#   CONTAINERD_VERSION  containerd.io version, e.g. 2.3.6 (apt pin "2.3.6-1~*")
#   SSH_USER        the login user added to the docker group, e.g. ubuntu
#   LOG_MAX_SIZE    json-file log rotation size, e.g. 10m
#   LOG_MAX_FILE    json-file log files kept per container, e.g. 3
# Stdout: progress only (it goes to /var/log/cloud-init-output.log)
#
# Safe to run again by hand: files are only rewritten when their content changes, and Docker is
# only restarted when daemon.json changed.

readonly ME=user-data
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
readonly READY_MARKER=/var/lib/aws-swarm/ready
readonly DOCKER_APT_BASE=https://download.docker.com/linux
readonly KEYRING=/etc/apt/keyrings/docker.asc
readonly DAEMON_JSON=/etc/docker/daemon.json

check_env() {
  require_env DOCKER_VERSION CONTAINERD_VERSION SSH_USER LOG_MAX_SIZE LOG_MAX_FILE
  # These checks also make daemon_json and the apt pin safe by construction: no quoting needed.
  [[ $DOCKER_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
    die "DOCKER_VERSION must be an exact version such as 29.8.1, got '$DOCKER_VERSION'"
  [[ $CONTAINERD_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
    die "CONTAINERD_VERSION must be an exact version such as 2.3.6, got '$CONTAINERD_VERSION'"
  [[ $SSH_USER =~ ^[a-z_][a-z0-9_-]*$ ]] || die "SSH_USER must be a user name, got '$SSH_USER'"
  [[ $LOG_MAX_SIZE =~ ^[0-9]+[kmg]$ ]] || die "LOG_MAX_SIZE must be a size such as 10m, got '$LOG_MAX_SIZE'"
  [[ $LOG_MAX_FILE =~ ^[1-9][0-9]*$ ]] || die "LOG_MAX_FILE must be a positive whole number, got '$LOG_MAX_FILE'"
}

# The whole of /etc/docker/daemon.json. No "live-restore": Docker refuses it together with swarm
# mode. The values were validated by check_env, so they need no JSON escaping.
daemon_json() {
  printf '{\n'
  printf '  "log-driver": "json-file",\n'
  printf '  "log-opts": {\n'
  printf '    "max-size": "%s",\n' "$LOG_MAX_SIZE"
  printf '    "max-file": "%s"\n' "$LOG_MAX_FILE"
  printf '  }\n'
  printf '}\n'
}

# The apt pin: the engine (with its CLI) and containerd only at the requested versions, any build
# of them for this distribution ("-1~ubuntu.24.04~noble"), never another version. The first
# matching record decides a version's priority, so the pinned one gets 1001 and every other -1
# (never installed): a missing pinned version fails the install instead of taking another one.
apt_preferences() {
  pin "docker-ce docker-ce-cli docker-ce-rootless-extras" "5:$DOCKER_VERSION-*"
  printf '\n'
  pin containerd.io "$CONTAINERD_VERSION-*"
}

pin() {
  printf 'Package: %s\nPin: version %s\nPin-Priority: 1001\n\n' "$1" "$2"
  printf 'Package: %s\nPin: version *\nPin-Priority: -1\n' "$1"
}

# Fails unless dpkg has package $1 installed at a version matching the glob $2.
require_installed() {
  local installed
  installed=$(dpkg-query -W -f '${Version}' "$1")
  # shellcheck disable=SC2053 # $2 is a glob on purpose
  [[ $installed == $2 ]] || die "$1 $installed is installed, not $2"
}

add_docker_repository() {
  local distro codename arch url
  # shellcheck source=/dev/null # /etc/os-release is the node's, not part of this repository
  distro=$(. /etc/os-release && printf '%s' "$ID")
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release && printf '%s' "${UBUNTU_CODENAME:-$VERSION_CODENAME}")
  case $distro in
    ubuntu | debian) ;;
    *) die "this script installs Docker on Ubuntu (or Debian), not on '$distro'; use an Ubuntu AMI" ;;
  esac
  url=$DOCKER_APT_BASE/$distro
  arch=$(dpkg --print-architecture)
  install -m 0755 -d /etc/apt/keyrings
  if [[ ! -s $KEYRING ]]; then
    curl -fsSL --retry 5 --retry-delay 5 "$url/gpg" -o "$KEYRING.tmp"
    chmod a+r "$KEYRING.tmp"
    mv -f "$KEYRING.tmp" "$KEYRING"
  fi
  printf 'deb [arch=%s signed-by=%s] %s %s stable\n' "$arch" "$KEYRING" "$url" "$codename" |
    write_if_changed /etc/apt/sources.list.d/docker.list 0644 || true
  apt_preferences | write_if_changed /etc/apt/preferences.d/docker 0644 || true
}

install_docker() {
  apt_get update -q
  apt_get install -y -q --no-install-recommends ca-certificates curl
  add_docker_repository
  apt_get update -q
  apt_get install -y -q docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
  # The ECR credential helper (Ubuntu universe), at first boot on every node with the same
  # retrying apt_get: a manager that becomes the one running registry-auth.sh later then needs
  # no apt run, which could hit a busy dpkg lock or a mirror hiccup in the middle of a deploy.
  apt_get install -y -q --no-install-recommends amazon-ecr-credential-helper
}

main() {
  check_env
  log "preparing this node for Docker $DOCKER_VERSION"
  install -m 0755 -d /etc/docker /var/lib/aws-swarm
  # daemon.json first, so that the daemon the package starts already rotates its logs; a daemon
  # that was already running (a second run) is restarted only if the file changed.
  local restart=false
  if daemon_json | write_if_changed "$DAEMON_JSON" 0644 && systemctl is-active --quiet docker.service; then
    restart=true
  fi
  install_docker
  require_installed docker-ce "5:$DOCKER_VERSION-*"
  require_installed containerd.io "$CONTAINERD_VERSION-*"
  systemctl enable docker.service containerd.service
  if [[ $restart == true ]]; then
    systemctl restart docker.service
  else
    systemctl start docker.service
  fi
  if id "$SSH_USER" >/dev/null 2>&1; then
    usermod -aG docker "$SSH_USER"
  else
    log "warning: user $SSH_USER does not exist; not adding it to the docker group"
  fi
  info '{{.ServerVersion}}' >/dev/null ||
    die "Docker was installed but does not answer; see 'journalctl -u docker'"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$READY_MARKER"
  log "Docker $DOCKER_VERSION (containerd $CONTAINERD_VERSION) is ready; wrote $READY_MARKER"
}

main "$@"
