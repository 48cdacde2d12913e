import * as path from "path";
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { imageVariableName, lifecyclePolicy, projectPath, registryOf } from "../lib/images";
import { ImageConfig } from "../lib/types";

export interface ImageRepositoriesArgs {
  images: ImageConfig[];
  /** Directory the images' `context` is relative to. */
  projectRoot: string;
  /** Repository names become `<prefix>/<image name>`, e.g. the cluster name. @default none */
  repositoryPrefix?: string;
  /** Images each repository keeps; older ones expire. @default 10 */
  keepImages?: number;
  /** Build platform; must match the nodes' CPU architecture. @default "linux/amd64" */
  platform?: pulumi.Input<string>;
  tags?: Record<string, string>;
}

/**
 * One ECR repository per configured image, built and pushed from where `pulumi up` runs (a Docker
 * daemon must be reachable there). The stack refers to each image by digest, so a new build
 * changes `imageVariables` and rolls exactly the services that use it.
 */
export class ImageRepositories extends pulumi.ComponentResource {
  /** `<NAME>_IMAGE` → `<repository>@sha256:…`, for `${NAME_IMAGE}` in the compose file. */
  public readonly imageVariables: pulumi.Output<Record<string, string>>;
  /** The ECR registry host (`<account>.dkr.ecr.<region>.amazonaws.com`); "" without images. */
  public readonly registryUrl: pulumi.Output<string>;
  /** Image name → repository URL. */
  public readonly repositoryUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ImageRepositoriesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:images:ImageRepositories", name, {}, opts);
    const keep = args.keepImages ?? 10;
    const platform = args.platform ?? "linux/amd64";
    const names = args.images.map((image) => imageVariableName(image.name));
    const clash = names.find((variable, index) => names.indexOf(variable) !== index);
    if (clash !== undefined) {
      throw new Error(`two images map to the compose variable ${clash}; rename one of them`);
    }

    const built = args.images.map((image) => this.publish(name, image, args, keep, platform));

    this.imageVariables = pulumi
      .all(built.map(({ image, digest }) => digest.apply((d) => [imageVariableName(image.name), d] as const)))
      .apply((pairs) => Object.fromEntries(pairs));
    this.repositoryUrls = pulumi
      .all(built.map(({ image, repository }) => repository.repositoryUrl.apply((url) => [image.name, url] as const)))
      .apply((pairs) => Object.fromEntries(pairs));
    this.registryUrl = built.length > 0 ? built[0].repository.repositoryUrl.apply(registryOf) : pulumi.output("");
    this.registerOutputs({
      imageVariables: this.imageVariables,
      registryUrl: this.registryUrl,
      repositoryUrls: this.repositoryUrls,
    });
  }

  /** One image: its ECR repository with a lifecycle policy, built and pushed, addressed by digest. */
  private publish(
    name: string,
    image: ImageConfig,
    args: ImageRepositoriesArgs,
    keep: number,
    platform: pulumi.Input<string>,
  ) {
    const role = image.name.replace(/[^a-z0-9]+/g, "-");
    const repository = new aws.ecr.Repository(
      `${name}-${role}`,
      {
        name: args.repositoryPrefix ? `${args.repositoryPrefix}/${image.name}` : image.name,
        imageScanningConfiguration: { scanOnPush: true },
        imageTagMutability: "MUTABLE",
        // Destroy must work although the repository holds images.
        forceDelete: true,
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-${role}-lifecycle`,
      { repository: repository.name, policy: lifecyclePolicy(keep) },
      { parent: this },
    );
    const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this });
    const pushed = new docker.Image(
      `${name}-${role}-image`,
      {
        imageName: pulumi.interpolate`${repository.repositoryUrl}:latest`,
        build: {
          // Relative to the project root, where Pulumi runs the program (the provider resolves a
          // relative context against the working directory and a dockerfile against Pulumi.yaml's
          // directory, pulumi-docker v4.0.1 notes): an absolute path would differ in another
          // checkout, and the build input diff would rebuild the image and roll every service.
          context: projectPath(args.projectRoot, image.context),
          dockerfile: projectPath(args.projectRoot, path.join(image.context, image.dockerfile)),
          platform,
        },
        registry: {
          server: repository.repositoryUrl,
          username: auth.userName,
          password: pulumi.secret(auth.password),
        },
      },
      { parent: this },
    );
    return { image, repository, digest: pushed.repoDigest };
  }
}
