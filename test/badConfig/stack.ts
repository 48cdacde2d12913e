/** The stack: name and variables (names the deploy refuses). */
import { BadConfig } from "./case";

export const stackCases: BadConfig[] = [
  ["bad stack name", { stack: { name: "My App" } }, /^aws-swarm:stack\.name must be a stack name/],
  [
    "bad stack variable name",
    { stack: { variables: { "1X": "y" } } },
    /^aws-swarm:stack\.variables\["1X"\] is not a valid variable name/,
  ],
  [
    "stack variable shadowing an image",
    { images: [{ name: "echo", context: "services/echo" }], stack: { variables: { ECHO_IMAGE: "x" } } },
    /^aws-swarm:stack\.variables\.ECHO_IMAGE is set from a built image/,
  ],
  ...["PATH", "LD_PRELOAD", "DOCKER_HOST", "https_proxy", "NO_PROXY", "BASH_ENV", "IFS"].map(
    (name): [string, Record<string, unknown>, RegExp] => [
      `stack variable ${name} (reserved)`,
      { stack: { variables: { [name]: "x" } } },
      new RegExp(`^aws-swarm:stack\\.variables\\.${name} is reserved \\([A-Za-z_*]+\\): it would change how`),
    ],
  ),
  ...["LD_LIBRARY_PATH", "DOCKER_CONFIG", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "HOME", "ENV", "CDPATH"].map(
    (name): BadConfig => [
      `stack variable ${name} (reserved, more)`,
      { stack: { variables: { [name]: "x" } } },
      new RegExp(`^aws-swarm:stack\\.variables\\.${name} is reserved \\([A-Za-z_*]+\\): it would change how`),
    ],
  ),
  ...["SSL_CERT_FILE", "SSL_CERT_DIR", "GODEBUG"].map((name): BadConfig => [
    `stack variable ${name} (the docker CLI's trusted certificates or Go runtime)`,
    { stack: { variables: { [name]: "x" } } },
    new RegExp(
      `^aws-swarm:stack\\.variables\\.${name} is reserved \\(${name}\\): it would change how the deploy's shell or the docker CLI behaves; use another name$`,
    ),
  ]),
  [
    "stack variable name with a dash",
    { stack: { variables: { "MY-VAR": "x" } } },
    /^aws-swarm:stack\.variables\.MY-VAR is not a valid variable name: letters, digits and '_', not starting with a digit$/,
  ],
  [
    "stack variables as a list",
    { stack: { variables: ["A=1"] } },
    /^aws-swarm:stack\.variables must be an object \(key: value pairs\), got a list$/,
  ],
  ["stack name starting with '_'", { stack: { name: "_app" } }, /^aws-swarm:stack\.name must be a stack name/],
  [
    "typo in a stack key",
    { stack: { varaibles: {} } },
    /^aws-swarm:stack\.varaibles is not a known key; did you mean variables\?$/,
  ],
];
