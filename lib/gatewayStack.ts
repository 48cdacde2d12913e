/**
 * The gateway is aws-swarm's own stack, not a block in the user's compose file: HAProxy on the
 * gateway nodes, on an overlay network of its own that the program attaches exactly the routed
 * services to (lib/stack.ts). Rendered here as a compose document, so `docker stack deploy`,
 * `--prune`, config objects and rolling updates work for it as for any stack.
 */
import { stringify } from "yaml";
import { ENCRYPTED_NETWORK_SUFFIX } from "./compose";
import { GATEWAY_HEALTH_PATH } from "./defaults";

/** The gateway's stack name; refused as a user stack's name. */
export const GATEWAY_STACK = "aws-swarm";
/** Its service: `aws-swarm_gateway` in `docker service ls`. */
export const GATEWAY_SERVICE = "gateway";
/** The network's key in every compose file that uses it; reserved in users' files. */
export const GATEWAY_NETWORK_KEY = "aws-swarm-gateway";
/** The file the gateway's config object reads, written beside the compose file. */
export const HAPROXY_FILE = "haproxy.cfg";
/** Where the `haproxy` image reads its configuration. */
const HAPROXY_CONFIG_PATH = "/usr/local/etc/haproxy/haproxy.cfg";
/**
 * A stopping gateway fails its health check for the grace period while still serving, then
 * finishes in-flight requests (hard-stop-after 30 s): 65 s covers both before Docker kills it.
 */
const STOP_GRACE_PERIOD = "65s";

/**
 * The network the routed services join. Encrypted it is another network (Docker never changes an
 * existing one's options), so turning `swarm.encryptOverlay` on or off moves them to the other one.
 * The gateway is always on both: the services then move by their own rolling updates while the
 * gateway keeps reaching every task, old and new, and it never restarts for the setting.
 */
export function gatewayNetworkName(encrypted: boolean): string {
  return encrypted ? `${GATEWAY_NETWORK_KEY}${ENCRYPTED_NETWORK_SUFFIX}` : GATEWAY_NETWORK_KEY;
}

/** Both networks, by their key in the gateway's compose file (each key is its name). */
const GATEWAY_NETWORKS = [false, true].map((encrypted) => ({ key: gatewayNetworkName(encrypted), encrypted }));

export interface GatewayStackInput {
  image: string;
  /** Host-mode port published on each gateway node. */
  port: number;
  /** Port HAProxy listens on in the container. */
  containerPort: number;
  /** Content hash of haproxy.cfg: a new routing table is a new config object, which rolls the gateway. */
  configHash: string;
}

/** The gateway stack's compose file. */
export function renderGatewayCompose(input: GatewayStackInput): string {
  const compose = {
    services: { [GATEWAY_SERVICE]: gatewayService(input) },
    networks: Object.fromEntries(
      GATEWAY_NETWORKS.map(({ key, encrypted }) => [
        key,
        {
          name: key,
          driver: "overlay",
          // Attachable: `docker run --network aws-swarm-gateway` can debug a route from any node.
          attachable: true,
          // The overlay driver encrypts when the option is merely present, whatever its value.
          ...(encrypted && { driver_opts: { encrypted: "" } }),
        },
      ]),
    ),
    configs: {
      "gateway-config": {
        name: `${GATEWAY_STACK}_${GATEWAY_SERVICE}-${input.configHash}`,
        file: `./${HAPROXY_FILE}`,
      },
    },
  };
  return stringify(compose, { lineWidth: 0 });
}

function gatewayService(input: GatewayStackInput): Record<string, unknown> {
  // The images have no curl; bash's /dev/tcp asks the gateway's own health path.
  const probe =
    `exec 3<>/dev/tcp/127.0.0.1/${input.containerPort} && ` +
    `printf 'GET ${GATEWAY_HEALTH_PATH} HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '`;
  return {
    image: input.image,
    // Master-worker in the foreground; the config path is where the config object is mounted.
    entrypoint: ["haproxy", "-W", "-db", "-f", HAPROXY_CONFIG_PATH],
    command: [],
    configs: [{ source: "gateway-config", target: HAPROXY_CONFIG_PATH, mode: 0o444 }],
    // Host mode: no ingress mesh (it needs IPVS), and HAProxy sees the real client address.
    ports: [{ target: input.containerPort, published: input.port, protocol: "tcp", mode: "host" }],
    networks: GATEWAY_NETWORKS.map(({ key }) => key),
    healthcheck: {
      test: ["CMD", "bash", "-c", probe],
      interval: "5s",
      timeout: "5s",
      retries: 3,
      start_period: "5s",
    },
    // HAProxy's soft stop: the grace period, then in-flight requests finish.
    stop_signal: "SIGUSR1",
    stop_grace_period: STOP_GRACE_PERIOD,
    deploy: {
      mode: "global",
      endpoint_mode: "dnsrr",
      placement: { constraints: ["node.labels.aws-swarm.gateway == true"] },
      // A host-mode port can't be bound twice on one node: stop-first, one node at a time, so
      // the other gateway nodes (and the load balancer's health check) carry the traffic.
      update_config: {
        parallelism: 1,
        delay: "10s",
        order: "stop-first",
        failure_action: "rollback",
        monitor: "15s",
        max_failure_ratio: 0,
      },
      rollback_config: { parallelism: 1, order: "stop-first", failure_action: "pause", monitor: "10s" },
      restart_policy: { condition: "any", delay: "2s" },
      resources: {
        limits: { cpus: "1.0", memory: "256M" },
        reservations: { cpus: "0.1", memory: "64M" },
      },
    },
  };
}
