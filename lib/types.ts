/**
 * The validated, defaulted shape of a stack's `aws-swarm:*` configuration. `parseConfig` in
 * `lib/config.ts` is the only producer; everything downstream trusts these values.
 */

export type NodeRole = "manager" | "worker";

export interface NodeGroupConfig {
  /** Pool name; `manager` for the manager group. Used in resource names and the `pool` label. */
  name: string;
  count: number;
  /** @default "t3.small" */
  instanceType: string;
  /** Root volume size in GiB. @default 20 */
  volumeSize: number;
  /** Node labels applied on join, in addition to the automatic `pool`, `role`, `az`, `instance-type`. */
  labels: Record<string, string>;
}

export interface SwarmSettings {
  /** Old task containers kept per task slot; swarm's own default is 5. @default 2 */
  taskHistoryLimit: number;
  /** Encrypt the raft logs at rest; the unlock key becomes a secret output. @default false */
  autolock: boolean;
  /** Encrypt the stack's overlay network (IPsec, needs IP protocol 50). @default false */
  encryptOverlay: boolean;
  /** Validity of node certificates, Go duration. @default "2160h" */
  certExpiry: string;
  /** Address pool for overlay networks; must not overlap the VPC. @default "10.128.0.0/12" */
  defaultAddrPool: string;
}

export interface GatewayRoute {
  /** Path prefix, starting with "/". */
  path: string;
  /** Swarm service name inside the stack (without the stack prefix). */
  service: string;
  port: number;
}

export interface GatewayConfig {
  /** Published host-mode port. @default 80 */
  port: number;
  /** Who may reach the gateway port. @default ["0.0.0.0/0"] */
  publicCidrs: string[];
  routes: GatewayRoute[];
  /** Which nodes run the gateway: "managers" or a worker pool name. @default "managers" */
  placement: string;
}

export interface StackConfig {
  /** Stack name passed to `docker stack deploy`. @default "app" */
  name: string;
  /** Compose file, relative to the project root. @default "stacks/app.yml" */
  file: string;
  /**
   * Values for `${VAR}` substitution in the compose file, e.g. image overrides such as
   * `GATEWAY_IMAGE`. Built images add `<NAME>_IMAGE` (upper-cased, '-' → '_') pinned by digest.
   * @default {}
   */
  variables: Record<string, string>;
}

export interface ImageConfig {
  /** Service-facing image name; an ECR repository of this name is created. */
  name: string;
  /** Build context directory, relative to the project root. */
  context: string;
  /** Dockerfile relative to the context. @default "Dockerfile" */
  dockerfile: string;
}

export interface ClusterConfig {
  /** @default the stack name */
  clusterName: string;
  /** @default "10.0.0.0/16" */
  vpcCidr: string;
  /** How many availability zones to spread over. @default 2 */
  availabilityZones: number;
  /** CIDRs allowed to SSH to the nodes. Required, no default. */
  adminCidrs: string[];
  /** @default "ubuntu" */
  sshUser: string;
  /** Set when both `sshPublicKey` and `sshPrivateKey` are configured; otherwise a key is generated. */
  sshPublicKey?: string;
  managers: NodeGroupConfig;
  workerPools: NodeGroupConfig[];
  swarm: SwarmSettings;
  stack: StackConfig;
  gateway: GatewayConfig;
  images: ImageConfig[];
  /** AMI override; @default the latest Ubuntu 24.04 LTS from Canonical. */
  ami?: string;
}
