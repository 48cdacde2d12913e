// Typed wrapper around test/harness/hosts.sh for jest tests and the cluster CLI.
// Linux and root only; see test/harness/README.md.
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** One test host: a network/mount/UTS namespace with its own dockerd and sshd; an EC2 instance. */
export interface TestHost {
  name: string;
  /** On the host's eth0; what other hosts dial inside the "VPC" (security groups name these). */
  privateIp: string;
  /** 1:1 NAT in the root namespace: what the runner dials (SSH), and the source a host's traffic
   * to another host's public address arrives with. Moves on `powerOn(..., { newPublicIp: true })`. */
  publicIp: string;
  /** The public address is an Elastic IP (`associateAddress`): it survives a stop and a start. */
  elasticIp?: boolean;
  netns: string;
  /** "stopped" after powerOff: no process, no link, disk kept. */
  state: "running" | "stopped";
  partitioned: boolean;
  /** @deprecated the private address; dial `publicIp` from the runner, advertise `privateIp`. */
  ip: string;
}

/** An ingress rule as a security group has it; `hosts.sh firewall` takes a list of them. */
export interface FirewallRule {
  /** "tcp" | "udp" | "icmp" | "-1" (all) | an IP protocol number as a string (e.g. "50" = ESP). */
  protocol: string;
  /** Port range for tcp/udp (ignored for "-1"); ICMP type and code for icmp; -1 = any. */
  fromPort: number;
  toPort: number;
  /** IPv4 CIDRs the rule admits (IPv6 ones are ignored: the hosts have no IPv6). */
  sources: string[];
}

/** The verbs `fault` takes (`hosts.sh <kind> NAME`). */
export type FaultKind = "poweroff" | "poweron" | "partition" | "heal" | "restart-docker" | "reboot";

/** What `hosts.sh up` writes to /run/aws-swarm-harness/<id>/hosts.json, plus the id. */
export interface HarnessInfo {
  id: number;
  /** host:port of the harness registry, reachable from every host (insecure, plain HTTP). */
  registry: string;
  sshUser: string;
  privateKeyPath: string;
  publicKey: string;
  /** The source address hosts see for the runner's traffic: the harness's admin CIDR is this /32. */
  runnerIp: string;
  hosts: TestHost[];
  /** The load balancer stand-in, while one runs (`applyLoadBalancer`). */
  loadBalancer?: LoadBalancerAddresses;
}

export interface LoadBalancerAddresses {
  /** The source address targets see (without proxy protocol): the stand-in's own, in the VPC. */
  privateIp: string;
  /** What the runner dials: the load balancer's public address. */
  publicIp: string;
  netns: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const HOSTS_SH = path.join(__dirname, "hosts.sh");

/** The harness id from HARNESS_ID, else 0. Each id is an isolated harness (bridge 10.21<id>.0.0/24). */
export function defaultHarnessId(): number {
  const id = Number(process.env.HARNESS_ID ?? "0");
  if (!Number.isInteger(id) || id < 0 || id > 9) {
    throw new Error(`HARNESS_ID must be a digit 0-9, got ${process.env.HARNESS_ID}`);
  }
  return id;
}

export function stateDir(id: number = defaultHarnessId()): string {
  return `/run/aws-swarm-harness/${id}`;
}

/** DOCKER_HOST for reaching a host's dockerd from the root namespace (e.g. `docker -H ...`). */
export function dockerHost(hostName: string, id: number = defaultHarnessId()): string {
  return `unix:///var/lib/aws-swarm-harness/${id}/${hostName}/run/docker.sock`;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    // A remote command that never reads stdin closes the pipe early; that is not an error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin ?? "");
  });
}

async function hostsSh(id: number, args: string[], stdin?: string): Promise<string> {
  const r = await run("bash", [HOSTS_SH, ...args], { ...process.env, HARNESS_ID: String(id) }, stdin);
  if (r.code !== 0) {
    throw new Error(`hosts.sh ${args.join(" ")} (HARNESS_ID=${id}) exited ${r.code}:\n${r.stderr}`);
  }
  return r.stdout.trim();
}

/** Reads hosts.json of a harness that is up, or returns undefined. */
export function readHarnessInfo(id: number = defaultHarnessId()): HarnessInfo | undefined {
  const file = path.join(stateDir(id), "hosts.json");
  if (!fs.existsSync(file)) {
    return undefined;
  }
  const info = JSON.parse(fs.readFileSync(file, "utf8"));
  return { id, ...info, hosts: info.hosts.map(withDeprecatedIp) };
}

function withDeprecatedIp(host: Omit<TestHost, "ip">): TestHost {
  return { ...host, ip: host.privateIp };
}

const active = new Set<number>();
let handlersInstalled = false;

/** Tears down every harness this process brought up; safe to call from an `exit` handler. */
export function downAllSync(): void {
  for (const id of active) {
    downHostsSync(id);
  }
}

function installCleanupHandlers(): void {
  if (handlersInstalled) {
    return;
  }
  handlersInstalled = true;
  process.once("exit", downAllSync);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    process.once(signal, () => {
      downAllSync();
      process.exit(code);
    });
  }
}

/**
 * A detached `hosts.sh watch` downs the harness once this process is gone, however it ends:
 * jest does not pass SIGINT to handlers a test file installs, and nothing runs after SIGKILL.
 */
function startWatcher(id: number): void {
  const log = fs.openSync(`${stateDir(id)}.watch.log`, "a");
  const child = spawn("bash", [HOSTS_SH, "watch", String(process.pid)], {
    env: { ...process.env, HARNESS_ID: String(id) },
    detached: true,
    stdio: ["ignore", log, log],
  });
  child.unref();
  fs.closeSync(log);
}

/**
 * Brings up hosts h1..hN (clearing any leftover of the same id first) and returns their details.
 * The harness is torn down when this process exits or is killed, unless downHosts ran before,
 * or unless `outliveProcess` asks to keep it (the cluster CLI; `cluster:down` removes it).
 */
export async function upHosts(
  n: number,
  id: number = defaultHarnessId(),
  { outliveProcess = false } = {},
): Promise<HarnessInfo> {
  if (!outliveProcess) {
    installCleanupHandlers();
    active.add(id);
  }
  await hostsSh(id, ["up", String(n)]);
  if (!outliveProcess) {
    startWatcher(id);
  }
  const info = readHarnessInfo(id);
  if (!info) {
    throw new Error(`hosts.sh up wrote no ${stateDir(id)}/hosts.json`);
  }
  return info;
}

export async function downHosts(id: number = defaultHarnessId()): Promise<void> {
  await hostsSh(id, ["down"]);
  active.delete(id);
}

export function downHostsSync(id: number = defaultHarnessId()): void {
  execFileSync("bash", [HOSTS_SH, "down"], {
    env: { ...process.env, HARNESS_ID: String(id) },
    stdio: ["ignore", "ignore", "inherit"],
  });
  active.delete(id);
}

/**
 * The base image's reference in a harness registry, as `ensureBaseImage` pushes it: Debian
 * `HARNESS_BASE_RELEASE` (default trixie, as in hosts.sh) with haproxy, python3, curl and tini.
 */
export function baseImageRef(registry: string): string {
  return `${registry}/aws-swarm/base:${process.env.HARNESS_BASE_RELEASE || "trixie"}`;
}

/** Builds (once, cached) and pushes the Debian base image (see baseImageRef); returns its reference. */
export function ensureBaseImage(id: number = defaultHarnessId()): Promise<string> {
  return hostsSh(id, ["base-image"]);
}

/**
 * Builds an image from contextDir on the harness builder and pushes it to the harness registry.
 * The Dockerfile should start with `ARG BASE_IMAGE` / `FROM ${BASE_IMAGE}` and only COPY files.
 * Returns the pushed reference (name:tag prefixed with the registry unless it already is).
 */
export function buildImage(nameTag: string, contextDir: string, id: number = defaultHarnessId()): Promise<string> {
  return hostsSh(id, ["build-image", nameTag, contextDir]);
}

export function findHost(info: HarnessInfo, hostName: string): TestHost {
  const host = info.hosts.find((h) => h.name === hostName);
  if (!host) {
    throw new Error(`no host ${hostName} in harness ${info.id} (${info.hosts.map((h) => h.name)})`);
  }
  return host;
}

/** OpenSSH client options for a harness host; host keys change on every `up`. */
export function sshArgs(info: HarnessInfo): string[] {
  return [
    "-i",
    info.privateKeyPath,
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "ConnectTimeout=10",
  ];
}

/** Runs `command` on a host over SSH (as the harness user), feeding `stdin` if given. */
export function sshExec(info: HarnessInfo, hostName: string, command: string, stdin?: string): Promise<ExecResult> {
  const host = findHost(info, hostName);
  return run("ssh", [...sshArgs(info), `${info.sshUser}@${host.publicIp}`, command], process.env, stdin);
}

/** Starts one more host on a running harness (next free name and addresses); returns it. */
export async function addHost(id: number = defaultHarnessId()): Promise<TestHost> {
  return withDeprecatedIp(JSON.parse(await hostsSh(id, ["add"])));
}

/** An EC2 stop: every process of the host ends (dockerd gets SIGTERM first), its link goes; disk stays. */
export async function powerOff(id: number, hostName: string): Promise<void> {
  await hostsSh(id, ["poweroff", hostName]);
}

/** An EC2 start on the same disk; `newPublicIp` moves its public address (no Elastic IP). */
export async function powerOn(id: number, hostName: string, { newPublicIp = false } = {}): Promise<TestHost> {
  const args = ["poweron", hostName, ...(newPublicIp ? ["--new-public-ip"] : [])];
  return withDeprecatedIp(JSON.parse(await hostsSh(id, args)));
}

/** An EC2 terminate: stopped for good, its files and address mappings deleted. */
export async function removeHost(id: number, hostName: string): Promise<void> {
  await hostsSh(id, ["remove", hostName]);
}

/** A fault on demand: see FaultKind and test/harness/README.md for what each one models. */
export async function fault(id: number, hostName: string, kind: FaultKind): Promise<void> {
  await hostsSh(id, [kind, hostName]);
}

/** Replaces the host's ingress filter (its security groups) with `rules`, atomically. */
export async function applyFirewall(id: number, hostName: string, rules: FirewallRule[]): Promise<void> {
  await hostsSh(id, ["firewall", hostName], JSON.stringify(rules));
}

/**
 * `applyFirewall` for several hosts in one `hosts.sh firewall-many` call (one process and one jq
 * for all of them, where a call per host costs a few jq runs each): a security group change reaches
 * all its members at once. Every host's rules are checked before any filter changes.
 */
export async function applyFirewalls(id: number, rulesByHost: Record<string, FirewallRule[]>): Promise<void> {
  if (Object.keys(rulesByHost).length === 0) return;
  await hostsSh(id, ["firewall-many"], JSON.stringify(rulesByHost));
}

/**
 * EC2's AssociateAddress: the host's public address becomes the Elastic IP `ip` (or a new one),
 * moved from whichever host held it. The host's auto address is released.
 */
export async function associateAddress(id: number, hostName: string, ip?: string): Promise<TestHost> {
  return withDeprecatedIp(JSON.parse(await hostsSh(id, ["address", hostName, ...(ip ? [ip] : [])])));
}

/** EC2's DisassociateAddress: the host gets a new auto-assigned public address. */
export async function releaseAddress(id: number, hostName: string): Promise<TestHost> {
  return withDeprecatedIp(JSON.parse(await hostsSh(id, ["address", hostName, "--release"])));
}

/**
 * Starts the load balancer stand-in with `haproxyConfig` (test/program/loadBalancerStandIn.ts), or
 * reloads it: new connections follow the new configuration, open ones finish on the old one.
 */
export async function applyLoadBalancer(id: number, haproxyConfig: string): Promise<LoadBalancerAddresses> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-lb-"));
  try {
    fs.writeFileSync(path.join(dir, "haproxy.cfg"), haproxyConfig);
    return JSON.parse(await hostsSh(id, ["lb", dir]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops the load balancer stand-in and releases its addresses (a deleted load balancer). */
export async function removeLoadBalancer(id: number): Promise<void> {
  await hostsSh(id, ["lb-remove"]);
}
