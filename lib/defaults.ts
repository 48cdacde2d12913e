/**
 * Every default a user can see, in one place. The config parser falls back to these, the tables
 * in docs/configuration.md state them, and test/config.test.ts checks that the three agree.
 */

import type { GatewayAccessLog } from "./types";

// ---------------------------------------------------------------------------------------------
// `aws-swarm:*` keys a stack file may leave out.

export const DEFAULT_VPC_CIDR = "10.0.0.0/16";
export const DEFAULT_AVAILABILITY_ZONES = 2;
export const DEFAULT_SSH_USER = "ubuntu";
/** Five-minute basic metrics are free; one-minute metrics are billed per instance (prod turns them on). */
export const DEFAULT_DETAILED_MONITORING = false;
export const DEFAULT_MANAGER_COUNT = 1;
export const DEFAULT_INSTANCE_TYPE = "t3.small";
/** GiB; Docker images and container logs live on the root volume. */
export const DEFAULT_VOLUME_SIZE = 20;
/** Swarm's own default is 5; 2 keeps a rollback target without filling disks with dead tasks. */
export const DEFAULT_TASK_HISTORY_LIMIT = 2;
export const DEFAULT_AUTOLOCK = false;
/** Raise it to rotate both join tokens (after a token leaked, or on a schedule). */
export const DEFAULT_TOKEN_GENERATION = 0;
export const DEFAULT_ENCRYPT_OVERLAY = false;
/** Seconds; a reboot takes well under a minute, so a node Down for 5 minutes is really lost. */
export const DEFAULT_REPORT_DOWN_AFTER = 300;
/** Docker's own default node-certificate validity (90 days). */
export const DEFAULT_CERT_EXPIRY = "2160h";
/** Outside 10.0.0.0/16 and Docker's 10.0.0.0/8 default pool, which would overlap the VPC. */
export const DEFAULT_ADDR_POOL = "10.128.0.0/12";
/** The sample: the user's infra stack (grafana on the low-memory node), then their app stack. */
export const DEFAULT_STACKS: readonly { name: string; file: string; variables: Record<string, string> }[] = [
  { name: "infra", file: "stacks/infra.yml", variables: {} },
  { name: "app", file: "stacks/app.yml", variables: {} },
];
export const DEFAULT_GATEWAY_PORT = 80;
export const DEFAULT_GATEWAY_PUBLIC_CIDRS: readonly string[] = ["0.0.0.0/0"];
/** Also the one placement that is not a worker pool, so no pool may take this name. */
export const DEFAULT_GATEWAY_PLACEMENT = "managers";
/**
 * HAProxy 3.2 (LTS, Debian trixie), pinned to the digest of its multi-platform index so a deploy
 * months later runs the same bits. To move on: `docker buildx imagetools inspect haproxy:<tag>`.
 */
export const DEFAULT_GATEWAY_IMAGE =
  "haproxy:3.2.24@sha256:fa8c8825c5ca0e0f65c3fc2059b92e9d1735a640b2b38091823a959a64016c4f";
/**
 * A line per failed or abnormal request (5xx, timeouts, retries, redispatches, aborted
 * connections), not per request: the gateway's log is where a failure is looked for, and a line
 * per request costs the gateway CPU on every request (measured in docs/benchmarks.md) and dockerd
 * the work of storing every line.
 */
export const DEFAULT_GATEWAY_ACCESS_LOG: GatewayAccessLog = "errors";
/** One address for the whole cluster (a Network Load Balancer, about $16 a month plus traffic). */
export const DEFAULT_GATEWAY_LOAD_BALANCER = true;
export const DEFAULT_DOCKERFILE = "Dockerfile";

// ---------------------------------------------------------------------------------------------
// Built-in settings a user meets but does not configure.

/** Gateway server slots per backend: must cover replicas + the start-first surge of a rolling update. */
export const DEFAULT_SLOTS = 10;
/** Seconds deploy-stack.sh waits for every service to run its tasks. */
export const DEFAULT_CONVERGE_TIMEOUT = 600;
/** Path the gateway answers itself, for load-balancer health checks. */
export const GATEWAY_HEALTH_PATH = "/healthz";
/** Path the gateway probes on every task of a routed service. */
export const DEFAULT_SERVICE_HEALTH_PATH = "/healthz";
