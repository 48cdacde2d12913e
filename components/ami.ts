import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Architecture } from "../lib/plan";

/** Canonical's publisher account for official Ubuntu AMIs. */
const CANONICAL_OWNER_ID = "099720109477";

/**
 * The AMI per CPU architecture: the configured override (config validation already made sure that
 * every node then shares one architecture), or the latest Ubuntu 24.04 LTS from Canonical's own
 * account, looked up once per architecture however many node groups use it.
 */
export class NodeAmis {
  private readonly lookups = new Map<Architecture, pulumi.Output<string>>();

  constructor(private readonly override?: string) {}

  of(architecture: Architecture): pulumi.Input<string> {
    if (this.override) {
      return this.override;
    }
    if (!this.lookups.has(architecture)) {
      this.lookups.set(architecture, ubuntuAmi(architecture));
    }
    return this.lookups.get(architecture)!;
  }
}

function ubuntuAmi(architecture: Architecture): pulumi.Output<string> {
  // Canonical's image names say amd64 where EC2 says x86_64.
  const arch = architecture === "arm64" ? "arm64" : "amd64";
  return aws.ec2
    .getAmiOutput({
      mostRecent: true,
      owners: [CANONICAL_OWNER_ID],
      filters: [
        { name: "name", values: [`ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${arch}-server-*`] },
        { name: "virtualization-type", values: ["hvm"] },
        { name: "architecture", values: [architecture] },
      ],
    })
    .apply((ami) => ami.id);
}
