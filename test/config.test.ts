import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, loadConfig, parseConfig } from "../lib/config";
import { unresolvedRouteWarnings } from "../lib/configStacks";
import * as defaults from "../lib/defaults";
import { RESERVED_VARIABLES } from "../lib/variables";
import { ClusterConfig } from "../lib/types";

const PROJECT_ROOT = path.resolve(__dirname, "..");
const ADMIN = ["81.2.69.160/32"];

// ---------------------------------------------------------------------------------------------
// A test-only reader for the YAML subset the stack files use: block mappings, block sequences
// ("- " items, indented or not), plain/quoted scalars, `[]`/`{}`, and comments. It throws on
// anything else, so a stack file that outgrows it fails loudly rather than being misread.

interface Line {
  indent: number;
  text: string;
  no: number;
}

function readYaml(file: string): unknown {
  const lines: Line[] = [];
  fs.readFileSync(file, "utf8")
    .split("\n")
    .forEach((raw, i) => {
      const text = raw.replace(/(^|\s)#.*$/, "").trimEnd();
      if (text.trim() !== "") {
        lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), no: i + 1 });
      }
    });
  const state = { pos: 0 };
  const value = readBlock(lines, state, 0);
  if (state.pos < lines.length) {
    throw new Error(`${file}:${lines[state.pos].no}: unexpected indentation`);
  }
  return value;
}

function readBlock(lines: Line[], state: { pos: number }, indent: number): unknown {
  const first = lines[state.pos];
  if (first.text.startsWith("- ") || first.text === "-") {
    const items: unknown[] = [];
    while (state.pos < lines.length && lines[state.pos].indent === indent && lines[state.pos].text.startsWith("-")) {
      const line = lines[state.pos];
      const rest = line.text.slice(1).trimStart();
      // "- key: value" opens a mapping whose keys sit two columns further in.
      lines[state.pos] = { ...line, indent: indent + 2, text: rest };
      items.push(
        rest.includes(": ") || rest.endsWith(":") ? readBlock(lines, state, indent + 2) : (state.pos++, scalar(rest)),
      );
    }
    return items;
  }
  const map: Record<string, unknown> = {};
  while (state.pos < lines.length && lines[state.pos].indent === indent) {
    const line = lines[state.pos];
    const split = line.text.endsWith(":") ? line.text.length - 1 : line.text.indexOf(": ");
    if (split < 0) {
      throw new Error(`line ${line.no}: expected "key: value", got ${line.text}`);
    }
    const key = String(scalar(line.text.slice(0, split)));
    const rest = line.text.slice(split + 1).trim();
    state.pos++;
    const next = lines[state.pos];
    if (rest !== "") {
      map[key] = scalar(rest);
    } else if (next && (next.indent > indent || (next.indent === indent && next.text.startsWith("- ")))) {
      map[key] = readBlock(lines, state, next.indent);
    } else {
      map[key] = null;
    }
  }
  return map;
}

function scalar(text: string): unknown {
  if (text.startsWith('"')) {
    return JSON.parse(text);
  }
  if (text.startsWith("'")) {
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text === "[]") {
    return [];
  }
  if (text === "{}") {
    return {};
  }
  if (text === "true" || text === "false") {
    return text === "true";
  }
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

/**
 * A stack file's `config:` as the Pulumi language host hands it to the program: every value a
 * string, objects and lists as JSON.
 */
function stackFileConfig(stack: string): Record<string, string> {
  const doc = readYaml(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`)) as { config: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(doc.config).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]),
  );
}

const mocks: pulumi.runtime.Mocks = {
  newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
  call: (args) => args.inputs,
};

async function loadStack(stack: string, config: Record<string, string>, secretKeys: string[] = []) {
  await pulumi.runtime.setMocks(mocks, "aws-swarm", stack, false);
  pulumi.runtime.setAllConfig(config, secretKeys);
  return loadConfig();
}

function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** The problems parseConfig reports, or [] when the config is valid. */
function problemsOf(raw: Record<string, unknown>, root: string, stackName = "dev"): string[] {
  try {
    parseConfig(raw, stackName, root);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) {
      throw e;
    }
    return e.problems;
  }
}

// ---------------------------------------------------------------------------------------------

describe("stack files", () => {
  const infra = { name: "infra", count: 1, instanceType: "t3.small", volumeSize: 20, labels: { type: "low-memory" } };
  // Each route's stack is the one whose file declares its service.
  const routes = [
    { path: "/hello", service: "hello", port: 8080, stack: "app" },
    { path: "/world", service: "world", port: 8080, stack: "app" },
    { path: "/grafana", service: "grafana", port: 3000, stack: "infra" },
  ];
  const stacks = [
    { name: "infra", file: "stacks/infra.yml", variables: {} },
    { name: "app", file: "stacks/app.yml", variables: {} },
  ];
  /** The gateway both stack files configure, with every default. */
  const sampleGateway = {
    port: 80,
    publicCidrs: ["0.0.0.0/0"],
    placement: "managers",
    image: defaults.DEFAULT_GATEWAY_IMAGE,
    accessLog: "errors" as const,
    routes,
    loadBalancer: true,
  };

  const ADMIN_PLACEHOLDER =
    "aws-swarm:adminCidrs\\[0\\] \\(203\\.0\\.113\\.10/32\\) " +
    "is a documentation address \\(RFC 5737\\) that no machine has, a placeholder: set your own, " +
    "pulumi config set --path 'adminCidrs\\[0\\]' \"\\$\\(curl -s https://checkip\\.amazonaws\\.com\\)/32\"";
  const DOMAIN_PLACEHOLDER =
    "aws-swarm:gateway\\.domain \\(app\\.example\\.com\\) is a placeholder \\(RFC 2606 reserves example\\.com, " +
    "\\.net and \\.org\\): set the name you serve, in a Route 53 zone of this account — " +
    "pulumi config set --path gateway\\.domain app\\.yourcompany\\.com — or remove it";

  const DOMAIN = "app.mycompany.org";

  it.each([
    ["dev", [ADMIN_PLACEHOLDER]],
    ["prod", [ADMIN_PLACEHOLDER, DOMAIN_PLACEHOLDER]],
  ])(
    "Pulumi.%s.yaml is refused for its placeholders alone (admin address; prod's domain), saying how to set yours",
    async (stack, problems) => {
      const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
      await expect(loadStack(stack, stackFileConfig(stack))).rejects.toThrow(
        new RegExp(
          `configuration for stack "${stack}" \\(${count}\\):\\n` + problems.map((p) => ` {2}- ${p}`).join(".*\\n"),
        ),
      );
    },
  );

  it("Pulumi.dev.yaml loads once the admin address is set: one manager, pools infra and app, three routes", async () => {
    const config: Record<string, string> = { ...stackFileConfig("dev"), "aws-swarm:adminCidrs": JSON.stringify(ADMIN) };
    expect(config["aws:region"]).toBe("us-east-1");
    const { config: dev, sshPrivateKey } = await loadStack("dev", config);
    expect(sshPrivateKey).toBeUndefined();
    expect(dev).toEqual<ClusterConfig>({
      clusterName: "dev",
      vpcCidr: "10.0.0.0/16",
      availabilityZones: 2,
      adminCidrs: ADMIN,
      sshUser: "ubuntu",
      detailedMonitoring: false,
      managers: { name: "manager", count: 1, instanceType: "t3.small", volumeSize: 20, labels: {} },
      workerPools: [infra, { name: "app", count: 2, instanceType: "t3.small", volumeSize: 20, labels: {} }],
      swarm: {
        taskHistoryLimit: 2,
        autolock: false,
        encryptOverlay: false,
        certExpiry: "2160h",
        defaultAddrPool: "10.128.0.0/12",
        tokenGeneration: 0,
        reportDownAfter: 300,
      },
      stacks,
      gateway: sampleGateway,
      images: [{ name: "echo", context: "services/echo", dockerfile: "Dockerfile" }],
    });
  });

  it("Pulumi.prod.yaml loads once the admin address is set: three managers over three AZs, larger pools, encrypted overlay", async () => {
    const config: Record<string, string> = {
      ...stackFileConfig("prod"),
      "aws-swarm:adminCidrs": JSON.stringify(ADMIN),
      "aws-swarm:gateway": JSON.stringify({
        ...JSON.parse(stackFileConfig("prod")["aws-swarm:gateway"]),
        domain: DOMAIN,
      }),
    };
    const { config: prod } = await loadStack("prod", config);
    expect(prod.clusterName).toBe("prod");
    expect(prod.availabilityZones).toBe(3);
    expect(prod.managers).toEqual({ name: "manager", count: 3, instanceType: "t3.medium", volumeSize: 20, labels: {} });
    expect(prod.workerPools).toEqual([
      { ...infra, count: 2, instanceType: "t3.medium" },
      { name: "app", count: 4, instanceType: "m6i.large", volumeSize: 20, labels: {} },
    ]);
    expect(prod.swarm).toMatchObject({ encryptOverlay: true, autolock: false, taskHistoryLimit: 2 });
    expect(prod.detailedMonitoring).toBe(true);
    expect(prod.gateway).toEqual({ ...sampleGateway, domain: DOMAIN, hostedZone: "mycompany.org" });
  });
});

describe("loadConfig", () => {
  const publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q me@laptop";
  const privateKey =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

  it("returns the configured private key as a secret, and the public key trimmed", async () => {
    const { config, sshPrivateKey } = await loadStack(
      "dev",
      {
        "aws-swarm:adminCidrs": JSON.stringify(ADMIN),
        "aws-swarm:sshPublicKey": `${publicKey}\n`,
        "aws-swarm:sshPrivateKey": privateKey,
      },
      ["aws-swarm:sshPrivateKey"],
    );
    expect(config.sshPublicKey).toBe(publicKey);
    expect(sshPrivateKey).toBeDefined();
    expect(await pulumi.isSecret(sshPrivateKey!)).toBe(true);
    expect(await promiseOf(sshPrivateKey!)).toBe(privateKey);
    expect(JSON.stringify(config)).not.toContain("PRIVATE KEY");
  });

  it("decodes top-level scalars the way Pulumi passes them, keeping string keys verbatim", async () => {
    const { config } = await loadStack("dev", {
      "aws-swarm:adminCidrs": JSON.stringify(ADMIN),
      "aws-swarm:availabilityZones": "3", // `pulumi config set availabilityZones 3` stores a string
      "aws-swarm:clusterName": "e2e",
      "aws-swarm:managers": JSON.stringify({ count: 3 }),
      "aws:region": "eu-west-1", // another namespace: not ours to judge
    });
    expect(config.availabilityZones).toBe(3);
    expect(config.clusterName).toBe("e2e");
    expect(config.managers.count).toBe(3);
  });

  it("throws one ConfigError naming the keys, before anything else runs", async () => {
    await expect(
      loadStack("dev", { "aws-swarm:adminCidrs": "203.0.113.10/32", "aws-swarm:workerpools": "[]" }),
    ).rejects.toThrow(
      /\(2 problems\):\n {2}- aws-swarm:workerpools is not a known key; did you mean workerPools\?\n {2}- aws-swarm:adminCidrs must be a list, got "203\.0\.113\.10\/32"; set items by index: pulumi config set --path 'adminCidrs\[0\]'/,
    );
  });
});

describe("parseConfig", () => {
  let root: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-config-"));
    fs.mkdirSync(path.join(root, "stacks"));
    fs.writeFileSync(path.join(root, "stacks", "app.yml"), "services: {}\n");
    fs.writeFileSync(path.join(root, "stacks", "infra.yml"), "services: {}\n");
    fs.mkdirSync(path.join(root, "images", "web"), { recursive: true });
    fs.writeFileSync(path.join(root, "images", "web", "Dockerfile"), "FROM scratch\n");
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("applies every default to a config that sets only the required key", () => {
    expect(parseConfig({ adminCidrs: ADMIN }, "staging", root)).toEqual<ClusterConfig>({
      clusterName: "staging",
      vpcCidr: "10.0.0.0/16",
      availabilityZones: 2,
      adminCidrs: ADMIN,
      sshUser: "ubuntu",
      detailedMonitoring: false,
      managers: { name: "manager", count: 1, instanceType: "t3.small", volumeSize: 20, labels: {} },
      workerPools: [],
      swarm: {
        taskHistoryLimit: 2,
        autolock: false,
        encryptOverlay: false,
        certExpiry: "2160h",
        defaultAddrPool: "10.128.0.0/12",
        tokenGeneration: 0,
        reportDownAfter: 300,
      },
      stacks: [
        { name: "infra", file: "stacks/infra.yml", variables: {} },
        { name: "app", file: "stacks/app.yml", variables: {} },
      ],
      gateway: {
        port: 80,
        publicCidrs: ["0.0.0.0/0"],
        placement: "managers",
        image: defaults.DEFAULT_GATEWAY_IMAGE,
        accessLog: "errors" as const,
        routes: [],
        loadBalancer: true,
      },
      images: [],
    });
  });

  it("merges partial objects over the defaults", () => {
    const config = parseConfig(
      {
        adminCidrs: ADMIN,
        managers: { count: 3 },
        workerPools: [{ name: "edge", count: 2, volumeSize: 40 }],
        swarm: { autolock: true },
        gateway: { placement: "edge" },
      },
      "dev",
      root,
    );
    expect(config.managers).toEqual({
      name: "manager",
      count: 3,
      instanceType: "t3.small",
      volumeSize: 20,
      labels: {},
    });
    expect(config.workerPools).toEqual([
      { name: "edge", count: 2, instanceType: "t3.small", volumeSize: 40, labels: {} },
    ]);
    expect(config.swarm).toMatchObject({ autolock: true, taskHistoryLimit: 2, certExpiry: "2160h" });
    expect(config.gateway).toMatchObject({ placement: "edge", port: 80 });
  });

  it("accepts the optional keys when valid", () => {
    const config = parseConfig(
      {
        adminCidrs: ["81.2.69.0/24", "100.64.7.7/32"],
        ami: "ami-0123456789abcdef0",
        // Quoted in the stack file (or set with --type string): text that looks like a number or a boolean.
        workerPools: [{ name: "app", count: 1, labels: { "com.example.tier": "web", version: "2", canary: "true" } }],
        images: [{ name: "web", context: "images/web" }],
        stack: { name: "shop", file: "stacks/app.yml", variables: { JAVA_OPTS: "-Xmx512m" } },
        gateway: { image: "registry.example.org/haproxy:3.0" },
      },
      "dev",
      root,
    );
    expect(config.ami).toBe("ami-0123456789abcdef0");
    expect(config.workerPools[0].labels).toEqual({ "com.example.tier": "web", version: "2", canary: "true" });
    expect(config.images).toEqual([{ name: "web", context: "images/web", dockerfile: "Dockerfile" }]);
    expect(config.stacks).toEqual([{ name: "shop", file: "stacks/app.yml", variables: { JAVA_OPTS: "-Xmx512m" } }]);
    expect(config.gateway.image).toBe("registry.example.org/haproxy:3.0");
    expect(config).not.toHaveProperty("sshPublicKey");
  });

  it("accepts every new limit at its edge (the bad-config table has each one just beyond)", () => {
    const pools = (counts: number[]) => counts.map((count, i) => ({ name: `p${i}`, count }));
    const atEdges = [
      { adminCidrs: ["10.0.0.0/9", "10.128.0.0/9", "10.0.0.0/24"] }, // exactly a /8 together
      { vpcCidr: "10.0.0.0/24", availabilityZones: 1, workerPools: pools([10]) }, // 11 nodes in a /28
      { vpcCidr: "10.0.0.0/24", managers: { count: 3 }, workerPools: pools([18]) }, // 2 + 9 in zone 1
      { managers: { count: 7 }, availabilityZones: 6, workerPools: pools([50, 50, 50, 50, 50, 50, 50, 50, 50, 43]) }, // 500 nodes
      { workerPools: pools(Array.from({ length: 10 }, () => 1)) }, // 10 pools
      { swarm: { certExpiry: "1h" } },
      { swarm: { certExpiry: "2562046h47m16s" } },
      { swarm: { certExpiry: "9223368436s" } },
    ];
    expect(atEdges.map((raw) => problemsOf({ adminCidrs: ADMIN, ...raw }, root))).toEqual(atEdges.map(() => []));
  });

  it("checks that the default stack files and the Dockerfile exist", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-empty-"));
    fs.mkdirSync(path.join(empty, "web"));
    try {
      expect(problemsOf({ adminCidrs: ADMIN, images: [{ name: "web", context: "web" }] }, empty)).toEqual([
        expect.stringMatching(
          /^aws-swarm:stacks\[0\]\.file must name an existing file relative to the project root; .*stacks\/infra\.yml does not exist$/,
        ),
        expect.stringMatching(
          /^aws-swarm:stacks\[1\]\.file must name an existing file relative to the project root; .*stacks\/app\.yml does not exist$/,
        ),
        expect.stringMatching(
          /^aws-swarm:images\[0\]\.dockerfile must name an existing file inside the build context web; .*web\/Dockerfile does not exist$/,
        ),
      ]);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it("rejects a stack name that cannot be the default cluster name, naming clusterName", () => {
    expect(problemsOf({ adminCidrs: ADMIN }, root, "Prod_EU")).toEqual([
      expect.stringMatching(
        /^aws-swarm:clusterName is not set, so it defaults to the stack name "Prod_EU", which is not a valid cluster name/,
      ),
    ]);
  });

  it("reports every problem of a config at once, in key order", () => {
    const pool = (extra: object) => ({ name: "app", count: 1, ...extra });
    const route = (extra: object) => ({ path: "/hello", service: "hello", port: 8080, ...extra });
    const raw = {
      vpcCidr: "10.0.0.1/16",
      adminCidrs: ["0.0.0.0/0"],
      managers: { count: 4 },
      workerPools: [pool({ labels: { "Bad Key": "x" } }), pool({})],
      swarm: { certExpiry: "1d" },
      gateway: { routes: [route({ service: undefined, port: 99999 })] },
      workerpool: [],
    };
    let error: unknown;
    try {
      parseConfig(raw, "dev", root);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.split(" ")[0])).toEqual([
      "aws-swarm:workerpool",
      "aws-swarm:vpcCidr",
      "aws-swarm:adminCidrs[0]",
      "aws-swarm:managers.count",
      'aws-swarm:workerPools[0].labels["Bad',
      "aws-swarm:workerPools[1].name",
      "aws-swarm:swarm.certExpiry",
      "aws-swarm:gateway.routes[0].service",
      "aws-swarm:gateway.routes[0].port",
    ]);
    expect(message).toMatch(
      /^Invalid aws-swarm configuration for stack "dev" \(9 problems\):\n {2}- aws-swarm:workerpool /,
    );
    for (const problem of problems) {
      expect(message).toContain(`\n  - ${problem}`);
    }
  });

  it("never echoes the private key, even when the pair is wrong", () => {
    const secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA";
    const problems = problemsOf({ adminCidrs: ADMIN, sshPrivateKey: secret, sshPublickey: secret }, root);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).not.toContain("PRIVATE KEY");
  });
});

// ---------------------------------------------------------------------------------------------
// One source for every default: lib/defaults.ts, the parser and docs/configuration.md agree.

type DefaultName = keyof typeof defaults;

/** Keys table of docs/configuration.md: the constant behind each documented default. */
const CONFIG_DEFAULT: Record<string, DefaultName> = {
  vpcCidr: "DEFAULT_VPC_CIDR",
  availabilityZones: "DEFAULT_AVAILABILITY_ZONES",
  sshUser: "DEFAULT_SSH_USER",
  detailedMonitoring: "DEFAULT_DETAILED_MONITORING",
  "managers.count": "DEFAULT_MANAGER_COUNT",
  "managers.instanceType": "DEFAULT_INSTANCE_TYPE",
  "managers.volumeSize": "DEFAULT_VOLUME_SIZE",
  "workerPools[i].instanceType": "DEFAULT_INSTANCE_TYPE",
  "workerPools[i].volumeSize": "DEFAULT_VOLUME_SIZE",
  "swarm.taskHistoryLimit": "DEFAULT_TASK_HISTORY_LIMIT",
  "swarm.autolock": "DEFAULT_AUTOLOCK",
  "swarm.tokenGeneration": "DEFAULT_TOKEN_GENERATION",
  "swarm.reportDownAfter": "DEFAULT_REPORT_DOWN_AFTER",
  "swarm.encryptOverlay": "DEFAULT_ENCRYPT_OVERLAY",
  "gateway.loadBalancer": "DEFAULT_GATEWAY_LOAD_BALANCER",
  "swarm.certExpiry": "DEFAULT_CERT_EXPIRY",
  "swarm.defaultAddrPool": "DEFAULT_ADDR_POOL",
  stacks: "DEFAULT_STACKS",
  "gateway.image": "DEFAULT_GATEWAY_IMAGE",
  "gateway.accessLog": "DEFAULT_GATEWAY_ACCESS_LOG",
  "gateway.port": "DEFAULT_GATEWAY_PORT",
  "gateway.publicCidrs": "DEFAULT_GATEWAY_PUBLIC_CIDRS",
  "gateway.placement": "DEFAULT_GATEWAY_PLACEMENT",
  "images[i].dockerfile": "DEFAULT_DOCKERFILE",
};
/** Keys whose default is an empty list or map: nothing to name. */
const EMPTY_DEFAULT: Record<string, unknown> = {
  workerPools: [],
  "workerPools[i].labels": {},
  "stacks[i].variables": {},
  "gateway.routes": [],
  images: [],
};
/** Built-in settings table of docs/configuration.md: the constant behind each value. */
const BUILT_IN: Record<string, DefaultName> = {
  "Gateway server slots per routed service": "DEFAULT_SLOTS",
  "Health path probed on every task of a routed service": "DEFAULT_SERVICE_HEALTH_PATH",
  "Gateway's own health path": "GATEWAY_HEALTH_PATH",
  "Deploy wait (seconds)": "DEFAULT_CONVERGE_TIMEOUT",
};

/**
 * The table under `## <heading>` in docs/configuration.md: first cell (without backticks) → the
 * cell in `column`. A cell that is all code (`` `2160h` ``, `` `["0.0.0.0/0"]` ``) is read as JSON
 * where it is JSON and as text otherwise; prose ("the stack name", "required") stays as written.
 */
function docsTable(heading: string, column: string): Map<string, { literal: boolean; value: unknown }> {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "configuration.md"), "utf8");
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) {
    throw new Error(`docs/configuration.md has no section "## ${heading}"`);
  }
  const [header, ...rows] = text
    .slice(start + 1)
    .split("\n## ")[0]
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| ---"))
    .map((line) => line.slice(2, -2).split(" | "));
  const at = header.indexOf(column);
  if (at < 0) {
    throw new Error(`the table under "## ${heading}" has no column "${column}"`);
  }
  return new Map(
    rows.map((cells) => {
      const [name, cell] = [cells[0], cells[at]];
      const code = /^`([^`]*)`$/.exec(cell);
      const value = code === null ? { literal: false, value: cell } : { literal: true, value: jsonOrText(code[1]) };
      return [name.replace(/`/g, ""), value];
    }),
  );
}

function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The documented defaults that are values (not prose), by key. */
function documentedValues(heading: string, column: string): Record<string, unknown> {
  const cells = [...docsTable(heading, column)].filter(([, cell]) => cell.literal);
  return Object.fromEntries(cells.map(([key, cell]) => [key, cell.value]));
}

/** Dotted paths of a config's leaves; lists and empty maps are leaves. */
function leafKeys(value: unknown, prefix: string): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
    return [prefix];
  }
  return Object.entries(value).flatMap(([key, child]) => leafKeys(child, prefix === "" ? key : `${prefix}.${key}`));
}

describe("defaults", () => {
  const named = (table: Record<string, DefaultName>) =>
    Object.fromEntries(Object.entries(table).map(([key, name]) => [key, defaults[name]]));

  it("the Keys table in docs/configuration.md states each default as its constant in lib/defaults.ts", () => {
    expect(documentedValues("Keys", "Default")).toEqual({ ...named(CONFIG_DEFAULT), ...EMPTY_DEFAULT });
  });

  it("the Built-in settings table in docs/configuration.md states each value as its constant", () => {
    expect(documentedValues("Built-in settings", "Value")).toEqual(named(BUILT_IN));
  });

  it("every constant in lib/defaults.ts is in one of the docs tables", () => {
    const documented = new Set([...Object.values(CONFIG_DEFAULT), ...Object.values(BUILT_IN)]);
    expect(Object.keys(defaults).sort()).toEqual([...documented].sort());
  });

  describe("parseConfig with only adminCidrs (plus one pool and one image for their item keys)", () => {
    let root: string;
    let base: ClusterConfig;
    let items: ClusterConfig;

    beforeAll(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-defaults-"));
      fs.mkdirSync(path.join(root, "stacks"));
      fs.writeFileSync(path.join(root, "stacks", "app.yml"), "services: {}\n");
      fs.writeFileSync(path.join(root, "stacks", "infra.yml"), "services: {}\n");
      fs.mkdirSync(path.join(root, "web"));
      fs.writeFileSync(path.join(root, "web", "Dockerfile"), "FROM scratch\n");
      base = parseConfig({ adminCidrs: ADMIN }, "staging", root);
      items = parseConfig(
        { adminCidrs: ADMIN, workerPools: [{ name: "app", count: 1 }], images: [{ name: "web", context: "web" }] },
        "staging",
        root,
      );
    });
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

    const valueAt = (key: string): unknown =>
      key
        .replace(/\[i\]/g, ".0")
        .split(".")
        .reduce<unknown>((x, k) => (x as Record<string, unknown>)[k], key.includes("[i]") ? items : base);

    it("yields exactly the documented defaults", () => {
      const documented = documentedValues("Keys", "Default");
      expect(Object.fromEntries(Object.keys(documented).map((key) => [key, valueAt(key)]))).toEqual(documented);
    });

    it("yields no value the Keys table leaves out, except the manager group's fixed name and labels", () => {
      const keys = docsTable("Keys", "Default");
      const leaves = [
        ...leafKeys(base, ""),
        ...leafKeys(items.workerPools[0], "workerPools[i]"),
        ...leafKeys(items.images[0], "images[i]"),
      ];
      expect(leaves.filter((key) => !keys.has(key)).sort()).toEqual(["managers.labels", "managers.name"]);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe("one rule set for config validation and the node scripts", () => {
  it("deploy-stack.sh refuses exactly the stack variables that validation refuses (lib/variables.ts)", () => {
    const script = fs.readFileSync(path.join(PROJECT_ROOT, "scripts", "deploy-stack.sh"), "utf8");
    const line = /case \$key in\n\s*(.+)\)\n\s*die "STACK_VARIABLES: \$key can't be used/.exec(script);
    expect(line).not.toBeNull();
    expect(line![1].split(" | ")).toEqual(RESERVED_VARIABLES);
  });
});

describe("layering", () => {
  /** lib/ files reached from `entries` through relative imports, the entries included. */
  function reachable(entries: string[]): Set<string> {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) {
        return;
      }
      seen.add(file);
      const text = fs.readFileSync(path.join(PROJECT_ROOT, "lib", file), "utf8");
      for (const [, name] of text.matchAll(/\b(?:from|import) "\.\/([^"]+)"/g)) {
        visit(`${name}.ts`);
      }
    };
    entries.forEach(visit);
    return seen;
  }

  it("config validation reaches neither the stack planner nor the HAProxy renderer", () => {
    const entries = fs.readdirSync(path.join(PROJECT_ROOT, "lib")).filter((f) => /^(config.*|validator)\.ts$/.test(f));
    const seen = reachable(entries);
    // The walk follows imports: lib/configSwarm.ts needs the image variable names.
    expect(seen).toContain("images.ts");
    expect(seen).not.toContain("stack.ts");
    expect(seen).not.toContain("haproxy.ts");
  });
});

describe("routes across stacks", () => {
  const twoStacks = {
    adminCidrs: ADMIN,
    stacks: [
      { name: "infra", file: "stacks/infra.yml" },
      { name: "app", file: "stacks/app.yml" },
    ],
  };
  const routesOf = (routes: object[]) => parseConfig({ ...twoStacks, gateway: { routes } }, "dev", PROJECT_ROOT);

  it("gives each route the stack whose file declares its service, or the one written as stack/service", () => {
    const config = routesOf([
      { path: "/hello", service: "hello", port: 8080 },
      { path: "/grafana", service: "infra/grafana", port: 3000 },
    ]);
    expect(config.gateway.routes).toEqual([
      { path: "/hello", service: "hello", port: 8080, stack: "app" },
      { path: "/grafana", service: "grafana", port: 3000, stack: "infra" },
    ]);
  });

  it("keeps a route to a service no stack declares, and the plan warns about it by its key", () => {
    const config = routesOf([
      { path: "/hello", service: "hello", port: 8080 },
      { path: "/legacy", service: "legacy", port: 80 },
      { path: "/old", service: "shop/orders", port: 80 },
    ]);
    expect(config.gateway.routes.map((route) => route.stack)).toEqual(["app", undefined, "shop"]);
    const warnings = unresolvedRouteWarnings(config.gateway.routes, config.stacks);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^aws-swarm:gateway\.routes\[1\] \(\/legacy\) goes to legacy, which no configured stack declares: it answers 503 until a Swarm service legacy runs on the network aws-swarm-gateway/,
    );
    expect(warnings[1]).toMatch(
      /^aws-swarm:gateway\.routes\[2\] \(\/old\) goes to shop\/orders, .* a Swarm service shop_orders runs/,
    );
  });

  it("takes the one-stack shorthand as a list of one", () => {
    const config = parseConfig(
      { adminCidrs: ADMIN, stack: { name: "shop", file: "stacks/app.yml" } },
      "dev",
      PROJECT_ROOT,
    );
    expect(config.stacks).toEqual([{ name: "shop", file: "stacks/app.yml", variables: {} }]);
  });
});
