import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Document, isCollection, isScalar, parse, parseDocument, visit } from "yaml";
import {
  attachServices,
  composeServices,
  encryptOverlayNetworks,
  parseCompose,
  referencedVariables,
} from "../lib/compose";
import { stackConfig } from "./support/stackConfig";

const FIXTURES = path.join(__dirname, "fixtures", "compose");
const read = (file: string) => fs.readFileSync(path.join(FIXTURES, file), "utf8");
const GATEWAY = { key: "aws-swarm-gateway", name: "aws-swarm-gateway" };
const DECLARATION = { external: true, name: GATEWAY.name };

type Compose = Record<string, any>;

/** A compose file read by the yaml package alone (not lib/compose.ts): YAML 1.1, merges and aliases resolved. */
const load = (text: string): Compose => parse(text, { version: "1.1" });

const attach = (text: string, services: readonly string[]) => attachServices(text, services, GATEWAY);

/**
 * The fixtures: compose files as users bring them, with the services a gateway would route to.
 *   infra-kafka      a Korean team's ZooKeeper/Kafka/monitoring stack, version "3.8": block and flow
 *                    short syntax, brokers merging an anchored broker, configs (0444), secrets
 *   shop-app         Spring services behind nginx, no `version`: quoted, unquoted and long ports,
 *                    environment lists, configs, file and external secrets, deploy blocks; a
 *                    routed service's networks list anchored, and aliased by unrouted ones
 *   anchors          x-logging/x-deploy/x-defaults anchors: networks inherited through `<<` (also as
 *                    `<<: [*defaults]`), a routed service others merge, a service that is an alias
 *   long-syntax      long-syntax networks (aliases, null, `{}`), top-level networks in flow style
 *   no-networks      no networks anywhere, version '3': services on the implicit default network
 *   external-shared  an external network, `networks: *shared` on two services, and the top-level
 *                    networks as an alias of an x- field
 *   monitoring       `networks: []`, global services, an explicitly declared `default` network
 */
const FIXTURE_CASES: { file: string; routed: string[] }[] = [
  { file: "infra-kafka.yml", routed: ["kafka-ui", "grafana"] },
  { file: "shop-app.yml", routed: ["frontend", "user-service", "order-service"] },
  { file: "anchors.yml", routed: ["user-api", "notifier", "batch", "order-api-canary"] },
  { file: "long-syntax.yml", routed: ["web", "api", "search"] },
  { file: "no-networks.yml", routed: ["wordpress", "adminer"] },
  { file: "external-shared.yml", routed: ["wiki"] },
  { file: "monitoring.yml", routed: ["prometheus", "node-exporter"] },
];

/** A service's networks as `{name: options}`, whichever the syntax; none is the `default` network. */
function networksOf(service: Compose): Record<string, unknown> {
  const networks = service.networks ?? [];
  const entries = Array.isArray(networks) ? Object.fromEntries(networks.map((name) => [name, null])) : networks;
  return Object.keys(entries).length > 0 ? entries : { default: null };
}

const isLongSyntax = (networks: unknown) =>
  networks !== null && typeof networks === "object" && !Array.isArray(networks);

/** What `docker stack deploy` would make of a compose file (its paths made relative to the file). */
function dockerReads(text: string, env: Record<string, string>): Compose {
  const output = stackConfig({ "compose.yml": text }, env);
  return parse(output.replaceAll(new RegExp(`${os.tmpdir()}/stack-test-[^/]+/`, "g"), "./"));
}

/** Every anchor and comment line of a document. */
function anchorsAndComments(text: string): { anchors: string[]; comments: string[] } {
  const doc: Document = parseDocument(text, { version: "1.1" });
  const anchors: string[] = [];
  const comments: (string | null | undefined)[] = [doc.commentBefore, doc.comment];
  visit(doc, (_, node) => {
    if (isScalar(node) || isCollection(node)) {
      anchors.push(...(node.anchor ? [node.anchor] : []));
      comments.push(node.commentBefore, node.comment);
    }
  });
  const lines = comments.flatMap((comment) => (comment ? comment.split("\n") : []));
  return { anchors, comments: lines };
}

describe("parseCompose", () => {
  test("reads as Docker does: merge keys resolved, 0444 octal, 2222:22 a string (not YAML 1.1's base 60)", () => {
    const text =
      "x: &x {image: a}\nservices:\n  s:\n    <<: *x\n    configs: [{source: c, mode: 0444}]\n    ports: [2222:22]\n";
    expect(parseCompose(text).toJS().services.s).toEqual({
      image: "a",
      configs: [{ source: "c", mode: 0o444 }],
      ports: ["2222:22"],
    });
  });

  test("refuses YAML errors and a top level that isn't a mapping", () => {
    expect(() => parseCompose("services: [\n")).toThrow(/^compose file: /);
    expect(() => parseCompose("a: 1\na: 2\n")).toThrow(/^compose file: .*unique/);
    expect(() => parseCompose("- a\n")).toThrow("compose file: the top level must be a mapping");
  });
});

describe("composeServices", () => {
  test.each([
    ["infra-kafka.yml", ["zookeeper", "kafka-1", "kafka-2", "kafka-3", "kafka-ui", "prometheus", "grafana"]],
    ["shop-app.yml", ["frontend", "user-service", "order-service", "payment-service", "postgres", "redis"]],
    ["anchors.yml", ["user-api", "order-api", "order-api-canary", "notifier", "batch", "kafka"]],
    ["long-syntax.yml", ["web", "api", "search", "worker"]],
    ["no-networks.yml", ["wordpress", "db", "adminer"]],
    ["external-shared.yml", ["wiki", "status", "wiki-db"]],
    ["monitoring.yml", ["prometheus", "node-exporter", "cadvisor"]],
  ])("%s: its services in file order", (file, services) => {
    expect(composeServices(read(file))).toEqual(services);
  });

  test("services merged into the section with << are listed; a file without services has none", () => {
    expect(composeServices("x: &more {b: {}, c: {}}\nservices:\n  a: {}\n  <<: *more\n")).toEqual(["a", "b", "c"]);
    expect(composeServices('version: "3.8"\n')).toEqual([]);
  });
});

describe("referencedVariables", () => {
  test.each([
    ["infra-kafka.yml", ["CP_VERSION"]],
    // $$POSTGRES_USER in the healthcheck is the container's variable, escaped.
    ["shop-app.yml", ["PG_API_KEY", "REGISTRY", "TAG"]],
    ["anchors.yml", ["PROFILE", "REGISTRY", "TAG"]],
    ["long-syntax.yml", []],
    ["no-networks.yml", []],
    // ${DOMAIN} and $DOMAIN
    ["external-shared.yml", ["DOMAIN"]],
    // ($$|/) in node-exporter's command is a regex, escaped.
    ["monitoring.yml", []],
  ])("%s: the variables it substitutes", (file, variables) => {
    expect(referencedVariables(read(file))).toEqual(variables);
  });

  test("the sample stacks: their values' variables, not the ones their comments mention", () => {
    const read = (name: string) => fs.readFileSync(path.join(__dirname, "..", "stacks", name), "utf8");
    expect(read("app.yml")).toMatch(/^#.*ECHO_IMAGE/m);
    expect(read("infra.yml")).toMatch(/^#.*GRAFANA_IMAGE/m);
    expect(referencedVariables(read("app.yml"))).toEqual(["ECHO_IMAGE"]);
    expect(referencedVariables(read("infra.yml"))).toEqual(["GRAFANA_IMAGE"]);
    expect(referencedVariables("# ${IN_A_COMMENT}\nservices: {}\n")).toEqual([]);
  });

  test("every form, sorted and unique; $$ escapes, keys and comments are no variables", () => {
    const text = [
      "a: ${B}${A:-x} $C ${D:?required} ${B}",
      "b: $$E $${F} $$$G ${H:-${I}}",
      "${KEY}: value # ${COMMENT}",
      "",
    ].join("\n");
    expect(referencedVariables(text)).toEqual(["A", "B", "C", "D", "G", "H", "I"]);
  });
});

describe("attachServices on the fixtures", () => {
  describe.each(FIXTURE_CASES)("$file", ({ file, routed }) => {
    const text = read(file);
    const before = load(text);
    const attached = attach(text, routed);
    const after = load(attached);

    test("the routed services keep their networks, in their syntax, and gain the gateway's (default when they had none)", () => {
      for (const name of routed) {
        const [was, is] = [before.services[name], after.services[name]];
        expect([name, networksOf(is)]).toEqual([name, { ...networksOf(was), [GATEWAY.key]: null }]);
        const long = isLongSyntax(was.networks) && Object.keys(was.networks).length > 0;
        expect([name, isLongSyntax(is.networks)]).toEqual([name, long]);
      }
    });

    test("nothing else changes: other services, the rest of the routed ones, every other section", () => {
      const expected = {
        ...before,
        services: { ...before.services },
        networks: { ...before.networks, [GATEWAY.key]: after.networks[GATEWAY.key] },
      };
      for (const name of routed) {
        expected.services[name] = { ...before.services[name], networks: after.services[name].networks };
      }
      expect(after).toEqual(expected);
    });

    test("the gateway network is declared external, under its name", () => {
      expect(after.networks[GATEWAY.key]).toEqual(DECLARATION);
    });

    test("attaching again changes nothing", () => {
      expect(load(attach(attached, routed))).toEqual(after);
    });

    test("the file's anchors and comments are all still there", () => {
      const [was, is] = [anchorsAndComments(text), anchorsAndComments(attached)];
      expect(is.anchors).toEqual(expect.arrayContaining(was.anchors));
      expect(is.comments).toEqual(expect.arrayContaining(was.comments));
    });

    test("Docker reads the file as before, but for the routed services' networks and the gateway network", () => {
      const env = Object.fromEntries(referencedVariables(text).map((name) => [name, "x"]));
      const [was, is] = [text, attached].map((compose) => dockerReads(compose, env));
      const expected = { ...was, services: { ...was.services }, networks: { ...was.networks } };
      expected.networks[GATEWAY.key] = DECLARATION;
      for (const name of routed) {
        const networks = { ...(was.services[name].networks ?? { default: null }), [GATEWAY.key]: null };
        expected.services[name] = { ...was.services[name], networks };
      }
      expect(is).toEqual(expected);
    });
  });
});

describe("attachServices: shared nodes, syntax corners, refusals", () => {
  const ANCHORS = read("anchors.yml");

  test("a template service, the service merging it and its alias each get the network once", () => {
    const after = load(attach(ANCHORS, ["user-api", "order-api", "order-api-canary", "user-api"]));
    for (const name of ["user-api", "order-api", "order-api-canary"]) {
      expect([name, after.services[name].networks]).toEqual([name, ["backend", GATEWAY.key]]);
    }
  });

  test("Docker reads an aliased service's copy, after either rewrite, as it read the service: 2222:22, on, a timestamp", () => {
    // Each is what YAML 1.1 reads otherwise than Docker does: the base-60 number 133342 (written
    // back as 37:02:22, which Docker refuses), true (written back as `true`, which Docker refuses
    // in environment) and a date (written back in UTC).
    const text = [
      "services:",
      "  git: &git",
      "    image: gitea/gitea:1.22",
      "    ports:",
      "      - 2222:22",
      "    environment:",
      "      FEATURE: on",
      "    labels:",
      "      built: 2001-12-14t21:59:43.10-05:00",
      "  git-2: *git",
      "",
    ].join("\n");
    const git = dockerReads(text, {}).services.git;
    const attached = attach(text, ["git-2"]);
    for (const rewritten of [attached, encryptOverlayNetworks(attached, "app")]) {
      const services = dockerReads(rewritten, {}).services;
      expect(services.git).toEqual(git);
      expect(services["git-2"]).toEqual({ ...git, networks: { default: null, [GATEWAY.key]: null } });
    }
  });

  test("networks null or {} on a service: the default network and the gateway's", () => {
    const text = "services:\n  a:\n    image: x\n    networks:\n  b:\n    image: x\n    networks: {}\n";
    const after = load(attach(text, ["a", "b"]));
    expect(after.services.a.networks).toEqual(["default", GATEWAY.key]);
    expect(after.services.b.networks).toEqual(["default", GATEWAY.key]);
  });

  test("top-level networks empty (`networks:`) or `{}`: a mapping with the declaration", () => {
    for (const networks of ["networks:\n", "networks: {}\n"]) {
      const after = load(attach(`services:\n  a:\n    image: x\n${networks}`, ["a"]));
      expect([networks, after.networks]).toEqual([networks, { [GATEWAY.key]: DECLARATION }]);
    }
  });

  test("no service returns the text as it is, byte for byte", () => {
    expect(attach(ANCHORS, [])).toBe(ANCHORS);
  });

  test("refuses a service the file doesn't declare, naming it", () => {
    expect(() => attach(read("shop-app.yml"), ["frontend", "gateway"])).toThrow(
      "compose file: no service gateway (the file declares frontend, user-service, order-service, payment-service, postgres, redis)",
    );
  });

  test("refuses a file declaring a network under the gateway network's key, naming the key", () => {
    const text = `services:\n  a:\n    image: x\nnetworks:\n  ${GATEWAY.key}:\n    driver: overlay\n`;
    expect(() => attach(text, ["a"])).toThrow(`compose file: network ${GATEWAY.key} is reserved for aws-swarm`);
  });

  test("refuses what is not a compose file", () => {
    expect(() => attach("services: [\n", ["a"])).toThrow(/^compose file: /);
    expect(() => attach("- a\n", ["a"])).toThrow("compose file: the top level must be a mapping");
    expect(() => attach("services:\n  a:\n    <<: [1]\n", ["a"])).toThrow(/^compose file: Merge sources/);
  });
});

describe("encryptOverlayNetworks", () => {
  test("what it encrypts in place stays as it was for the networks aliasing or merging it", () => {
    const text = [
      "services:",
      "  a:",
      "    image: x",
      "    networks: [front, local]",
      "networks:",
      "  front: &net",
      "    driver_opts: &opts",
      '      com.docker.network.driver.mtu: "1400"',
      "  local:",
      "    driver: bridge",
      "    driver_opts: *opts",
      "  peer:",
      "    <<: *net",
      "    external: true",
      "",
    ].join("\n");
    const before = load(text).networks;
    const after = load(encryptOverlayNetworks(text, "app")).networks;
    expect(after.front.name).toBe("app_front-encrypted");
    expect({ local: after.local, peer: after.peer }).toEqual({ local: before.local, peer: before.peer });
  });
});

describe("encryptOverlayNetworks with attachServices", () => {
  test("after attaching: the gateway network stays external and unencrypted, the file's own are encrypted", () => {
    const networks = load(encryptOverlayNetworks(attach(read("shop-app.yml"), ["frontend"]), "shop")).networks;
    expect(networks[GATEWAY.key]).toEqual(DECLARATION);
    expect(networks.frontend).toEqual({
      driver: "overlay",
      driver_opts: { encrypted: "" },
      name: "shop_frontend-encrypted",
    });
    expect(networks.backend).toEqual({
      driver: "overlay",
      internal: false,
      driver_opts: { encrypted: "" },
      name: "shop_backend-encrypted",
    });
  });

  test.each(FIXTURE_CASES)("$file: attach then encrypt reads the same as encrypt then attach", ({ file, routed }) => {
    const text = read(file);
    const attachFirst = load(encryptOverlayNetworks(attach(text, routed), "app"));
    expect(attachFirst).toEqual(load(attach(encryptOverlayNetworks(text, "app"), routed)));
  });
});
