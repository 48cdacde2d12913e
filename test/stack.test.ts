import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ENCRYPTED_NETWORK_SUFFIX, encryptOverlayNetworks } from "../lib/compose";
import { ecrRegion, imageVariableName, lifecyclePolicy, projectPath, registryAuthEnv, registryOf } from "../lib/images";
import { renderScript } from "../lib/scripts";
import { DEFAULT_GATEWAY_IMAGE } from "../lib/defaults";
import { HAPROXY_FILE } from "../lib/gatewayStack";
import {
  contentHash,
  encodeFiles,
  gatewayUrls,
  planStacks,
  StackPlan,
  StacksPlan,
  StacksPlanInput,
  renderVariables,
  variablesHash,
} from "../lib/stack";
import { GatewayConfig, StackConfig } from "../lib/types";
import { parse } from "yaml";
import { unwrapSecrets } from "./program/types";
import { stackConfig } from "./support/stackConfig";

const ROOT = path.join(__dirname, "..");
const APP_YML = fs.readFileSync(path.join(ROOT, "stacks", "app.yml"), "utf8");
const STACKS: StackConfig[] = [
  { name: "infra", file: "stacks/infra.yml", variables: {} },
  { name: "app", file: "stacks/app.yml", variables: {} },
];
const GATEWAY: GatewayConfig = {
  port: 80,
  publicCidrs: ["0.0.0.0/0"],
  placement: "managers",
  image: DEFAULT_GATEWAY_IMAGE,
  accessLog: "errors",
  loadBalancer: false,
  routes: [
    { path: "/hello", service: "hello", port: 8080, stack: "app" },
    { path: "/world", service: "world", port: 8080, stack: "app" },
  ],
};
const IMAGES = { ECHO_IMAGE: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/echo@sha256:" + "a".repeat(64) };

function decode(b64: string): string {
  return Buffer.from(b64, "base64").toString("utf8");
}

describe("names, hashes, encodings", () => {
  test("image variable names", () => {
    expect(imageVariableName("echo")).toBe("ECHO_IMAGE");
    expect(imageVariableName("team/order-api.v2")).toBe("TEAM_ORDER_API_V2_IMAGE");
  });

  test("hashes are stable and order-independent", () => {
    expect(contentHash("x")).toHaveLength(12);
    expect(contentHash("x")).toBe(contentHash("x"));
    expect(variablesHash({ A: "1", B: "2" })).toBe(variablesHash({ B: "2", A: "1" }));
    expect(variablesHash({ A: "1" })).not.toBe(variablesHash({ A: "2" }));
  });

  test("STACK_VARIABLES lines", () => {
    expect(renderVariables({ B: "x=y", A: "" })).toBe("A=\nB=x=y\n");
    expect(() => renderVariables({ "BAD-NAME": "1" })).toThrow(/not a valid variable name/);
    expect(() => renderVariables({ A: "two\nlines" })).toThrow(/newline/);
  });

  test("FILES_B64 lines", () => {
    expect(encodeFiles({ "b.cfg": "B", "a.txt": "hello" })).toBe("a.txt aGVsbG8=\nb.cfg Qg==\n");
    expect(() => encodeFiles({ "../x": "" })).toThrow(/plain file name/);
    expect(() => encodeFiles({ "compose.yml": "" })).toThrow(/other than compose.yml/);
  });

  test("ECR helpers", () => {
    const url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/aws-swarm/echo";
    expect(registryOf(url)).toBe("123456789012.dkr.ecr.eu-west-1.amazonaws.com");
    expect(ecrRegion(registryOf(url))).toBe("eu-west-1");
    expect(() => ecrRegion("registry.example.com")).toThrow(/not an ECR registry/);
    expect(registryAuthEnv(registryOf(url), "app")).toEqual({
      REGISTRY: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
      AWS_REGION: "eu-west-1",
      STACK_NAME: "app",
    });
    expect(JSON.parse(lifecyclePolicy(5)).rules[0].selection.countNumber).toBe(5);
    // Another registry (the test harness's) has nothing to refresh: no region, nothing installed.
    expect(registryAuthEnv("10.213.0.1:5000", "app")).toEqual({
      REGISTRY: "10.213.0.1:5000",
      AWS_REGION: "",
      STACK_NAME: "app",
    });
  });

  test("gateway URLs", () => {
    expect(gatewayUrls(["203.0.113.1", "203.0.113.2"], 8080)).toEqual([
      "http://203.0.113.1:8080",
      "http://203.0.113.2:8080",
    ]);
  });
});

describe("the shipped stack files' images", () => {
  /** Every service's `image:` in stacks/*.yml, as written (variables not substituted). */
  const images = fs
    .readdirSync(path.join(ROOT, "stacks"))
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => {
      const services = parse(fs.readFileSync(path.join(ROOT, "stacks", f), "utf8")).services ?? {};
      return Object.entries(services).map(([name, s]) => [`${f} ${name}`, String((s as any).image)]);
    })
    .concat([["gateway.image (lib/defaults.ts)", DEFAULT_GATEWAY_IMAGE]]);
  const PINNED = /^[a-z0-9]+(?:[._/-][a-z0-9]+)*:[\w][\w.-]*@sha256:[0-9a-f]{64}$/;

  it("every third-party default names a tag and a digest; the rest are required variables the program sets", () => {
    const unpinned = images.filter(([, image]) => {
      const required = /^\$\{[A-Z_]+:\?[^}]*\}$/.test(image);
      const fallback = /^\$\{[A-Z_]+:-(.*)\}$/.exec(image)?.[1] ?? (image.includes("$") ? "" : image);
      return !required && !PINNED.test(fallback);
    });
    expect(unpinned).toEqual([]);
    expect(images.filter(([, image]) => image.includes("@sha256:")).length).toBeGreaterThanOrEqual(2);
  });

  it("would catch a floating tag or a digest without a tag", () => {
    for (const bad of ["haproxy:3.2", "grafana/grafana@sha256:" + "a".repeat(64), "haproxy"]) {
      expect(PINNED.test(bad)).toBe(false);
    }
  });
});

describe("projectPath (image build paths the same in every checkout)", () => {
  it("normalises a path inside the project to a relative POSIX path", () => {
    expect(projectPath("/src/a", "./services/echo/")).toBe("services/echo");
    expect(projectPath("/src/a", "services/echo/../echo/Dockerfile")).toBe("services/echo/Dockerfile");
    expect(projectPath("/src/a", ".")).toBe(".");
  });

  it("refuses a path outside the project", () => {
    expect(() => projectPath("/src/a", "../b")).toThrow("../b is not inside the project (/src/a)");
    expect(() => projectPath("/src/a", "/etc")).toThrow("/etc is not inside the project");
  });
});

describe("encryptOverlayNetworks", () => {
  /** A compose file as Docker's loader reads it (YAML 1.1: `0444` is octal). */
  const load = (text: string) => parse(text, { version: "1.1" }) as Record<string, Record<string, object>>;
  const ENCRYPTED = { encrypted: "" };

  test("app.yml: its network gets the option and a new name, nothing else changes, and docker accepts it", () => {
    // WHEN
    const encrypted = encryptOverlayNetworks(APP_YML, "app");
    // THEN
    const before = load(APP_YML);
    expect(load(encrypted)).toEqual({
      ...before,
      networks: { app: { ...before.networks.app, driver_opts: ENCRYPTED, name: `app_app${ENCRYPTED_NETWORK_SUFFIX}` } },
    });
    // Only lines were added: comments, anchors and quoting are as written.
    const added = encrypted.split("\n").filter((line) => !APP_YML.split("\n").includes(line));
    expect(added).toEqual(["    driver_opts:", '      encrypted: ""', "    name: app_app-encrypted"]);
    const merged = stackConfig({ "app.yml": encrypted }, { ECHO_IMAGE: "echo:1" });
    expect(merged).toMatch(
      /networks:\n {2}app:\n {4}name: app_app-encrypted\n {4}driver: overlay\n {4}driver_opts:\n {6}encrypted: ""\n/,
    );
  });

  test("existing driver_opts, external, flow-style, named, already encrypted and non-overlay networks", () => {
    const compose = [
      "services: {}",
      "networks:",
      "  # comment",
      "  front:",
      "    driver: overlay",
      "    driver_opts:",
      '      com.docker.network.driver.mtu: "1400"',
      "  shared:",
      "    external: true",
      "  back: {}",
      "  flow: {driver: overlay, attachable: true}",
      "  named:",
      "    name: ${NET_NAME:-mine}",
      "  mine:",
      "    driver_opts:",
      '      encrypted: "yes"',
      "  local:",
      "    driver: bridge",
      "volumes: {}",
      "",
    ].join("\n");
    // WHEN
    const encrypted = encryptOverlayNetworks(compose, "web");
    // THEN
    expect(load(encrypted)).toEqual({
      services: {},
      networks: {
        front: {
          driver: "overlay",
          driver_opts: { "com.docker.network.driver.mtu": "1400", ...ENCRYPTED },
          name: "web_front-encrypted",
        },
        shared: { external: true },
        back: { driver_opts: ENCRYPTED, name: "web_back-encrypted" },
        flow: { driver: "overlay", attachable: true, driver_opts: ENCRYPTED, name: "web_flow-encrypted" },
        named: { name: "${NET_NAME:-mine}-encrypted", driver_opts: ENCRYPTED },
        // Encrypted by the file itself: the same whatever the setting, so neither renamed nor touched.
        mine: { driver_opts: { encrypted: "yes" } },
        local: { driver: "bridge" },
      },
      volumes: {},
    });
    expect(encrypted).toContain("  # comment\n  front:\n");
  });

  test("anchors: an aliased network and one merged with << get their own options; the anchor is untouched", () => {
    const compose = [
      "x-net: &net",
      "  # shared network settings",
      "  driver: overlay",
      "  driver_opts:",
      '    com.docker.network.driver.mtu: "1400"',
      "services:",
      "  a:",
      "    image: x",
      "    networks: [front, back]",
      "networks:",
      "  front: *net",
      "  back:",
      "    <<: *net",
      "    attachable: true",
      "",
    ].join("\n");
    // WHEN
    const encrypted = encryptOverlayNetworks(compose, "app");
    // THEN
    const opts = { "com.docker.network.driver.mtu": "1400", ...ENCRYPTED };
    expect(load(encrypted)).toEqual({
      "x-net": { driver: "overlay", driver_opts: { "com.docker.network.driver.mtu": "1400" } },
      services: { a: { image: "x", networks: ["front", "back"] } },
      networks: {
        front: { driver: "overlay", driver_opts: opts, name: "app_front-encrypted" },
        back: { driver: "overlay", attachable: true, driver_opts: opts, name: "app_back-encrypted" },
      },
    });
    // The anchor stays on its key's line, above the comment, and << stays a merge.
    expect(encrypted).toMatch(/^x-net: &net\n {2}# shared network settings\n/);
    expect(encrypted).toContain("    <<: *net\n");
  });

  test("services on the default network: an encrypted default network is declared, only when one is used", () => {
    // WHEN no top-level networks at all
    expect(load(encryptOverlayNetworks("services:\n  a:\n    image: x\n", "app")).networks).toEqual({
      default: { driver: "overlay", driver_opts: ENCRYPTED, name: "app_default-encrypted" },
    });
    // WHEN one service names its networks (long syntax) and another has none
    const mixed = [
      "services:",
      "  a:",
      "    image: x",
      "    networks:",
      "      front:",
      "        aliases: [web]",
      "  b:",
      "    image: y",
      "networks:",
      "  front:",
      "",
    ].join("\n");
    const encrypted = load(encryptOverlayNetworks(mixed, "app"));
    // THEN the services' references are as written; both networks are declared and encrypted.
    expect(encrypted.services).toEqual(load(mixed).services);
    expect(encrypted.networks).toEqual({
      front: { driver_opts: ENCRYPTED, name: "app_front-encrypted" },
      default: { driver: "overlay", driver_opts: ENCRYPTED, name: "app_default-encrypted" },
    });
    // WHEN every service names its networks: no default network appears.
    const named = "services:\n  a:\n    networks: [front]\nnetworks:\n  front: {}\n";
    expect(Object.keys(load(encryptOverlayNetworks(named, "app")).networks)).toEqual(["front"]);
  });

  test("refuses a name that another network already has, and what is not a compose file", () => {
    const clash = "services: {}\nnetworks:\n  app: {}\n  other:\n    name: web_app-encrypted\n";
    expect(() => encryptOverlayNetworks(clash, "web")).toThrow(
      /network other is named web_app-encrypted, the name network app gets/,
    );
    expect(() => encryptOverlayNetworks("services: [\n", "web")).toThrow(/^compose file: /);
    expect(() => encryptOverlayNetworks("- a\n", "web")).toThrow(/top level must be a mapping/);
  });
});

const INFRA_YML = fs.readFileSync(path.join(ROOT, "stacks", "infra.yml"), "utf8");

/** The sample's plan (infra, then app), with some inputs changed. */
function planSample(changes: Partial<StacksPlanInput> = {}) {
  return planStacks({
    stacks: STACKS,
    gateway: GATEWAY,
    encryptOverlay: false,
    composeFiles: { infra: INFRA_YML, app: APP_YML },
    imageVariables: IMAGES,
    ...changes,
  });
}

const byName = (plan: StacksPlan, name: string) => plan.stacks.find((stack) => stack.name === name)!;
const composeOf = (stack: StackPlan) => parse(decode(stack.env.COMPOSE_B64), { merge: true });
const ROUTED_GRAFANA: GatewayConfig = {
  ...GATEWAY,
  routes: [...GATEWAY.routes, { path: "/grafana", service: "grafana", port: 3000, stack: "infra" }],
};

describe("planStacks", () => {
  test("the sample stacks are plain compose files: each resolves on its own, with no aws-swarm name in it", () => {
    expect(parse(stackConfig({ "infra.yml": INFRA_YML }, {})).services).toHaveProperty("grafana");
    expect(parse(stackConfig({ "app.yml": APP_YML }, { ECHO_IMAGE: "echo:1" })).services).toHaveProperty("hello");
    for (const text of [INFRA_YML, APP_YML]) {
      const uncommented = text.replace(/#.*$/gm, "");
      expect(uncommented).not.toMatch(/aws-swarm|GATEWAY|haproxy/i);
    }
  });

  test("the gateway's own stack first, with haproxy.cfg beside it; then each stack in config order", () => {
    const plan = planSample();
    expect([plan.gateway.name, ...plan.stacks.map((stack) => stack.name)]).toEqual(["aws-swarm", "infra", "app"]);
    for (const stack of [plan.gateway, ...plan.stacks]) {
      expect(Object.keys(stack.env).sort()).toEqual([
        "COMPOSE_B64",
        "CONVERGE_TIMEOUT",
        "FILES_B64",
        "STACK_NAME",
        "STACK_VARIABLES",
      ]);
      expect(stack.env.STACK_NAME).toBe(stack.name);
      expect(stack.env.CONVERGE_TIMEOUT).toBe("600");
    }
    const [name, content] = plan.gateway.env.FILES_B64.trim().split(" ");
    expect(name).toBe(HAPROXY_FILE);
    expect(decode(content)).toBe(plan.haproxyConfig);
    expect(plan.haproxyConfig).toMatch(/tasks\.app_hello:8080/);
    expect(plan.gateway.env.STACK_VARIABLES).toBe("STACK_NAME=aws-swarm\n");
    expect(byName(plan, "infra").env.FILES_B64).toBe("");
  });

  test("each stack gets its own variables and only the built images its file names", () => {
    const plan = planSample({
      stacks: [{ ...STACKS[0], variables: { GRAFANA_IMAGE: "grafana/grafana:13.0.2" } }, STACKS[1]],
    });
    expect(byName(plan, "infra").env.STACK_VARIABLES).toBe("GRAFANA_IMAGE=grafana/grafana:13.0.2\nSTACK_NAME=infra\n");
    expect(byName(plan, "app").env.STACK_VARIABLES).toBe(`ECHO_IMAGE=${IMAGES.ECHO_IMAGE}\nSTACK_NAME=app\n`);
  });

  test("the gateway's compose file and every attached stack resolve with docker stack config", () => {
    const plan = planSample({ gateway: ROUTED_GRAFANA });
    const gateway = stackConfig({ "gateway.yml": plan.gateway.compose, [HAPROXY_FILE]: plan.haproxyConfig }, {});
    expect(gateway).toMatch(`name: aws-swarm_gateway-${contentHash(plan.haproxyConfig)}`);
    expect(gateway).toMatch(`image: ${DEFAULT_GATEWAY_IMAGE}`);
    expect(gateway).toMatch(/published: 80\n/);
    const app = byName(plan, "app");
    const merged = parse(stackConfig({ "app.yml": app.compose }, app.variables));
    expect(merged.networks["aws-swarm-gateway"]).toEqual({ name: "aws-swarm-gateway", external: true });
    expect(merged.services.hello.image).toBe(IMAGES.ECHO_IMAGE);
    const infra = byName(plan, "infra");
    const grafana = parse(stackConfig({ "infra.yml": infra.compose }, infra.variables));
    expect(grafana.networks).toEqual({ "aws-swarm-gateway": { name: "aws-swarm-gateway", external: true } });
  });

  test("attaches exactly the routed services to the gateway's network; the others keep theirs", () => {
    const plan = planSample({ gateway: ROUTED_GRAFANA });
    const app = composeOf(byName(plan, "app"));
    expect(byName(plan, "app").routed).toEqual(["hello", "world"]);
    expect(app.services.hello.networks).toEqual(["app", "aws-swarm-gateway"]);
    expect(app.services.world.networks).toEqual(["app", "aws-swarm-gateway"]);
    // grafana declares no network: it keeps the stack's default one.
    expect(composeOf(byName(plan, "infra")).services.grafana.networks).toEqual(["default", "aws-swarm-gateway"]);
    const unrouted = planSample({ gateway: { ...GATEWAY, routes: [GATEWAY.routes[0]] } });
    expect(composeOf(byName(unrouted, "app")).services.world.networks).toEqual(["app"]);
    expect(byName(unrouted, "infra").compose).toBe(INFRA_YML);
  });

  test("hashes change exactly with their inputs: only the stacks a change touches deploy again", () => {
    const base = planSample();
    const hashes = (plan: StacksPlan) => [plan.gateway, ...plan.stacks].map((stack) => stack.hashes);
    expect(hashes(planSample({ imageVariables: { ...IMAGES } }))).toEqual(hashes(base));

    const route = planSample({ gateway: ROUTED_GRAFANA });
    expect(route.gateway.hashes.files).not.toBe(base.gateway.hashes.files);
    expect(byName(route, "infra").hashes.compose).not.toBe(byName(base, "infra").hashes.compose);
    expect(byName(route, "app").hashes).toEqual(byName(base, "app").hashes);

    const image = planSample({ imageVariables: { ECHO_IMAGE: "echo@sha256:" + "b".repeat(64) } });
    expect(byName(image, "app").hashes.variables).not.toBe(byName(base, "app").hashes.variables);
    expect(byName(image, "infra").hashes).toEqual(byName(base, "infra").hashes);
    expect(image.gateway.hashes).toEqual(base.gateway.hashes);

    const infraEdited = planSample({ composeFiles: { infra: `${INFRA_YML}# edited\n`, app: APP_YML } });
    expect(byName(infraEdited, "infra").hashes.compose).not.toBe(byName(base, "infra").hashes.compose);
    expect(byName(infraEdited, "app").hashes).toEqual(byName(base, "app").hashes);
    expect(infraEdited.gateway.hashes).toEqual(base.gateway.hashes);
  });

  test("the gateway is on a plain and an encrypted network, whatever the setting: it never restarts for it", () => {
    const gateway = parse(planSample().gateway.compose);
    expect(gateway.networks).toEqual({
      "aws-swarm-gateway": { name: "aws-swarm-gateway", driver: "overlay", attachable: true },
      "aws-swarm-gateway-encrypted": {
        name: "aws-swarm-gateway-encrypted",
        driver: "overlay",
        attachable: true,
        driver_opts: { encrypted: "" },
      },
    });
    expect(gateway.services.gateway.networks).toEqual(["aws-swarm-gateway", "aws-swarm-gateway-encrypted"]);
    expect(planSample({ encryptOverlay: true }).gateway.hashes).toEqual(planSample().gateway.hashes);
  });

  test("encrypted: the routed services join the gateway's encrypted network; the stacks' own networks are encrypted", () => {
    const plan = planSample({ encryptOverlay: true });
    expect(plan.network).toBe("aws-swarm-gateway-encrypted");
    const app = composeOf(byName(plan, "app"));
    expect(app.networks["aws-swarm-gateway"]).toEqual({ external: true, name: "aws-swarm-gateway-encrypted" });
    expect(app.networks.app).toMatchObject({ driver_opts: { encrypted: "" }, name: "app_app-encrypted" });
  });

  test("a stack's own variables can't set STACK_NAME or a built image", () => {
    const plan = planSample({
      stacks: [STACKS[0], { ...STACKS[1], variables: { STACK_NAME: "other", ECHO_IMAGE: "stale:1" } }],
    });
    expect(byName(plan, "app").variables.STACK_NAME).toBe("app");
    expect(byName(plan, "app").variables.ECHO_IMAGE).toBe(IMAGES.ECHO_IMAGE);
  });

  test("a route no stack declares resolves tasks.<service>: a service created outside any stack", () => {
    const plan = planSample({ gateway: { ...GATEWAY, routes: [{ path: "/legacy", service: "legacy", port: 80 }] } });
    expect(plan.haproxyConfig).toMatch(/ tasks\.legacy:80 /);
    expect(plan.stacks.every((stack) => stack.routed.length === 0)).toBe(true);
  });
});

describe("node scripts", () => {
  const scripts = ["deploy-stack", "update-image", "registry-auth"];

  test.each(scripts)("%s.sh is shellcheck-clean and follows the script conventions", (name) => {
    const file = path.join(ROOT, "scripts", `${name}.sh`);
    execFileSync("shellcheck", ["-x", file], { stdio: "pipe" });
    const text = fs.readFileSync(file, "utf8");
    expect(text.startsWith("#!/usr/bin/env bash\nset -euo pipefail\n")).toBe(true);
    expect(text.trimEnd().split("\n").pop()).toBe('main "$@"');
  });

  test("rendered registry-auth.sh (snapshot)", () => {
    const text = renderScript("registry-auth", registryAuthEnv("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "app"));
    expect(text).toMatchSnapshot();
  });

  test("rendered deploy-stack.sh starts with its parameters", () => {
    const plan = byName(planSample(), "app");
    const text = renderScript("deploy-stack", plan.env);
    expect(text.startsWith(`#!/usr/bin/env bash\nexport COMPOSE_B64='${plan.env.COMPOSE_B64}'\n`)).toBe(true);
    expect(text).toMatch(/^export STACK_NAME='app'$/m);
    expect(text).toMatch(/^export STACK_VARIABLES='ECHO_IMAGE=/m);
  });

  test("deploy-stack.sh refuses to run without its parameters", () => {
    const result = spawnSync("bash", ["-s"], { input: renderScript("deploy-stack", {}), encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/STACK_NAME is required/);
    expect(result.stdout).toBe("");
  });

  test("update-image.sh prints its usage", () => {
    const result = spawnSync("bash", [path.join(ROOT, "scripts", "update-image.sh")], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/usage: update-image.sh <service> <image>/);
  });

  test("registry-auth refresh re-applies auth to the registry's services only (fake docker)", () => {
    // GIVEN a fake docker CLI and credential helper that log their calls.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "registry-auth-"));
    const calls = path.join(dir, "calls");
    const registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    fs.writeFileSync(
      path.join(dir, "docker"),
      `#!/usr/bin/env bash
echo "docker $*" >>"${calls}"
case "$*" in
  "info --format {{.Swarm.ControlAvailable}}") echo true ;;
  "node ls --format {{.Self}} {{.ManagerStatus}}") printf 'false Reachable\\ntrue Leader\\n' ;;
  "service ls "*) printf 'app_hello\\napp_grafana\\n' ;;
  *"app_hello") [[ $1 == service && $2 == inspect ]] && echo "${registry}/echo@sha256:abc" ;;
  *"app_grafana") [[ $2 == inspect ]] && echo "grafana/grafana:13.0.2" ;;
esac
exit 0
`,
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(dir, "docker-credential-ecr-login"),
      `#!/usr/bin/env bash\ncat >/dev/null\necho '{"Secret":"x"}'\n`,
      {
        mode: 0o755,
      },
    );
    try {
      // WHEN
      const result = spawnSync("bash", ["-s", "refresh"], {
        input: renderScript("registry-auth", registryAuthEnv(registry, "app")),
        encoding: "utf8",
        env: { PATH: `${dir}:${process.env.PATH}` },
      });
      // THEN
      expect(result.stderr).toMatch(
        /re-applied registry auth to 1 service\(s\) using 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com/,
      );
      expect(result.status).toBe(0);
      const log = fs.readFileSync(calls, "utf8");
      expect(log).toMatch("docker service update --with-registry-auth --detach --quiet app_hello");
      expect(log).not.toMatch("service update --with-registry-auth --detach --quiet app_grafana");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("StackDeployment and ImageRepositories (Pulumi mocks)", () => {
  // Recorded resources, in registration order (dependencies first: pulumi-facts §4.6).
  const resources: { type: string; name: string; inputs: any }[] = [];
  let pulumi: typeof import("@pulumi/pulumi");

  beforeAll(async () => {
    pulumi = await import("@pulumi/pulumi");
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          resources.push({ type: args.type, name: args.name, inputs: args.inputs });
          const extra: Record<string, unknown> = {};
          if (args.type === "command:local:Command") {
            extra.stdout = args.name.endsWith("-deploy")
              ? `{"stack":"${args.name.replace(/^demo-app-(stack-)?|-deploy$/g, "")}","converged":true}`
              : "";
          }
          if (args.type === "aws:ecr/repository:Repository") {
            extra.repositoryUrl = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${args.inputs.name}`;
            extra.registryId = "123456789012";
          }
          if (args.type === "docker:index/image:Image") {
            extra.repoDigest = `${String(args.inputs.imageName).replace(/:latest$/, "")}@sha256:${"c".repeat(64)}`;
          }
          return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
        },
        call(args) {
          if (args.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken") {
            return {
              userName: "AWS",
              password: "token",
              authorizationToken: "x",
              proxyEndpoint: "https://x",
              expiresAt: "",
            };
          }
          throw new Error(`no mock for the invoke ${args.token}`);
        },
      },
      "aws-swarm",
      "test",
      false,
    );
  });

  const promiseOf = <T>(output: import("@pulumi/pulumi").Output<T>) =>
    new Promise<T>((resolve) => output.apply(resolve));

  test("images, registry auth on each manager, remove holder, deploy with hash triggers", async () => {
    // GIVEN
    const { ImageRepositories } = await import("../components/imageRepositories");
    const { StackDeployment } = await import("../components/stackDeployment");
    const connection = { host: "203.0.113.10", user: "ubuntu", privateKey: "KEY" };
    const stub = (name: string) => new pulumi.ComponentResource("test:index:Stub", name, {});
    const swarm = stub("swarm");
    const control = {
      managers: pulumi.output("203.0.113.10=10.0.0.10 203.0.113.11=10.0.0.11"),
      login: { user: "ubuntu", privateKey: "KEY" },
    };
    // WHEN
    const images = new ImageRepositories("demo", {
      images: [{ name: "echo", context: "services/echo", dockerfile: "Dockerfile" }],
      projectRoot: ROOT,
      repositoryPrefix: "demo",
    });
    const stack = new StackDeployment("demo-app", {
      control,
      swarm,
      managers: [
        { instance: stub("manager-0"), connection },
        { instance: stub("manager-1"), connection: { ...connection, host: "203.0.113.11" } },
      ],
      config: {
        stacks: STACKS,
        gateway: GATEWAY,
        swarm: {
          taskHistoryLimit: 2,
          autolock: false,
          encryptOverlay: false,
          certExpiry: "2160h",
          defaultAddrPool: "10.128.0.0/12",
          tokenGeneration: 0,
          reportDownAfter: 300,
        },
      },
      projectRoot: ROOT,
      imageVariables: images.imageVariables,
      gatewayAddresses: ["203.0.113.10"],
      registryUrl: images.registryUrl,
    });
    // THEN
    expect(await promiseOf(images.imageVariables)).toEqual({
      ECHO_IMAGE: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/demo/echo@sha256:${"c".repeat(64)}`,
    });
    expect(await promiseOf(stack.gatewayUrls)).toEqual(["http://203.0.113.10:80"]);
    expect(await promiseOf(stack.deployStatus)).toEqual([
      '{"stack":"gateway","converged":true}',
      '{"stack":"infra","converged":true}',
      '{"stack":"app","converged":true}',
    ]);

    const names = resources.map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "demo-echo",
        "demo-echo-lifecycle",
        "demo-echo-image",
        "demo-app-registry-auth-0",
        "demo-app-registry-auth-1",
        "demo-app-gateway-deploy",
        "demo-app-stack-infra-remove",
        "demo-app-stack-infra-deploy",
        "demo-app-stack-app-remove",
        "demo-app-stack-app-deploy",
      ]),
    );
    const repo = resources.find((r) => r.name === "demo-echo")!;
    expect(repo.inputs).toMatchObject({
      name: "demo/echo",
      forceDelete: true,
      imageScanningConfiguration: { scanOnPush: true },
    });
    // Relative to the project root: another checkout path must not change the build inputs.
    const image = resources.find((r) => r.name === "demo-echo-image")!;
    expect(image.inputs.build).toMatchObject({ context: "services/echo", dockerfile: "services/echo/Dockerfile" });

    const deploy = resources.find((r) => r.name === "demo-app-stack-app-deploy")!;
    const order = (name: string) => names.indexOf(`demo-app-${name}`);
    expect(order("stack-app-deploy")).toBeGreaterThan(order("stack-app-remove"));
    expect(order("stack-app-deploy")).toBeGreaterThan(order("stack-infra-deploy"));
    expect(order("stack-infra-deploy")).toBeGreaterThan(order("gateway-deploy"));
    expect(order("gateway-deploy")).toBeGreaterThan(order("registry-auth-1"));
    expect(deploy.type).toBe("command:local:Command");
    expect(deploy.inputs.create).toBe('bash -c "$AWS_SWARM_ANY_MANAGER" any-manager deploy');
    const environment = unwrapSecrets(deploy.inputs.environment);
    expect(environment.MANAGERS).toBe("203.0.113.10=10.0.0.10 203.0.113.11=10.0.0.11");
    // The key reaches the wrapper only through the environment, never the command line.
    expect(environment.SSH_PRIVATE_KEY).toBe("KEY");
    expect(deploy.inputs.create).not.toMatch(/KEY/);
    expect(deploy.inputs.delete).toBeUndefined();
    expect(unwrapSecrets(deploy.inputs.triggers)).toHaveLength(3);
    expect(unwrapSecrets(deploy.inputs.stdin)).toMatch(
      /^export STACK_VARIABLES='ECHO_IMAGE=123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/demo\/echo@sha256:c+$/m,
    );

    const remove = resources.find((r) => r.name === "demo-app-stack-app-remove")!;
    expect(remove.inputs.create).toBe('bash -c "$AWS_SWARM_ANY_MANAGER" any-manager hold');
    expect(remove.inputs.delete).toBe('bash -c "$AWS_SWARM_ANY_MANAGER" any-manager --or-skip remove');

    const auth = resources.find((r) => r.name === "demo-app-registry-auth-0")!;
    expect(auth.inputs.stdin).toMatch(/^export REGISTRY='123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com'$/m);
    const gateway = resources.find((r) => r.name === "demo-app-gateway-deploy")!;
    const files = /^export FILES_B64='haproxy\.cfg (\S+)$/m.exec(unwrapSecrets(gateway.inputs.stdin));
    expect(files).not.toBeNull();
    expect(decode(files![1])).toMatch(/tasks\.app_world:8080/);
  });
});
