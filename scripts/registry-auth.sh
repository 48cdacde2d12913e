#!/usr/bin/env bash
set -euo pipefail

# registry-auth.sh: keeps a manager able to hand fresh ECR credentials to the swarm.
#
# Verbs:  (none) | install  install the credential helper, point docker at it for REGISTRY, and
#                           enable a systemd timer that re-applies the stack's registry auth
#         remove            disable the timer of STACK_NAME and remove its settings
#         refresh           what the timer runs (also fine by hand)
# Env:    REGISTRY    ECR registry host, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com
#         AWS_REGION  the registry's region (the helper also reads it from the host name)
#         STACK_NAME  the timer's instance name (the program passes aws-swarm); every service
#                     of the swarm whose image is in REGISTRY is refreshed, whatever its stack
# stdout: install/remove: one line of JSON, e.g.
#         {"registry":"…","helper":"/usr/bin/docker-credential-ecr-login","timer":"aws-swarm-registry-auth@app.timer"}
# Run as: sudo bash -s [install|remove]   (script on stdin, rendered by lib/scripts.ts)
#
# Why: nodes pull from ECR with the instance role, but an ECR token lives 12 hours and swarm
# workers never ask a credential helper: they use the auth a manager's CLI stored in the service
# (`--with-registry-auth`). A task rescheduled a day after the deploy would fail to pull. So
# every 6 hours the swarm leader re-sends fresh credentials with
# `docker service update --with-registry-auth --detach` for each service whose image is in
# REGISTRY. Swarm ignores a change of pull credentials alone for running tasks (swarmkit#971),
# so nothing restarts.
#
# The helper is Ubuntu's `amazon-ecr-credential-helper` package (universe, in 24.04): the AWS CLI
# is no longer packaged for 24.04 (snap or a downloaded installer only), and the helper needs no
# `docker login` or stored password at all: docker asks it for a token whenever it needs one.
# Idempotent: files are rewritten only when they differ.

readonly ME=registry-auth
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
readonly HELPER_PACKAGE=amazon-ecr-credential-helper
readonly LIB_DIR=/usr/local/lib/aws-swarm
readonly REFRESH=$LIB_DIR/registry-auth-refresh.sh
readonly ENV_DIR=/etc/aws-swarm/registry-auth
readonly UNIT=aws-swarm-registry-auth

check_env() {
  [[ ${REGISTRY:-} =~ ^[a-z0-9.-]+(:[0-9]+)?$ ]] || die "REGISTRY must be a registry host name (got '${REGISTRY:-}')"
  [[ ${AWS_REGION:-} =~ ^[a-z0-9-]+$ ]] || die "AWS_REGION must be a region name (got '${AWS_REGION:-}')"
  [[ ${STACK_NAME:-} =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "STACK_NAME must be a stack name (got '${STACK_NAME:-}')"
}

install_helper() {
  if command -v docker-credential-ecr-login >/dev/null; then
    return 0
  fi
  log "installing $HELPER_PACKAGE"
  apt_get -qq update
  apt_get -y -qq install --no-install-recommends "$HELPER_PACKAGE"
  command -v docker-credential-ecr-login >/dev/null || die "$HELPER_PACKAGE did not install docker-credential-ecr-login"
}

# Adds {"credHelpers": {REGISTRY: "ecr-login"}} to a docker client config, keeping the rest.
configure_docker_client() {
  local home=$1 owner=$2
  install -d -m 0700 -o "$owner" "$home/.docker"
  python3 - "$home/.docker/config.json" "$REGISTRY" <<'PY'
import json, os, sys
path, registry = sys.argv[1], sys.argv[2]
try:
    with open(path) as f:
        config = json.load(f)
except FileNotFoundError:
    config = {}
helpers = config.setdefault("credHelpers", {})
if helpers.get(registry) != "ecr-login":
    helpers[registry] = "ecr-login"
    with open(path + ".tmp", "w") as f:
        json.dump(config, f, indent=2)
    os.chmod(path + ".tmp", 0o600)
    os.replace(path + ".tmp", path)
PY
  chown "$owner" "$home/.docker/config.json"
}

# The timer's job, copied into $REFRESH with `declare -f`; runs as root with the env file. It is a
# program of its own there, without lib/common.sh: hence plain `docker ... </dev/null` and echo.
refresh() {
  local svc image count=0
  : "${REGISTRY:?}" "${STACK_NAME:?}"
  if [[ $(docker info --format '{{.Swarm.ControlAvailable}}' </dev/null) != true ]]; then
    echo "not a swarm manager: nothing to refresh" >&2
    return 0
  fi
  # Every manager has the timer; only the leader acts, so each refresh happens once.
  if [[ $'\n'$(docker node ls --format '{{.Self}} {{.ManagerStatus}}' </dev/null)$'\n' != *$'\ntrue Leader\n'* ]]; then
    echo "not the swarm leader: nothing to refresh" >&2
    return 0
  fi
  printf '%s' "$REGISTRY" | docker-credential-ecr-login get >/dev/null ||
    { echo "cannot get an ECR token with the instance role for $REGISTRY" >&2; return 1; }
  while read -r svc; do
    [[ -n $svc ]] || continue
    image=$(docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "$svc" </dev/null)
    [[ $image == "$REGISTRY"/* ]] || continue
    docker service update --with-registry-auth --detach --quiet "$svc" </dev/null >/dev/null
    count=$((count + 1))
  done < <(docker service ls --format '{{.Name}}' </dev/null)
  echo "re-applied registry auth to $count service(s) using $REGISTRY" >&2
}

refresh_program() {
  printf '#!/usr/bin/env bash\n# Written by aws-swarm registry-auth.sh; see there.\nset -euo pipefail\n'
  declare -f refresh
  printf 'refresh "$@"\n'
}

service_unit() {
  cat <<EOF
[Unit]
Description=Re-apply fresh ECR credentials to the services of swarm stack %i
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
EnvironmentFile=$ENV_DIR/%i.env
ExecStart=$REFRESH
TimeoutStartSec=600
EOF
}

timer_unit() {
  cat <<'EOF'
[Unit]
Description=Refresh ECR credentials of swarm stack %i every 6 hours (tokens live 12)

[Timer]
OnBootSec=5min
OnCalendar=00/6:00
RandomizedDelaySec=10min
Persistent=true

[Install]
WantedBy=timers.target
EOF
}

# Files are rewritten only when they differ; systemd reloads only then.
write_units() {
  local changed=false
  if refresh_program | write_if_changed "$REFRESH" 0755; then changed=true; fi
  if printf 'REGISTRY=%s\nAWS_REGION=%s\nSTACK_NAME=%s\n' "$REGISTRY" "$AWS_REGION" "$STACK_NAME" |
    write_if_changed "$ENV_DIR/$STACK_NAME.env" 0644; then changed=true; fi
  if service_unit | write_if_changed "/etc/systemd/system/$UNIT@.service" 0644; then changed=true; fi
  if timer_unit | write_if_changed "/etc/systemd/system/$UNIT@.timer" 0644; then changed=true; fi
  if [[ $changed == true ]]; then
    systemctl daemon-reload
  fi
}

install_all() {
  if [[ -z ${AWS_REGION:-} ]]; then
    # Not ECR (the local test registry): no token expires, so there is nothing to refresh.
    log "$REGISTRY is not an ECR registry: nothing to install"
    printf '{"registry":"%s","helper":null,"timer":null}\n' "$REGISTRY"
    return 0
  fi
  check_env
  install_helper
  configure_docker_client /root root
  if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
    # So `docker service update --with-registry-auth` by the SSH user (update-image.sh) works too.
    configure_docker_client "$(getent passwd "$SUDO_USER" | cut -d: -f6)" "$SUDO_USER"
  fi
  printf '%s' "$REGISTRY" | docker-credential-ecr-login get >/dev/null ||
    die "the instance role cannot get an ECR token for $REGISTRY (needs ecr:GetAuthorizationToken and pull permissions)"
  write_units
  systemctl enable --now "$UNIT@$STACK_NAME.timer" </dev/null >&2
  printf '{"registry":"%s","helper":"%s","timer":"%s"}\n' \
    "$REGISTRY" "$(command -v docker-credential-ecr-login)" "$UNIT@$STACK_NAME.timer"
}

remove_all() {
  [[ ${STACK_NAME:-} =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "STACK_NAME must be a stack name"
  systemctl disable --now "$UNIT@$STACK_NAME.timer" </dev/null >/dev/null 2>&1 || true
  rm -f "$ENV_DIR/$STACK_NAME.env"
  printf '{"stack":"%s","timer":"removed"}\n' "$STACK_NAME"
}

main() {
  case ${1:-install} in
    install) install_all ;;
    remove) remove_all ;;
    refresh) refresh ;;
    *) die "usage: bash -s [install|remove|refresh] (got '$1')" ;;
  esac
}

main "$@"
