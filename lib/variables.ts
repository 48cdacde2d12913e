/**
 * Stack variables become environment variables of deploy-stack.sh, which runs `docker stack
 * deploy` with them. These names would change how bash, the dynamic linker, the docker CLI or its
 * HTTP client (proxies, trusted certificates, Go runtime settings) behave, so they are refused by
 * config validation (lib/configSwarm.ts) and again by the script (its `case` in export_variables
 * lists the same patterns; a unit test compares them). Patterns are bash `case` globs.
 */
export const RESERVED_VARIABLES: readonly string[] = [
  "PATH",
  "HOME",
  "IFS",
  "ENV",
  "CDPATH",
  "GLOBIGNORE",
  "PS4",
  "SHELLOPTS",
  "BASHOPTS",
  "BASH_*",
  "LD_*",
  "DOCKER_*",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "GODEBUG",
];

/** The reserved pattern `name` matches, or undefined. */
export function reservedVariable(name: string): string | undefined {
  return RESERVED_VARIABLES.find((pattern) =>
    pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern,
  );
}
