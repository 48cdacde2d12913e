import * as path from "path";
/**
 * Built images and their registry: the stack variable an image publishes, ECR hosts and regions,
 * and the repositories' lifecycle policy. Config validation (which image names may coexist) and
 * the stack and image components all use these, so they live apart from the stack planner.
 */

/** `<NAME>_IMAGE`: upper-cased, every character other than a letter or digit → '_'. */
export function imageVariableName(imageName: string): string {
  return `${imageName.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_IMAGE`;
}

/** Registry host of an ECR repository URL (`<acct>.dkr.ecr.<region>.amazonaws.com/<name>`). */
export function registryOf(repositoryUrl: string): string {
  return repositoryUrl.split("/")[0];
}

const ECR_HOST = /\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** Region of an ECR registry host, for registry-auth.sh. */
export function ecrRegion(registry: string): string {
  const match = ECR_HOST.exec(registry);
  if (match === null) {
    throw new Error(`"${registry}" is not an ECR registry host`);
  }
  return match[1];
}

/**
 * Env of scripts/registry-auth.sh. A registry other than ECR (the test harness's own) gets no
 * region: its credentials don't expire, and the script installs nothing for it.
 */
export function registryAuthEnv(registry: string, stackName: string): Record<string, string> {
  const region = ECR_HOST.test(registry) ? ecrRegion(registry) : "";
  return { REGISTRY: registry, AWS_REGION: region, STACK_NAME: stackName };
}

/** ECR lifecycle policy keeping the newest `keep` images of a repository. */
export function lifecyclePolicy(keep: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `keep the last ${keep} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  });
}

/**
 * `file` (relative to the project root, as in config) as a normalised relative POSIX path, the
 * same in every checkout: `./services/echo/` → `services/echo`. Config validation keeps paths
 * inside the root; one that escapes it is a program error.
 */
export function projectPath(projectRoot: string, file: string): string {
  const relative = path.relative(projectRoot, path.resolve(projectRoot, file));
  if (relative === "") {
    return ".";
  }
  if (relative.startsWith("..") || path.isAbsolute(relative)) {
    throw new Error(`${file} is not inside the project (${projectRoot})`);
  }
  return relative.split(path.sep).join("/");
}
