import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { baseImageRef, HarnessInfo, readHarnessInfo, sshExec, stateDir } from "../harness/hosts";
import { DEFAULT_STACKS } from "../../lib/defaults";
import { runProgram } from "./runner";
import { ProgramResult, RunMode } from "./types";

const PREFIX = "aws-swarm:";

/** The `aws-swarm:*` keys of a Pulumi.<stack>.yaml, without the prefix; secure values are refused. */
export function readStackConfig(file: string): Record<string, any> {
  const doc = parse(fs.readFileSync(file, "utf8")) ?? {};
  const config: Record<string, any> = {};
  for (const [key, value] of Object.entries<any>(doc.config ?? {})) {
    if (!key.startsWith(PREFIX)) {
      continue;
    }
    if (value && typeof value === "object" && "secure" in value) {
      throw new Error(
        `${file}: ${key} is encrypted; the local cluster uses its own SSH key, remove it or use another file`,
      );
    }
    config[key.slice(PREFIX.length)] = value;
  }
  return config;
}

export function readHosts(id: number): HarnessInfo {
  const info = readHarnessInfo(id);
  if (!info) {
    throw new Error(`harness ${id} is not up (no ${stateDir(id)}/hosts.json)`);
  }
  return info;
}

/** Node keys in the order the program creates them: managers, then pools in config order. */
export function nodeKeysOf(config: Record<string, any>): string[] {
  const managers = Array.from({ length: config.managers?.count ?? 1 }, (_, i) => `manager-${i}`);
  const pools = (config.workerPools ?? []).flatMap((pool: any) =>
    Array.from({ length: pool.count }, (_, i) => `${pool.name}-${i}`),
  );
  return [...managers, ...pools];
}

/**
 * The config a harness run adds to the user's: SSH as the harness root user with its key, the
 * runner's address as the only admin CIDR (the user's own address means nothing here, and the
 * hosts enforce the security groups), and the stack's third-party images replaced by local ones.
 */
export function harnessConfig(config: Record<string, any>, hosts: HarnessInfo, stack: string): Record<string, unknown> {
  const { stack: one, ...rest } = config;
  const stacks: Record<string, any>[] = one !== undefined ? [one] : (config.stacks ?? DEFAULT_STACKS);
  const variables = harnessStackVariables(hosts, config.clusterName ?? stack);
  return {
    ...rest,
    stacks: stacks.map((entry) => ({ ...entry, variables: { ...variables, ...(entry.variables ?? {}) } })),
    gateway: { ...(config.gateway ?? {}), image: config.gateway?.image ?? baseImageRef(hosts.registry) },
    sshUser: hosts.sshUser,
    // A test may bring its own key (the hosts then trust it like an EC2 key pair); by default the
    // program uses the harness's own.
    sshPublicKey: config.sshPublicKey ?? hosts.publicKey,
    sshPrivateKey: config.sshPrivateKey ?? fs.readFileSync(hosts.privateKeyPath, "utf8"),
    adminCidrs: [`${hosts.runnerIp}/32`],
  };
}

/**
 * Nothing can be pulled here: the gateway's image becomes the harness base image (Debian with
 * haproxy and python3), served by the harness registry like ECR on AWS, and the infra stack's
 * grafana the sample server, built by this very run from services/echo.
 */
export function harnessStackVariables(hosts: HarnessInfo, clusterName: string): Record<string, string> {
  return { GRAFANA_IMAGE: `${hosts.registry}/${clusterName}/echo:latest` };
}

export interface ClusterRun {
  result: ProgramResult;
  /** Node key → harness host, from the state. */
  nodeHosts: Record<string, string>;
}

export interface HarnessRunOptions {
  mode?: RunMode;
  /** Node keys, resource names or URNs to replace, like `pulumi up --replace <urn>`. */
  replace?: string[];
  /** Kill the run (SIGKILL, as a killed `pulumi up`) once the state file's text satisfies this. */
  killWhen?: (stateText: string) => boolean;
  log?: (line: string) => void;
  /** Return a failed run instead of throwing. */
  allowFailure?: boolean;
  /** Resource names (a regular expression) whose steps run one at a time (ProgramJob.oneAtATime). */
  oneAtATime?: string;
}

/** The stack's state file on a harness; `hosts.sh down` (cluster:down) removes it with the harness. */
export function stateFileOf(id: number, stack: string): string {
  return path.join(stateDir(id), "stacks", `${stack}.json`);
}

/**
 * One `pulumi up` (or preview/destroy) of the program against harness hosts, against the stack's
 * state: only what changed runs. Failures throw with the failing step.
 */
export async function upOnHarness(
  id: number,
  stack: string,
  config: Record<string, any>,
  options: HarnessRunOptions = {},
): Promise<ClusterRun> {
  const hosts = readHosts(id);
  const result = await runProgram(
    {
      stack,
      config: harnessConfig(config, hosts, stack),
      secretKeys: ["sshPrivateKey"],
      harness: { id },
      mode: options.mode ?? "up",
      stateFile: stateFileOf(id, stack),
      replace: options.replace,
      oneAtATime: options.oneAtATime,
    },
    options.log,
    options.killWhen && (() => stateNow(id, stack, options.killWhen!)),
  );
  if (!result.ok && !options.allowFailure) {
    throw new Error(`program run failed: ${result.error}`);
  }
  return { result, nodeHosts: result.nodeHosts };
}

function stateNow(id: number, stack: string, test: (stateText: string) => boolean): boolean {
  const file = stateFileOf(id, stack);
  return fs.existsSync(file) && test(fs.readFileSync(file, "utf8"));
}

/** Runs a shell command on a harness host as its root user. */
export async function onHost(id: number, hostName: string, command: string): Promise<string> {
  const result = await sshExec(readHosts(id), hostName, command);
  if (result.code !== 0) {
    throw new Error(`${hostName}: ${command} exited ${result.code}: ${result.stderr}`);
  }
  return result.stdout.trim();
}
