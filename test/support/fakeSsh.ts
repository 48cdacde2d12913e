/**
 * The start of a stand-in `ssh` for tests of scripts that dial nodes: it reads OpenSSH's
 * arguments into `key` (the -i file), `host` and `remote` (the command), leaving `$*` as the rest
 * of the command line; the test appends what the host does.
 */
export const FAKE_SSH_PROLOGUE = `#!/usr/bin/env bash
set -euo pipefail
key="" host="" remote=""
while (($#)); do
  case $1 in
    -i) key=$2; shift 2 ;;
    -o|-p) shift 2 ;;
    *@*) host=\${1#*@}; remote=$2; break ;;
    *) shift ;;
  esac
done
`;
