/** The stack: name and variables (names the deploy refuses). */
import { BadConfig, route, stack } from "./case";

export const stackCases: BadConfig[] = [
  ["bad stack name", { stack: stack({ name: "My App" }) }, /^aws-swarm:stack\.name must be a stack name/],
  [
    "bad stack variable name",
    { stack: stack({ variables: { "1X": "y" } }) },
    /^aws-swarm:stack\.variables\["1X"\] is not a valid variable name/,
  ],
  [
    "stack variable shadowing an image",
    { images: [{ name: "echo", context: "services/echo" }], stack: stack({ variables: { ECHO_IMAGE: "x" } }) },
    /^aws-swarm:stack\.variables\.ECHO_IMAGE is set from a built image/,
  ],
  ...["PATH", "LD_PRELOAD", "DOCKER_HOST", "https_proxy", "NO_PROXY", "BASH_ENV", "IFS"].map(
    (name): [string, Record<string, unknown>, RegExp] => [
      `stack variable ${name} (reserved)`,
      { stack: stack({ variables: { [name]: "x" } }) },
      new RegExp(`^aws-swarm:stack\\.variables\\.${name} is reserved \\([A-Za-z_*]+\\): it would change how`),
    ],
  ),
  ...["LD_LIBRARY_PATH", "DOCKER_CONFIG", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "HOME", "ENV", "CDPATH"].map(
    (name): BadConfig => [
      `stack variable ${name} (reserved, more)`,
      { stack: stack({ variables: { [name]: "x" } }) },
      new RegExp(`^aws-swarm:stack\\.variables\\.${name} is reserved \\([A-Za-z_*]+\\): it would change how`),
    ],
  ),
  ...["SSL_CERT_FILE", "SSL_CERT_DIR", "GODEBUG"].map((name): BadConfig => [
    `stack variable ${name} (the docker CLI's trusted certificates or Go runtime)`,
    { stack: stack({ variables: { [name]: "x" } }) },
    new RegExp(
      `^aws-swarm:stack\\.variables\\.${name} is reserved \\(${name}\\): it would change how the deploy's shell or the docker CLI behaves; use another name$`,
    ),
  ]),
  [
    "stack variable name with a dash",
    { stack: stack({ variables: { "MY-VAR": "x" } }) },
    /^aws-swarm:stack\.variables\.MY-VAR is not a valid variable name: letters, digits and '_', not starting with a digit$/,
  ],
  [
    "stack variables as a list",
    { stack: stack({ variables: ["A=1"] }) },
    /^aws-swarm:stack\.variables must be an object \(key: value pairs\), got a list$/,
  ],
  ["stack name starting with '_'", { stack: stack({ name: "_app" }) }, /^aws-swarm:stack\.name must be a stack name/],
  [
    "typo in a stack key",
    { stack: stack({ varaibles: {} }) },
    /^aws-swarm:stack\.varaibles is not a known key; did you mean variables\?$/,
  ],
  [
    "both stack and stacks",
    { stack: stack({}), stacks: [stack({})] },
    /^aws-swarm:stack and aws-swarm:stacks are both set: move the stack into aws-swarm:stacks \(a list\) and remove aws-swarm:stack$/,
  ],
  [
    "two stacks of one name",
    { stacks: [stack({}), stack({ file: "stacks/infra.yml" })] },
    /^aws-swarm:stacks\[1\]\.name .*app/,
  ],
  [
    "a stack named like the gateway's own",
    { stacks: [stack({ name: "aws-swarm" })] },
    /^aws-swarm:stacks\[0\]\.name must not be "aws-swarm": that is the gateway's own stack$/,
  ],
  ["a stack without a file", { stacks: [{ name: "app" }] }, /^aws-swarm:stacks\[0\]\.file is required$/],
  [
    "a stack file that is not YAML",
    { stacks: [stack({ file: "test/fixtures/bad/not-yaml.yml" })] },
    /^aws-swarm:stacks\[0\]\.file \(test\/fixtures\/bad\/not-yaml\.yml\) is not a compose file Docker can read: /,
  ],
  [
    "a stack file declaring aws-swarm's network",
    { stacks: [stack({ file: "test/fixtures/bad/gateway-network.yml" })] },
    /^aws-swarm:stacks\[0\]\.file \(test\/fixtures\/bad\/gateway-network\.yml\) declares the network aws-swarm-gateway, which aws-swarm adds itself/,
  ],
  [
    "a route to a service two stacks declare",
    { stacks: [stack({ name: "blue" }), stack({ name: "green" })], gateway: { routes: [route({})] } },
    /^aws-swarm:gateway\.routes\[0\]\.service \(hello\) is declared by stacks blue and green: write blue\/hello or green\/hello$/,
  ],
  [
    "a route naming a configured stack that lacks the service",
    {
      stacks: [stack({ name: "infra", file: "stacks/infra.yml" }), stack({})],
      gateway: { routes: [route({ service: "infra/hello" })] },
    },
    /^aws-swarm:gateway\.routes\[0\]\.service \(infra\/hello\) names stack infra, whose file declares no service hello$/,
  ],
  [
    "a route service with two slashes",
    { gateway: { routes: [route({ service: "app/hello/v2" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.service must be a service name, or "stack\/service"/,
  ],
];
