#!/usr/bin/env bash
set -euo pipefail

# authorize-key.sh: makes a node trust the cluster's current SSH key, so that a new key is rolled
# onto running nodes by a command instead of replacing every instance (EC2 installs a key pair
# only at first boot, and a new `keyName` would force a new instance). Runs where `pulumi up`
# runs (a local command), once per node, before any other step of that node.
#
# Env:
#   HOST              the node's public address
#   SSH_USER          the login on the node
#   SSH_PRIVATE_KEY   the cluster's current key (secret)
#   SSH_PUBLIC_KEY    its public half, as in authorized_keys
#   PULUMI_COMMAND_STDOUT  this step's previous stdout: the key the node trusted (secret; set by
#                     the command provider on an update)
#   DIAL_TIMEOUT      seconds to keep trying while the node boots (optional, default 300: an
#                     Ubuntu instance answers SSH within 1-2 minutes; a wrong adminCidrs must not
#                     cost more than a few)
# Stdout: SSH_PRIVATE_KEY, the key the node now trusts (the step's stdout is a secret, never logged)
#
# Logs in with the current key; if the node refuses it, with the previous one, adds the current
# public key to the user's authorized_keys and removes the previous one, then checks that the
# current key gets in. Keys it never set are left alone. Idempotent; an interrupted roll finishes
# on the next run (both keys are tried).

readonly ME=authorize-key
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

WORK=""
cleanup() { if [[ -n $WORK ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

# ssh with key file $1 to the node, running $2; exit 255 when it can't connect or log in.
node_ssh() {
  ssh -i "$1" -p 22 -o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 \
    "$SSH_USER@$HOST" "$2"
}

# The authorized_keys edit, run on the node as SSH_USER: NEW in, OLD (may be empty) out. A key is
# matched by its type and body; options and comments don't matter.
edit_script() {
  printf 'NEW=%q\nOLD=%q\n' "$SSH_PUBLIC_KEY" "$1"
  cat <<'EOF'
set -euo pipefail
file=$HOME/.ssh/authorized_keys
install -d -m 0700 "$HOME/.ssh"
touch "$file"
id_of() { awk '{ for (i = 1; i < NF; i++) if ($i ~ /^(ssh|ecdsa|sk)-/) { print $i " " $(i + 1); exit } }' <<<"$1"; }
new_id=$(id_of "$NEW") old_id=$(id_of "$OLD")
tmp=$(mktemp "$file.XXXXXX")
if [[ -n $old_id && $old_id != "$new_id" ]]; then grep -vF -- "$old_id" "$file" >"$tmp" || true; else cat "$file" >"$tmp"; fi
grep -qF -- "$new_id" "$tmp" || printf '%s\n' "$NEW" >>"$tmp"
chmod 0600 "$tmp"
mv -f "$tmp" "$file"
EOF
}

main() {
  require_env HOST SSH_USER SSH_PRIVATE_KEY SSH_PUBLIC_KEY
  seconds_env DIAL_TIMEOUT 300
  WORK=$(mktemp -d)
  # Compared without trailing newlines: the provider trims the one of the previous stdout.
  local current=${SSH_PRIVATE_KEY%$'\n'} previous=${PULUMI_COMMAND_STDOUT:-}
  (umask 077 && printf '%s\n' "$current" >"$WORK/new")
  local old="" old_public="" deadline=$((SECONDS + DIAL_TIMEOUT))
  if [[ -n $previous && ${previous%$'\n'} != "$current" ]]; then
    (umask 077 && printf '%s\n' "$PULUMI_COMMAND_STDOUT" >"$WORK/old")
    old=$WORK/old
    old_public=$(ssh-keygen -y -f "$old") || die "the previous key (this step's last stdout) is not a private key"
  fi

  local login=""
  until [[ -n $login ]]; do
    if node_ssh "$WORK/new" true </dev/null; then
      login=$WORK/new
    elif [[ -n $old ]] && node_ssh "$old" true </dev/null; then
      login=$old
      log "$HOST refuses the current key and accepts the previous one: rolling the key"
    elif ((SECONDS >= deadline)); then
      die "$HOST accepted neither the current nor the previous SSH key within ${DIAL_TIMEOUT}s (is it running, and does adminCidrs include this machine's public address?)"
    else
      sleep 5
    fi
  done

  if [[ -n $old ]]; then
    edit_script "$old_public" | node_ssh "$login" "bash -s" >&2 ||
      die "could not update $SSH_USER's authorized_keys on $HOST (messages above)"
    node_ssh "$WORK/new" true </dev/null ||
      die "$HOST still refuses the current key after authorized_keys was updated"
    log "$HOST trusts the current key only"
  fi
  printf '%s\n' "$current"
}

main "$@"
