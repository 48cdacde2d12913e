/**
 * The rules a gateway route must follow, shared by config validation (lib/configSwarm.ts) and the
 * HAProxy renderer (lib/haproxy.ts), so that a route the renderer can't take is refused, naming
 * its key, before anything is created.
 */
import { GATEWAY_HEALTH_PATH } from "./defaults";

/**
 * Characters of a URL path (RFC 3986 pchar and "/"), written unquoted into haproxy.cfg: so no
 * quote (' opens a strongly quoted string there, " a weakly quoted one) and no backslash.
 */
const PLAIN_PATH = /^\/[A-Za-z0-9._~!$&()*+,;=:@%/-]*$/;

/** A route prefix without its trailing slash ("/api/" → "/api"); "/" stays "/". */
export function normalizePrefix(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

/** Why a path can't be a route prefix; undefined when it can. */
export function routePathProblem(path: string): string | undefined {
  return PLAIN_PATH.test(path)
    ? undefined
    : "is not a plain URL path prefix: '/' then letters, digits and - . _ ~ ! $ & ( ) * + , ; = : @ % /";
}

/** Why a route can't have this prefix although it is a plain path: the gateway answers it itself. */
export function ownPathProblem(path: string): string | undefined {
  return normalizePrefix(path) === GATEWAY_HEALTH_PATH
    ? `is the gateway's own health path (${GATEWAY_HEALTH_PATH}, for load-balancer checks): requests to it never reach a service; use another path`
    : undefined;
}

/** For each route (by index) whose normalised prefix an earlier route already has: that route's index. */
export function prefixClashes(paths: readonly string[]): Map<number, number> {
  const first = new Map<string, number>();
  const clashes = new Map<number, number>();
  paths.forEach((path, i) => {
    const prefix = normalizePrefix(path);
    const earlier = first.get(prefix);
    if (earlier === undefined) {
      first.set(prefix, i);
    } else {
      clashes.set(i, earlier);
    }
  });
  return clashes;
}
