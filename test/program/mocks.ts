import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { buildImage, HarnessInfo, readHarnessInfo } from "../harness/hosts";
import { sshRun } from "./ssh";
import { ProgramJob, RecordedResource, unwrapSecrets } from "./types";

const FAKE_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb2ZmbGluZS1tb2Nr\n-----END OPENSSH PRIVATE KEY-----";
const AZS = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"];

function shortHash(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex").slice(0, 17);
}

/** Node key from an instance's resource name: `<cluster>-<pool>-<index>` → `<pool>-<index>`. */
function nodeKeyOf(instanceName: string, cluster: string): string {
  return instanceName.startsWith(`${cluster}-`) ? instanceName.slice(cluster.length + 1) : instanceName;
}

/** Made-up stdout for a command, by the role in its name, so the graph can be walked offline. */
function offlineStdout(name: string, verbLine: string): string {
  if (name.includes("-token-")) return `SWMTKN-1-offline-${verbLine.split(" ").pop()}`;
  if (name.endsWith("-unlock-key")) return "SWMKEY-1-offline";
  if (name.includes("-join-")) return `node-${name.split("-join-")[1]}`;
  if (name.endsWith("-init")) return "swarm-offline";
  if (name.includes("-ready-")) return "28.0.0";
  return "";
}

export class ProgramMocks implements pulumi.runtime.Mocks {
  public readonly resources: RecordedResource[] = [];
  private readonly started = Date.now();
  private readonly harness?: HarnessInfo;
  private readonly cluster: string;

  constructor(private readonly job: ProgramJob) {
    if (job.harness) {
      this.harness = readHarnessInfo(job.harness.id);
      if (!this.harness) {
        throw new Error(`harness ${job.harness.id} is not up`);
      }
    }
    this.cluster = String(job.config.clusterName ?? job.stack);
  }

  async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const record: RecordedResource = {
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      state: {},
      startedAt: Date.now() - this.started,
    };
    this.resources.push(record);
    try {
      const extra = await this.computed(args);
      record.state = { ...args.inputs, ...extra };
      return { id: extra.id ?? `${args.name}-id`, state: record.state };
    } catch (err) {
      record.error = (err as Error).message;
      throw err;
    } finally {
      record.finishedAt = Date.now() - this.started;
    }
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    switch (args.token) {
      case "aws:index/getAvailabilityZones:getAvailabilityZones":
        return { names: AZS, zoneIds: AZS.map((_, i) => `use1-az${i + 1}`) };
      case "aws:ec2/getAmi:getAmi":
        return { id: `ami-${shortHash(JSON.stringify(args.inputs.filters ?? []))}`, architecture: "x86_64" };
      case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
        return { userName: "AWS", password: "offline-ecr-password", proxyEndpoint: "https://ecr.offline" };
      default:
        throw new Error(`no mock for the invoke ${args.token}`);
    }
  }

  private async computed(args: pulumi.runtime.MockResourceArgs): Promise<Record<string, any>> {
    const inputs = args.inputs;
    switch (args.type) {
      case "aws:ec2/instance:Instance":
        return this.instance(args.name);
      case "command:remote:Command":
        return this.command(args.name, unwrapSecrets(inputs));
      case "tls:index/privateKey:PrivateKey":
        return {
          publicKeyOpenssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfflineMockKey",
          privateKeyOpenssh: FAKE_PRIVATE_KEY,
        };
      case "aws:ec2/keyPair:KeyPair":
        return { keyName: `${inputs.keyNamePrefix ?? ""}0001` };
      case "aws:iam/role:Role":
      case "aws:iam/instanceProfile:InstanceProfile":
        return { name: `${args.name}-0001`, arn: `arn:aws:iam::123456789012:role/${args.name}` };
      case "aws:ecr/repository:Repository": {
        // On the harness, its registry plays ECR: nodes pull from it like from ECR on AWS.
        const registry = this.harness?.registry ?? "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        return { repositoryUrl: `${registry}/${inputs.name ?? args.name}`, registryId: "123456789012" };
      }
      case "docker:index/image:Image":
        return this.image(args.name, unwrapSecrets(inputs));
      default:
        return { id: `${args.name}-${shortHash(args.type).slice(0, 8)}` };
    }
  }

  private instance(name: string): Record<string, any> {
    if (!this.harness || !this.job.harness) {
      const octets = Buffer.from(shortHash(name), "hex");
      return {
        id: `i-${shortHash(name)}`,
        publicIp: `198.51.${octets[0]}.${(octets[1] % 250) + 1}`,
        privateIp: `10.0.${octets[2]}.${(octets[3] % 250) + 1}`,
      };
    }
    const key = nodeKeyOf(name, this.cluster);
    const hostName = this.job.harness.nodeHosts[key];
    const host = this.harness.hosts.find((h) => h.name === hostName);
    if (!host) {
      throw new Error(`no harness host is mapped to node ${key} (instance ${name})`);
    }
    // A test host has one address: it stands for both the public and the private IP.
    return { id: `i-${shortHash(`${name}@${host.name}`)}`, publicIp: host.ip, privateIp: host.ip };
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

  private async command(name: string, inputs: Record<string, any>): Promise<Record<string, any>> {
    const create: string | undefined = inputs.create;
    if (!create) {
      // The provider runs nothing on create when there is no `create` (a delete-only command).
      return { stdout: "", stderr: "" };
    }
    if (!this.harness) {
      if (this.job.commandDelayMs) {
        await new Promise((r) => setTimeout(r, this.job.commandDelayMs));
      }
      return { stdout: offlineStdout(name, create), stderr: "" };
    }
    const result = await sshRun(inputs.connection, create, inputs.stdin);
    const trim = (text: string) => text.replace(/\n$/, "");
    if (result.code !== 0) {
      throw new Error(
        `Process exited with status ${result.code}: running "${create}":\n${result.stdout}${result.stderr}`,
      );
    }
    return { stdout: trim(result.stdout), stderr: trim(result.stderr) };
  }
}
