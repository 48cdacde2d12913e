/** Paths that must stay inside the project, and text that must arrive as written (NUL, newlines, values YAML reads as numbers or booleans). */
import { BadConfig, pool, stack } from "./case";

export const pathsTextCases: BadConfig[] = [
  [
    "stack file outside the project",
    { stack: stack({ file: "../outside.yml" }) },
    /^aws-swarm:stack\.file must stay inside \S+ \(relative to the project root\); "\.\.\/outside\.yml" leaves it$/,
  ],
  [
    "stack file by absolute path",
    { stack: stack({ file: "/etc/passwd" }) },
    /^aws-swarm:stack\.file must stay inside \S+ \(relative to the project root\); "\/etc\/passwd" leaves it$/,
  ],
  [
    "image context outside the project",
    { images: [{ name: "web", context: "../.." }] },
    /^aws-swarm:images\[0\]\.context must stay inside /,
  ],
  [
    "a label value YAML read as a decimal number",
    { workerPools: [pool({ labels: { version: 1.1 } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.version was read as the number 1\.1, which may not be what was written; quote it$/,
  ],
  [
    "a stack variable YAML read as a number beyond exact integers",
    { stack: stack({ variables: { BUILD: 2 ** 60 } }) },
    /^aws-swarm:stack\.variables\.BUILD was read as the number 1152921504606847000, which may not be what was written/,
  ],
  [
    "label value with a newline",
    { workerPools: [pool({ labels: { type: "a\nb" } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.type must not contain a newline$/,
  ],
  [
    "missing stack file",
    { stack: stack({ file: "stacks/missing.yml" }) },
    /^aws-swarm:stack\.file must name an existing file relative to the project root; .*stacks\/missing\.yml does not exist$/,
  ],
  [
    "stack file is a directory",
    { stack: stack({ file: "stacks" }) },
    /^aws-swarm:stack\.file must name an existing file .* is not a file$/,
  ],
  [
    "a NUL character in a stack variable's value",
    { stack: stack({ variables: { GREETING: "hello\u0000world" } }) },
    /^aws-swarm:stack\.variables\.GREETING must not contain a NUL character$/,
  ],
  [
    "a NUL character in a label value",
    { workerPools: [pool({ labels: { tier: "web\u0000" } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.tier must not contain a NUL character$/,
  ],
  [
    "image context missing",
    { images: [{ name: "api", context: "images/api" }] },
    /^aws-swarm:images\[0\]\.context must name an existing directory relative to the project root/,
  ],
  [
    "Dockerfile missing",
    { images: [{ name: "web", context: "services/echo", dockerfile: "Dockerfile.prod" }] },
    /^aws-swarm:images\[0\]\.dockerfile must name an existing file inside the build context services\/echo/,
  ],
  [
    "duplicate image names",
    {
      images: [
        { name: "web", context: "services/echo" },
        { name: "web", context: "services/echo" },
      ],
    },
    /^aws-swarm:images\[1\]\.name must be unique/,
  ],
  [
    "image name with upper case",
    { images: [{ name: "Web", context: "services/echo" }] },
    /^aws-swarm:images\[0\]\.name must be an ECR repository name/,
  ],
  [
    "image names sharing a variable",
    {
      images: [
        { name: "web-app", context: "services/echo" },
        { name: "web.app", context: "services/echo" },
      ],
    },
    /^aws-swarm:images\[1\]\.name \("web\.app"\) and aws-swarm:images\[0\]\.name \("web-app"\) would both set the stack variable WEB_APP_IMAGE$/,
  ],
  [
    "a label value YAML read as a boolean (true, yes, on)",
    { workerPools: [pool({ labels: { canary: true } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.canary was read as the boolean true, which may not be what was written \(YAML also reads yes, on, no and off as booleans\); quote it \("true"\) in the stack file, or set it with pulumi config set --type string$/,
  ],
  [
    "a label value YAML read as false (no, off)",
    { workerPools: [pool({ labels: { canary: false } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.canary was read as the boolean false/,
  ],
  [
    "a label value YAML read as a hexadecimal number (0x10)",
    { workerPools: [pool({ labels: { rack: 16 } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.rack was read as the number 16, which may not be what was written; quote it$/,
  ],
  [
    "a label value YAML read as an exponent (1e3) or with '_' (1_000)",
    { workerPools: [pool({ labels: { size: 1000 } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.size was read as the number 1000, which may not be what was written; quote it$/,
  ],
  [
    "a label value YAML read as octal (010)",
    { workerPools: [pool({ labels: { zone: 8 } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.zone was read as the number 8, which may not be what was written; quote it$/,
  ],
  [
    "a stack variable YAML read as a boolean",
    { stack: stack({ variables: { DEBUG: false } }) },
    /^aws-swarm:stack\.variables\.DEBUG was read as the boolean false, which may not be what was written/,
  ],
  [
    "a stack variable YAML read as a number",
    { stack: stack({ variables: { REPLICAS: 10 } }) },
    /^aws-swarm:stack\.variables\.REPLICAS was read as the number 10, which may not be what was written; quote it$/,
  ],
  [
    "a stack variable with a carriage return",
    { stack: stack({ variables: { GREETING: "hi\r" } }) },
    /^aws-swarm:stack\.variables\.GREETING must not contain a newline$/,
  ],
  [
    "a NUL character in the stack file's path",
    { stack: stack({ file: "stacks/app.yml\u0000.txt" }) },
    /^aws-swarm:stack\.file must not contain a NUL character$/,
  ],
  [
    "a NUL character in an image context",
    { images: [{ name: "echo", context: "services/echo\u0000" }] },
    /^aws-swarm:images\[0\]\.context must not contain a NUL character$/,
  ],
  [
    "a NUL character in a Dockerfile name",
    { images: [{ name: "echo", context: "services/echo", dockerfile: "Dockerfile\u0000" }] },
    /^aws-swarm:images\[0\]\.dockerfile must not contain a NUL character$/,
  ],
  [
    "stack file climbing out through a subdirectory",
    { stack: stack({ file: "stacks/../../outside.yml" }) },
    /^aws-swarm:stack\.file must stay inside \S+ \(relative to the project root\); "stacks\/\.\.\/\.\.\/outside\.yml" leaves it$/,
  ],
  [
    "Dockerfile outside the build context",
    { images: [{ name: "echo", context: "services/echo", dockerfile: "../../Pulumi.yaml" }] },
    /^aws-swarm:images\[0\]\.dockerfile must stay inside \S+services\/echo \(inside the build context services\/echo\); "\.\.\/\.\.\/Pulumi\.yaml" leaves it$/,
  ],
  [
    "Dockerfile by absolute path",
    { images: [{ name: "echo", context: "services/echo", dockerfile: "/etc/passwd" }] },
    /^aws-swarm:images\[0\]\.dockerfile must stay inside /,
  ],
  [
    "image context by absolute path",
    { images: [{ name: "echo", context: "/tmp" }] },
    /^aws-swarm:images\[0\]\.context must stay inside \S+ \(relative to the project root\); "\/tmp" leaves it$/,
  ],
  [
    "image context that is a file",
    { images: [{ name: "echo", context: "services/echo/Dockerfile" }] },
    /^aws-swarm:images\[0\]\.context must name an existing directory relative to the project root; .* is not a directory$/,
  ],
  ["images not a list", { images: { name: "echo" } }, /^aws-swarm:images must be a list, got an object$/],
  [
    "image name over 256 characters",
    { images: [{ name: "e".repeat(257), context: "services/echo" }] },
    /^aws-swarm:images\[0\]\.name must be at most 256 characters, got 257/,
  ],
  [
    "image name with a double separator",
    { images: [{ name: "web--app", context: "services/echo" }] },
    /^aws-swarm:images\[0\]\.name must be an ECR repository name/,
  ],
  ["image without a context", { images: [{ name: "echo" }] }, /^aws-swarm:images\[0\]\.context is required$/],
];
