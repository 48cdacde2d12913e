import { renderScript } from "./scripts";
import { SwarmSettings } from "./types";

/**
 * The node scripts of the swarm's formation, one renderer per step of SwarmCluster (see the README,
 * "How the swarm is formed"); components/remoteCommand.ts runs them.
 */

/** Bounded waits on the nodes, in seconds. */
const READY_TIMEOUT_SECONDS = 600;
const DRAIN_TIMEOUT_SECONDS = 120;

/** The secrets swarm-token.sh reads on a manager, by verb. */
export type SwarmSecret = "worker" | "manager" | "unlock-key";

/** Labels travel as `key=value` lines, sorted so that the rendered script is stable. */
function formatLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join("\n");
}

/** ENCRYPT_OVERLAY is only passed when on, so that a cluster without it sees no change. */
export function renderReady(encryptOverlay = false): string {
  return renderScript("wait-ready", {
    READY_TIMEOUT: String(READY_TIMEOUT_SECONDS),
    ...(encryptOverlay && { ENCRYPT_OVERLAY: "true" }),
  });
}

/** The address to advertise is the private address of the manager it runs on (CONTROL_ADDR). */
export function renderInit(clusterName: string, settings: SwarmSettings): string {
  return renderScript("swarm-init", {
    CLUSTER_NAME: clusterName,
    TASK_HISTORY_LIMIT: String(settings.taskHistoryLimit),
    AUTOLOCK: String(settings.autolock),
    CERT_EXPIRY: settings.certExpiry,
    DEFAULT_ADDR_POOL: settings.defaultAddrPool,
    DEFAULT_ADDR_POOL_MASK_LENGTH: "24",
  });
}

/** The verb (a SwarmSecret, or `rotate`) says what to do; the generation is what `rotate` records. */
export function renderToken(generation?: number): string {
  return renderScript("swarm-token", generation === undefined ? {} : { TOKEN_GENERATION: String(generation) });
}

export interface JoinParameters {
  role: "manager" | "worker";
  /** Every configured manager's private address: the join tries each in turn. */
  managerAddrs: string[];
  token: string;
  advertiseAddr: string;
  swarmId: string;
}

export function renderJoin(p: JoinParameters): string {
  return renderScript("swarm-join", {
    ROLE: p.role,
    MANAGER_ADDRS: p.managerAddrs.join(" "),
    SWARM_JOIN_TOKEN: p.token,
    ADVERTISE_ADDR: p.advertiseAddr,
    SWARM_ID: p.swarmId,
  });
}

export function renderMember(nodeId: string, labels: Record<string, string>): string {
  return renderScript("node-member", {
    NODE_ID: nodeId,
    LABELS: formatLabels(labels),
    DRAIN_TIMEOUT: String(DRAIN_TIMEOUT_SECONDS),
  });
}
