/**
 * The validated, defaulted shape of a stack's `aws-swarm:*` configuration. `parseConfig` in
 * `lib/config.ts` is the only producer; everything downstream trusts these values. The defaults
 * named below are constants in `lib/defaults.ts`.
 */

/** The config namespace; the project name in Pulumi.yaml. */
export const NAMESPACE = "aws-swarm";

/** The manager group's name in `NodeGroupConfig.name`; reserved for worker pools. */
export const MANAGER_GROUP_NAME = "manager";

export type NodeRole = "manager" | "worker";

export interface NodeGroupConfig {
  /** Pool name; `manager` for the manager group. Used in resource names and the `pool` label. */
  name: string;
  count: number;
  /** @default DEFAULT_INSTANCE_TYPE */
  instanceType: string;
  /** Root volume size in GiB. @default DEFAULT_VOLUME_SIZE */
  volumeSize: number;
  /** Node labels applied on join, in addition to the automatic `pool`, `role`, `az`, `instance-type`. */
  labels: Record<string, string>;
}

export interface SwarmSettings {
  /** Old task containers kept per task slot; swarm's own default is 5. @default DEFAULT_TASK_HISTORY_LIMIT */
  taskHistoryLimit: number;
  /** Encrypt the raft logs at rest; the unlock key becomes a secret output. @default DEFAULT_AUTOLOCK */
  autolock: boolean;
  /** Encrypt the stack's overlay network (IPsec, needs IP protocol 50). @default DEFAULT_ENCRYPT_OVERLAY */
  encryptOverlay: boolean;
  /** Validity of node certificates, Go duration. @default DEFAULT_CERT_EXPIRY */
  certExpiry: string;
  /** Address pool for overlay networks; must not overlap the VPC. @default DEFAULT_ADDR_POOL */
  defaultAddrPool: string;
  /** Raised by the user to rotate both join tokens. @default DEFAULT_TOKEN_GENERATION */
  tokenGeneration: number;
  /** Seconds a node is Down before `pulumi up` reports it. @default DEFAULT_REPORT_DOWN_AFTER */
  reportDownAfter: number;
}

export interface GatewayRoute {
  /** Path prefix, starting with "/". */
  path: string;
  /** The service's name in its compose file (without the stack prefix). */
  service: string;
  port: number;
  /**
   * The stack whose compose file declares `service`: written as `stack/service`, or found by
   * config validation when exactly one configured stack declares it. Absent: no stack declares
   * it, and the gateway looks for a Swarm service named exactly `service`.
   */
  stack?: string;
}

/** `errors`: only requests that failed or went wrong on the way (HAProxy's `dontlog-normal`). */
export type GatewayAccessLog = "errors" | "all";

export interface GatewayConfig {
  /** Published host-mode port. @default DEFAULT_GATEWAY_PORT */
  port: number;
  /** Who may reach the gateway port. @default DEFAULT_GATEWAY_PUBLIC_CIDRS */
  publicCidrs: string[];
  routes: GatewayRoute[];
  /** Which nodes run the gateway: "managers" or a worker pool name. @default DEFAULT_GATEWAY_PLACEMENT */
  placement: string;
  /** The gateway's image: must run `haproxy` (≥ 2.6) and `bash`. @default DEFAULT_GATEWAY_IMAGE */
  image: string;
  /** Which requests the gateway logs: "errors" (failed or abnormal ones) or "all". @default DEFAULT_GATEWAY_ACCESS_LOG */
  accessLog: GatewayAccessLog;
  /**
   * A Network Load Balancer in front of the gateway nodes, the cluster's one address (`url`); off,
   * clients dial the gateway nodes themselves (`gatewayUrls`). @default DEFAULT_GATEWAY_LOAD_BALANCER
   */
  loadBalancer: boolean;
  /** DNS name served over HTTPS (ACM certificate, alias record); needs `loadBalancer`. */
  domain?: string;
  /**
   * Route 53 public hosted zone of `domain`: its id (`Z…`) or its name.
   * @default `domain` without its first label (`app.example.org` → `example.org`)
   */
  hostedZone?: string;
}

export interface StackConfig {
  /** Stack name passed to `docker stack deploy`. @default DEFAULT_STACK_NAME */
  name: string;
  /** Compose file, relative to the project root. @default DEFAULT_STACK_FILE */
  file: string;
  /**
   * Values for `${VAR}` substitution in the compose file. Built images the file names add
   * `<NAME>_IMAGE` (upper-cased, '-' → '_') pinned by digest.
   * @default {}
   */
  variables: Record<string, string>;
}

export interface ImageConfig {
  /** Service-facing image name; an ECR repository of this name is created. */
  name: string;
  /** Build context directory, relative to the project root. */
  context: string;
  /** Dockerfile relative to the context. @default DEFAULT_DOCKERFILE */
  dockerfile: string;
}

export interface ClusterConfig {
  /** @default the stack name */
  clusterName: string;
  /** @default DEFAULT_VPC_CIDR */
  vpcCidr: string;
  /** How many availability zones to spread over. @default DEFAULT_AVAILABILITY_ZONES */
  availabilityZones: number;
  /** Pinned zone IDs; @default the first `availabilityZones` zones offering every instance type. */
  availabilityZoneIds?: string[];
  /** One-minute CloudWatch metrics for every node. @default DEFAULT_DETAILED_MONITORING */
  detailedMonitoring: boolean;
  /** CIDRs allowed to SSH to the nodes. Required, no default. */
  adminCidrs: string[];
  /** @default DEFAULT_SSH_USER */
  sshUser: string;
  /** Set when both `sshPublicKey` and `sshPrivateKey` are configured; otherwise a key is generated. */
  sshPublicKey?: string;
  managers: NodeGroupConfig;
  workerPools: NodeGroupConfig[];
  swarm: SwarmSettings;
  /** Deployed in this order, after the gateway's own stack. @default DEFAULT_STACKS */
  stacks: StackConfig[];
  gateway: GatewayConfig;
  images: ImageConfig[];
  /** AMI override; @default the latest Ubuntu 24.04 LTS from Canonical. */
  ami?: string;
}
