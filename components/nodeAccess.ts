import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

export interface NodeAccessArgs {
  /** The operator's own key pair; when absent one is generated and its private key exported. */
  sshKey?: { publicKey: string; privateKey: pulumi.Output<string> };
  tags: Record<string, string>;
}

/** What every node needs to be reached and to act: the SSH key pair and the instance profile. */
export class NodeAccess extends pulumi.ComponentResource {
  public readonly keyName: pulumi.Output<string>;
  /** Secret. The key the remote commands use; exported when generated here. */
  public readonly privateKey: pulumi.Output<string>;
  /** The public half, as in authorized_keys: rolled onto running nodes (SwarmCluster). */
  public readonly publicKey: pulumi.Output<string>;
  public readonly keyGenerated: boolean;
  public readonly instanceProfileName: pulumi.Output<string>;

  constructor(name: string, args: NodeAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:nodes:NodeAccess", name, {}, opts);

    let publicKey: pulumi.Input<string>;
    if (args.sshKey) {
      publicKey = args.sshKey.publicKey;
      this.privateKey = pulumi.secret(args.sshKey.privateKey);
    } else {
      const generated = new tls.PrivateKey(`${name}-ssh`, { algorithm: "ED25519" }, { parent: this });
      publicKey = generated.publicKeyOpenssh;
      this.privateKey = pulumi.secret(generated.privateKeyOpenssh);
    }
    this.keyGenerated = !args.sshKey;
    const keyPair = new aws.ec2.KeyPair(
      `${name}-ssh`,
      { keyNamePrefix: `${name}-`, publicKey, tags: args.tags },
      { parent: this },
    );

    const role = new aws.iam.Role(
      `${name}-node`,
      {
        namePrefix: `${name}-node-`.slice(0, 38),
        assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ec2.amazonaws.com" }),
        tags: args.tags,
      },
      { parent: this },
    );
    // Read-only ECR access: every node pulls the stack's images with its own role.
    new aws.iam.RolePolicyAttachment(
      `${name}-node-ecr`,
      { role: role.name, policyArn: aws.iam.ManagedPolicy.AmazonEC2ContainerRegistryReadOnly },
      { parent: this },
    );
    const profile = new aws.iam.InstanceProfile(`${name}-node`, { role: role.name, tags: args.tags }, { parent: this });

    this.keyName = keyPair.keyName;
    this.publicKey = pulumi.output(publicKey);
    this.instanceProfileName = profile.name;

    this.registerOutputs({
      keyName: this.keyName,
      privateKey: this.privateKey,
      instanceProfileName: this.instanceProfileName,
    });
  }
}
