import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
  applyLoadBalancer,
  buildImage,
  HarnessInfo,
  readHarnessInfo,
  removeLoadBalancer,
  stateDir,
} from "../harness/hosts";
import { issueCertificate } from "../support/certificates";
import { Provider, ProviderResult } from "./engine/engine";
import { FirewallRule, firewallRules } from "./engine/firewall";
import { ATTACHMENT, CERTIFICATE, LISTENER, LOAD_BALANCER, standInOf, TARGET_GROUP } from "./engine/loadBalancer";
import { renderStandIn } from "./loadBalancerStandIn";
import { StateResource } from "./engine/state";
import { Registration } from "./engine/steps";
import { CoalescingSync } from "./coalescingSync";
import { Machines } from "./machines";
import { localRun, sshRun } from "./ssh";
import { ProgramJob, unwrapSecrets } from "./types";

const ELASTIC_IP = "aws:ec2/eip:Eip";
const FAKE_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb2ZmbGluZS1tb2Nr\n-----END OPENSSH PRIVATE KEY-----";
/**
 * us-east-1 as one account sees it: zone names map to zone IDs per account; use1-az3 offers no
 * t3, m5 or m6i (shared/reference/aws-reality.md), and a Local Zone needs opting in.
 */
const ZONES = [
  { name: "us-east-1a", zoneId: "use1-az4", optIn: "opt-in-not-required" },
  { name: "us-east-1b", zoneId: "use1-az3", optIn: "opt-in-not-required" },
  { name: "us-east-1c", zoneId: "use1-az1", optIn: "opt-in-not-required" },
  { name: "us-east-1d", zoneId: "use1-az2", optIn: "opt-in-not-required" },
  { name: "us-east-1e", zoneId: "use1-az6", optIn: "opt-in-not-required" },
  { name: "us-east-1-bos-1a", zoneId: "use1-bos1-az1", optIn: "opted-in" },
];
const NOT_IN_USE1_AZ3 = /^(t3|m5|m6i)\./;

/** What EC2 says a type supports: Graviton families (a `g` after the generation, or a1) are arm64. */
function architecturesOfType(instanceType: string): string[] {
  if (/^mac/.test(instanceType)) return ["x86_64_mac"];
  return /^(a1|[a-z]+\d+[a-z]*g[a-z]*)\./.test(instanceType) ? ["arm64"] : ["i386", "x86_64"];
}

function filterValues(inputs: Record<string, any>, name: string): string[] | undefined {
  return (inputs.filters ?? []).find((f: { name: string }) => f.name === name)?.values;
}

function shortHash(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex").slice(0, 17);
}

/** Node key from an instance's resource name: `<cluster>-<pool>-<index>` → `<pool>-<index>`. */
export function nodeKeyOf(instanceName: string, cluster: string): string {
  return instanceName.startsWith(`${cluster}-`) ? instanceName.slice(cluster.length + 1) : instanceName;
}

/** Made-up stdout for a command, by the role in its name, so the graph can be walked offline. */
function offlineStdout(name: string, verbLine: string, stdin = ""): string {
  // swarm-token.sh rotate prints the generation it ran for.
  if (name.endsWith("-token-rotation")) return /^export TOKEN_GENERATION='(\d+)'$/m.exec(stdin)?.[1] ?? "";
  if (name.includes("-token-")) return `SWMTKN-1-offline-${verbLine.split(" ").pop()}`;
  if (name.endsWith("-unlock-key")) return "SWMKEY-1-offline";
  if (name.includes("-join-")) return `node-${name.split("-join-")[1]}`;
  if (name.endsWith("-init")) return "swarm-offline";
  if (name.includes("-ready-")) return "28.0.0";
  // deploy-stack.sh deploy prints its summary as one line of JSON.
  if (name.endsWith("-deploy")) {
    const stack = /^export STACK_NAME='([^']*)'$/m.exec(stdin)?.[1];
    return JSON.stringify({ stack, converged: true, seconds: 0, services: {} });
  }
  return "";
}

/**
 * The providers behind the engine: AWS is made up (instances are harness machines), remote
 * commands run for real over SSH when a harness is given, and only when the engine's step says so.
 */
/** Any public hosted zone exists offline; its id is derived from its name, as stable as Route 53's. */
export function mockZoneId(name: string): string {
  return `Z${shortHash(name).slice(0, 20).toUpperCase()}`;
}

export class ProgramMocks implements Provider {
  /** Command scripts that ran (remote and local): create, update and delete. */
  public commandsRun = 0;
  /** Invokes of `command:local:run`: checks that run on every run, not resource steps. */
  public checksRun = 0;
  private readonly harness?: HarnessInfo;
  private readonly cluster: string;
  /** Packet-filter syncs, one at a time, coalesced (afterStep). */
  private readonly filters = new CoalescingSync<StateResource[]>((resources) => this.syncFilters(resources));
  /** Rules last handed to each host: a step that changes no host's rules costs nothing. */
  private readonly applied = new Map<string, string>();
  /** The load balancer stand-in's configuration as last applied ("" when none runs). */
  private standIn = "";

  /**
   * @param publicKeyOf the public key of a key pair in the state, by its `keyName`: a new
   *   instance's host trusts it, as EC2 installs the key pair at first boot
   */
  constructor(
    private readonly job: ProgramJob,
    private readonly machines?: Machines,
    private readonly publicKeyOf: (keyName: string) => string | undefined = () => undefined,
    private readonly machineOf: (instanceId: string) => string | undefined = () => undefined,
  ) {
    if (job.harness) {
      this.harness = readHarnessInfo(job.harness.id);
      if (!this.harness) {
        throw new Error(`harness ${job.harness.id} is not up`);
      }
    }
    this.cluster = String(job.config.clusterName ?? job.stack);
  }

  async call(args: { token: string; inputs: Record<string, any> }): Promise<Record<string, any>> {
    switch (args.token) {
      case "command:local:run":
        return this.runCheck(args.inputs);
      case "aws:index/getAvailabilityZones:getAvailabilityZones": {
        const optIn = filterValues(args.inputs, "opt-in-status");
        const zones = ZONES.filter((z) => !optIn || optIn.includes(z.optIn));
        return { names: zones.map((z) => z.name), zoneIds: zones.map((z) => z.zoneId) };
      }
      case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": {
        const types: string[] = filterValues(args.inputs, "instance-type") ?? [];
        const pairs = ZONES.flatMap((z) =>
          types.filter((t) => z.zoneId !== "use1-az3" || !NOT_IN_USE1_AZ3.test(t)).map((t) => [z.zoneId, t]),
        );
        return { locations: pairs.map((p) => p[0]), instanceTypes: pairs.map((p) => p[1]), locationTypes: [] };
      }
      case "aws:ec2/getInstanceType:getInstanceType":
        return { supportedArchitectures: architecturesOfType(args.inputs.instanceType) };
      case "aws:ec2/getAmi:getAmi":
        return { id: `ami-${shortHash(JSON.stringify(args.inputs.filters ?? []))}`, architecture: "x86_64" };
      case "aws:route53/getZone:getZone": {
        const zoneId = mockZoneId(String(args.inputs.name));
        return { id: zoneId, zoneId, name: args.inputs.name, privateZone: false };
      }
      case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
        return { userName: "AWS", password: "offline-ecr-password", proxyEndpoint: "https://ecr.offline" };
      default:
        throw new Error(`no mock for the invoke ${args.token}`);
    }
  }

  async create(reg: Registration, inputs: Record<string, any>, previous?: StateResource): Promise<ProviderResult> {
    if (!reg.custom) {
      return { outputs: {} };
    }
    const extra = await this.computed(reg, inputs, previous);
    const { machine, ...outputs } = extra;
    return { id: outputs.id ?? `${reg.name}-id`, outputs: { ...inputs, ...outputs }, machine };
  }

  async update(
    reg: Registration,
    inputs: Record<string, any>,
    old: StateResource,
    changed: string[],
  ): Promise<ProviderResult> {
    const keep = { id: old.id, machine: old.machine };
    switch (reg.type) {
      case "command:remote:Command":
      case "command:local:Command": {
        // commandController.go Update: `update` if set, else `create`; neither → nothing runs.
        const plain = unwrapSecrets(inputs);
        const script = plain.update ?? plain.create;
        const previous = unwrapSecrets(old.outputs).stdout;
        const run = script
          ? await this.runCommand(reg.name, reg.type, plain, script, previous)
          : { stdout: "", stderr: "" };
        return { ...keep, outputs: { ...inputs, ...run } };
      }
      case "aws:ec2/instance:Instance": {
        if (changed.includes("instanceType") && this.machines && old.machine) {
          // Stop, modify, start: the instance keeps its private address and gets a new public one.
          const machine = await this.machines.stopStart(old.machine);
          return {
            ...keep,
            outputs: { ...old.outputs, ...inputs, publicIp: machine.publicIp, privateIp: machine.privateIp },
          };
        }
        return { ...keep, outputs: { ...old.outputs, ...inputs } };
      }
      case "docker:index/image:Image":
        return { ...keep, outputs: { ...inputs, ...(await this.image(reg.name, unwrapSecrets(inputs))) } };
      case ELASTIC_IP: {
        // AssociateAddress in place: the same address now reaches the new instance.
        const address = await this.elasticIp(reg.name, unwrapSecrets(inputs), unwrapSecrets(old.outputs).publicIp);
        return { ...keep, outputs: { ...old.outputs, ...inputs, ...address } };
      }
      default:
        return { ...keep, outputs: { ...old.outputs, ...inputs } };
    }
  }

  /** Delete with the STORED inputs, as the provider does: old connection, old script, old stdin. */
  async delete(old: StateResource): Promise<void> {
    if (old.type === "command:remote:Command" || old.type === "command:local:Command") {
      const plain = unwrapSecrets(old.inputs);
      if (plain.delete) {
        await this.runCommand(old.name, old.type, plain, plain.delete, unwrapSecrets(old.outputs).stdout);
      }
    } else if (old.type === "aws:ec2/instance:Instance" && old.machine && this.machines) {
      await this.machines.destroy(old.machine);
    } else if (old.type === ELASTIC_IP && this.machines) {
      const host = this.machineOf(String(unwrapSecrets(old.outputs).instance));
      if (host) await this.machines.releaseAddress(host);
    }
  }

  /**
   * Packet filters follow the registered security groups and instances. AWS applies a group change
   * to every member at once, so the hosts whose rules changed get theirs together, in one harness
   * call, and steps that end while a sync runs share the next one, which applies only the latest
   * state (CoalescingSync): when the returned promise resolves, rules at least as new as this
   * step's are in effect on every host.
   */
  afterStep(resources: StateResource[]): Promise<void> {
    if (!this.machines) return Promise.resolve();
    return this.filters.request(resources);
  }

  /** One sync: the load balancer stand-in, then every host whose rules text changed. */
  private async syncFilters(resources: StateResource[]): Promise<void> {
    await this.syncLoadBalancer(resources);
    const loadBalancerIp = this.harness && readHarnessInfo(this.harness.id)?.loadBalancer?.privateIp;
    const changed = new Map<string, { rules: FirewallRule[]; text: string }>();
    for (const [host, rules] of firewallRules(resources, loadBalancerIp)) {
      const text = JSON.stringify(rules);
      if (this.applied.get(host) !== text) changed.set(host, { rules, text });
    }
    if (changed.size === 0) return;
    await this.machines!.applyFirewalls(new Map([...changed].map(([host, { rules }]) => [host, rules])));
    for (const [host, { text }] of changed) this.applied.set(host, text);
  }

  /**
   * The load balancer stand-in follows the registered load balancer, listeners, target groups and
   * attachments (AWS applies each change at once); it goes when the load balancer is deleted.
   */
  private async syncLoadBalancer(resources: StateResource[]): Promise<void> {
    const id = this.job.harness!.id;
    const model = standInOf(resources, (arn) => this.certificatePem(resources, arn));
    const text = model ? renderStandIn(model) : "";
    if (text === this.standIn) return;
    if (model) await applyLoadBalancer(id, text);
    else await removeLoadBalancer(id);
    this.standIn = text;
  }

  /** ACM on the harness: a certificate for the requested names from a throwaway CA, made once. */
  private certificatePem(resources: StateResource[], arn: string): string {
    const certificate = resources.find((r) => r.type === CERTIFICATE && unwrapSecrets(r.outputs).arn === arn);
    if (!certificate) throw new Error(`no certificate ${arn} in the state`);
    const { domainName, subjectAlternativeNames = [] } = unwrapSecrets(certificate.outputs);
    const dir = path.join(stateDir(this.job.harness!.id), "certs", shortHash(arn));
    const pem = path.join(dir, "leaf-with-key.pem");
    return fs.existsSync(pem) ? pem : issueCertificate(dir, [domainName, ...subjectAlternativeNames]).pemPath;
  }

  /** ARNs, names and DNS names as ELBv2 and ACM make them; on the harness the DNS name is the stand-in's address. */
  private async elb(name: string, type: string, inputs: Record<string, any>): Promise<Record<string, any>> {
    const suffix = shortHash(`${name}${Date.now()}`).slice(0, 16);
    const elb = "arn:aws:elasticloadbalancing:us-east-1:123456789012";
    switch (type) {
      case LOAD_BALANCER: {
        const arn = `${elb}:loadbalancer/net/${name}/${suffix}`;
        const dnsName = this.job.harness
          ? (await applyLoadBalancer(this.job.harness.id, renderStandIn({ listeners: [], targetGroups: [] }))).publicIp
          : `${name}-${suffix}.elb.us-east-1.amazonaws.com`;
        // Z26RNL4JYFTOTI: the hosted zone of network load balancers in us-east-1 (alias records).
        return { id: arn, arn, dnsName, zoneId: "Z26RNL4JYFTOTI" };
      }
      case TARGET_GROUP: {
        const arn = `${elb}:targetgroup/${inputs.name ?? name.slice(0, 32)}/${suffix}`;
        return { id: arn, arn };
      }
      case LISTENER: {
        const arn = `${elb}:listener/net/${name}/${suffix}`;
        return { id: arn, arn };
      }
      case ATTACHMENT:
        return { id: `${inputs.targetGroupArn}-${inputs.targetId}` };
      default: {
        const arn = `arn:aws:acm:us-east-1:123456789012:certificate/${suffix}`;
        const names = [inputs.domainName, ...(inputs.subjectAlternativeNames ?? [])];
        return {
          id: arn,
          arn,
          status: "ISSUED",
          domainValidationOptions: names.map((domainName: string) => ({
            domainName,
            resourceRecordName: `_${shortHash(domainName)}.${domainName}.`,
            resourceRecordType: "CNAME",
            resourceRecordValue: `_${shortHash(arn + domainName)}.acm-validations.aws.`,
          })),
        };
      }
    }
  }

  private async computed(
    reg: Registration,
    rawInputs: Record<string, any>,
    previous?: StateResource,
  ): Promise<Record<string, any>> {
    const inputs = unwrapSecrets(rawInputs);
    const name = reg.name;
    switch (reg.type) {
      case "aws:ec2/instance:Instance":
        return this.instance(name, previous, this.publicKeyOf(String(inputs.keyName)));
      case "command:remote:Command":
      case "command:local:Command":
        return inputs.create ? this.runCommand(name, reg.type, inputs, inputs.create) : { stdout: "", stderr: "" };
      case "tls:index/privateKey:PrivateKey":
        return {
          publicKeyOpenssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfflineMockKey",
          privateKeyOpenssh: FAKE_PRIVATE_KEY,
        };
      case "aws:ec2/keyPair:KeyPair":
        return { keyName: `${inputs.keyNamePrefix ?? ""}${shortHash(`${inputs.publicKey}`).slice(0, 4)}` };
      case "aws:iam/role:Role":
      case "aws:iam/instanceProfile:InstanceProfile":
        return { name: `${name}-0001`, arn: `arn:aws:iam::123456789012:role/${name}` };
      case "aws:ecr/repository:Repository": {
        // On the harness, its registry plays ECR: nodes pull from it like from ECR on AWS.
        const registry = this.harness?.registry ?? "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        return { repositoryUrl: `${registry}/${inputs.name ?? name}`, registryId: "123456789012" };
      }
      case "docker:index/image:Image":
        return this.image(name, inputs);
      case ELASTIC_IP:
        return this.elasticIp(name, inputs);
      case LOAD_BALANCER:
      case TARGET_GROUP:
      case LISTENER:
      case ATTACHMENT:
      case CERTIFICATE:
        return this.elb(name, reg.type, inputs);
      default:
        return { id: `${name}-${shortHash(reg.type).slice(0, 8)}` };
    }
  }

  /**
   * An Elastic IP and its association with `inputs.instance`: on the harness the instance's host
   * takes the address (a new one, or `keep`, moved from the instance it had).
   */
  private async elasticIp(name: string, inputs: Record<string, any>, keep?: string): Promise<Record<string, any>> {
    const allocationId = `eipalloc-${shortHash(name)}`;
    const associationId = `eipassoc-${shortHash(`${name}${inputs.instance}`)}`;
    const host = this.machines && this.machineOf(String(inputs.instance));
    if (!host) {
      const octets = Buffer.from(shortHash(allocationId), "hex");
      return {
        id: allocationId,
        allocationId,
        associationId,
        publicIp: keep ?? `54.${octets[0]}.${octets[1]}.${octets[2]}`,
      };
    }
    const machine = await this.machines!.associateAddress(host, keep);
    return { id: allocationId, allocationId, associationId, publicIp: machine.publicIp };
  }

  /** A new instance: a fresh machine; its id differs from the one it replaces. */
  private async instance(name: string, previous?: StateResource, publicKey?: string): Promise<Record<string, any>> {
    const id = `i-${shortHash(`${name}#${previous?.id ?? ""}`)}`;
    if (!this.machines) {
      const octets = Buffer.from(shortHash(id), "hex");
      return {
        id,
        publicIp: `198.51.${octets[0]}.${(octets[1] % 250) + 1}`,
        privateIp: `10.0.${octets[2]}.${(octets[3] % 250) + 1}`,
      };
    }
    const machine = await this.machines.create(nodeKeyOf(name, this.cluster), publicKey);
    return { id, publicIp: machine.publicIp, privateIp: machine.privateIp, machine: machine.host };
  }

  private async image(name: string, inputs: Record<string, any>): Promise<Record<string, any>> {
    const repository = String(inputs.imageName).replace(/:[^:/]+$/, "");
    if (!this.harness || !this.job.harness) {
      return { repoDigest: `${repository}@sha256:${shortHash(`${name}${inputs.build?.context}`).padEnd(64, "0")}` };
    }
    const path = repository.replace(/^[^/]+\//, "");
    const ref = await buildImage(`${repository}:latest`, inputs.build.context, this.job.harness.id);
    const manifest = await fetch(`http://${this.harness.registry}/v2/${path}/manifests/latest`, {
      method: "HEAD",
      headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
    });
    const digest = manifest.headers.get("docker-content-digest");
    if (!manifest.ok || !digest) {
      throw new Error(`pushed ${ref}, but the registry has no digest for it (HTTP ${manifest.status})`);
    }
    return { repoDigest: `${this.harness.registry}/${path}@${digest}` };
  }

  /**
   * An invoke of `command:local:run` (a read-only check such as node-health.sh) runs on every
   * `pulumi up` and preview, as the real engine calls invokes on every run; it is not a resource
   * step, so it is not counted in commandsRun.
   */
  private async runCheck(inputs: Record<string, any>): Promise<Record<string, any>> {
    this.checksRun++;
    if (!this.harness) {
      // node-health.sh's answer for a swarm whose nodes are all Ready.
      return { ...inputs, stdout: "nodes 0", stderr: "" };
    }
    const result = await localRun(inputs, inputs.command);
    if (result.code !== 0) {
      throw new Error(`Process exited with status ${result.code}: running "${inputs.command}":\n${result.stderr}`);
    }
    return { ...inputs, stdout: result.stdout.replace(/\n$/, ""), stderr: result.stderr.replace(/\n$/, "") };
  }

  private async runCommand(
    name: string,
    type: string,
    inputs: Record<string, any>,
    script: string,
    previousStdout?: string,
  ): Promise<{ stdout: string; stderr: string }> {
    this.commandsRun++;
    if (!this.harness) {
      if (this.job.commandDelayMs) {
        await new Promise((r) => setTimeout(r, this.job.commandDelayMs));
      }
      return { stdout: offlineStdout(name, script, inputs.stdin), stderr: "" };
    }
    // A local command runs here, on the runner, like `pulumi up` on the user's machine.
    const result =
      type === "command:local:Command"
        ? await localRun(inputs, script, previousStdout)
        : await sshRun(inputs.connection, script, inputs.stdin);
    const trim = (text: string) => text.replace(/\n$/, "");
    if (result.code !== 0) {
      throw new Error(
        `Process exited with status ${result.code}: running "${script}":\n${result.stdout}${result.stderr}`,
      );
    }
    return { stdout: trim(result.stdout), stderr: trim(result.stderr) };
  }
}
