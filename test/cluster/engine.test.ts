/**
 * Day-2 changes on one real cluster, planned by the engine model (test/program/engine) as the
 * Pulumi engine would plan them, and driven partly through the local CLI a user would run:
 * scale up and down, an instance type change (refused), one stack's file changed and another
 * stack removed from the config, faults on demand,
 * and `cluster:destroy`. Each run's plan is asserted, and each ends in a healthy swarm.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { GATEWAY_STATS_PORT } from "../../lib/haproxy";
import { downHosts, powerOff, powerOn, readHarnessInfo, upHosts } from "../harness/hosts";
import { PlanLine } from "../program/engine/steps";
import { ClusterRun, onHost, readStackConfig, stateFileOf, upOnHarness } from "../program/harnessRun";
import { sshRun } from "../program/ssh";
import { keyPair } from "../support/keys";
import { eventually } from "../support/tasks";

const HARNESS = 6;
const ROOT = path.resolve(__dirname, "..", "..");

// The cluster's own key (the hosts trust it like an EC2 key pair, next to the harness's key),
// and the one it is rotated to.
const KEY_A = keyPair("key-a");
const KEY_B = keyPair("key-b");
const dev: Record<string, any> = { ...readStackConfig(path.join(ROOT, "Pulumi.dev.yaml")), ...KEY_A };
const pools = (app: Record<string, unknown>) => [dev.workerPools[0], { ...dev.workerPools[1], ...app }];
// The dev stack with one app node: three nodes, and spares for what the day-2 runs add.
const base = { ...dev, workerPools: pools({ count: 1 }) };
// The sample's stacks with the infra file edited (one environment variable more).
const EDITED_INFRA = [{ name: "infra", file: "test/fixtures/stacks/infra-edited.yml" }, dev.stacks[1]];

function changes(plan: PlanLine[], op?: PlanLine["op"]): string[] {
  return plan
    .filter((l) => l.op !== "same" && (!op || l.op === op))
    .map((l) => `${l.op} ${l.name}`)
    .sort();
}

/** The local CLI, as `npm run cluster:<verb> -- …` runs it; resolves with its stdout. */
function cli(verb: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        require.resolve("ts-node/dist/bin.js"),
        "--transpile-only",
        path.join(ROOT, "test/harness/cli.ts"),
        verb,
        "--id",
        String(HARNESS),
        ...args,
      ],
      { cwd: ROOT, env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") }, maxBuffer: 1 << 24 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`cluster:${verb} failed: ${stderr.slice(-2000)}`)) : resolve(stdout),
    );
  });
}

/** A Pulumi.dev.yaml holding `config`, as a user's edited stack file. */
function stackFile(config: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-cli-"));
  const file = path.join(dir, "Pulumi.dev.yaml");
  const prefixed = Object.fromEntries(Object.entries(config).map(([k, v]) => [`aws-swarm:${k}`, v]));
  fs.writeFileSync(file, stringify({ config: { "aws:region": "us-east-1", ...prefixed } }));
  return file;
}

/** The services' version indexes: unchanged when no update touched them. */
function serviceVersions(host: string, ...services: string[]): Promise<string> {
  return onHost(HARNESS, host, `docker service inspect --format '{{.Version.Index}}' ${services.join(" ")}`);
}

/** The gateway's servers for `service` on `host`, from its stats page; those still waiting for DNS as a count. */
function gatewayServers(host: string, service: string): Promise<string> {
  const csv = `exec 3<>/dev/tcp/127.0.0.1/${GATEWAY_STATS_PORT}; printf 'GET /;csv HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3`;
  return onHost(
    HARNESS,
    host,
    `docker exec "$(docker ps -q --filter name=aws-swarm_gateway | head -n1)" bash -c "${csv}" | ` +
      `awk -F, '$1 ~ /${service}/ && $2 != "BACKEND" {if ($18 ~ /resolution/) n++; else print $2, $18, $37, $74} ` +
      `END {print n + 0, "waiting for DNS"}'`,
  );
}

async function readyNodes(host: string): Promise<string[]> {
  const out = await onHost(HARNESS, host, "docker node ls --format '{{.Hostname}} {{.Status}}'");
  return out
    .split("\n")
    .filter((l) => l.endsWith(" Ready"))
    .map((l) => l.split(" ")[0])
    .sort();
}

describe("day-2 changes on one cluster, planned like the Pulumi engine", () => {
  let current: ClusterRun;
  /** The config of the last `up` (the SSH key is rotated half-way). */
  let currentConfig: Record<string, any> = base;
  let manager: string;

  beforeAll(async () => {
    await upHosts(3, HARNESS);
    current = await upOnHarness(HARNESS, "dev", base);
    manager = current.nodeHosts["manager-0"];
  });
  afterAll(async () => {
    await downHosts(HARNESS);
  });

  it("keeps no join token, SSH private key or connection readable in the state file", async () => {
    const state = fs.readFileSync(stateFileOf(HARNESS, "dev"), "utf8");
    const workerToken = await onHost(HARNESS, manager, "docker swarm join-token -q worker");
    const managerToken = await onHost(HARNESS, manager, "docker swarm join-token -q manager");
    const privateKey = KEY_A.sshPrivateKey;
    const keyBody = privateKey.split("\n")[1];
    expect(workerToken).toMatch(/^SWMTKN-1-/);
    for (const secret of [workerToken, managerToken, keyBody]) {
      expect(state.includes(secret)).toBe(false);
    }
    expect(state).not.toContain("PRIVATE KEY");
    expect(state).toContain("ciphertext");
  });

  it("cluster:preview with the same config plans no change and runs nothing", async () => {
    const out = await cli("preview", "--config", stackFile(base));
    const total = current.result.plan.length;
    expect(out.trim().split("\n")).toEqual([
      `plan: 0 to create, 0 to update, 0 to replace, 0 to delete, ${total} unchanged`,
    ]);
  });

  it("scales a pool up: creates the node's instance and its four commands, and it joins", async () => {
    const config = { ...dev, workerPools: pools({ count: 2 }) };
    const run = await upOnHarness(HARNESS, "dev", config);
    expect(changes(run.result.plan)).toEqual([
      "create dev-app-1",
      "create dev-authorize-app-1",
      "create dev-join-app-1",
      "create dev-member-app-1",
      "create dev-ready-app-1",
    ]);
    expect(run.result.commandsRun).toBe(4);
    expect(await readyNodes(manager)).toEqual(Object.values(run.nodeHosts).sort());
    current = run;
  });

  it("scales it down again through cluster:up: five deletes, only the membership removal runs, the instance is terminated", async () => {
    const gone = current.nodeHosts["app-1"];
    const out = await cli("up", "--config", stackFile(base));
    expect(out).toContain("plan: 0 to create, 0 to update, 0 to replace, 5 to delete, ");
    expect(out).toContain("- delete   command:local:Command dev-member-app-1");
    expect(out).toContain("remote commands run: 1");
    expect(await readyNodes(manager)).not.toContain(gone);
    expect(readHarnessInfo(HARNESS)!.hosts.map((h) => h.name)).not.toContain(gone);
  });

  it("refuses an instance type change (all nodes of a pool would stop at once): nothing runs, a warning names the node and the procedure", async () => {
    const config = { ...dev, workerPools: pools({ count: 1, instanceType: "t3.large" }) };
    const refused = await upOnHarness(HARNESS, "dev", config);
    expect(changes(refused.result.plan)).toEqual([]);
    expect(refused.result.commandsRun).toBe(0);
    const warning = refused.result.warnings.find((w) => w.includes("app-0 (i-"));
    expect(warning).toContain("runs t3.small, the config says t3.large");
    expect(warning).toContain('"Changing an instance type"');
    current = refused;
  });

  it("changes only the infra stack's file: only its deploy runs again, grafana rolls, app's services are untouched", async () => {
    const appBefore = await serviceVersions(manager, "app_hello", "app_world");
    const config = { ...dev, workerPools: pools({ count: 1, instanceType: "t3.large" }), stacks: EDITED_INFRA };
    const run = await upOnHarness(HARNESS, "dev", config);
    expect(changes(run.result.plan)).toEqual(["replace dev-stack-infra-deploy"]);
    expect(run.result.commandsRun).toBe(1);
    const env = await onHost(
      HARNESS,
      manager,
      "docker service inspect --format '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' infra_grafana",
    );
    expect(env).toContain("GF_USERS_DEFAULT_THEME=light");
    expect(await serviceVersions(manager, "app_hello", "app_world")).toBe(appBefore);
    expect(await (await fetch(`${run.result.outputs.url}/grafana/api/health`)).text()).toContain("service=grafana ");
    current = run;
  });

  it("removes the app stack from the config: docker stack rm app; its routes answer 503 and say so, infra's still answers", async () => {
    const config = {
      ...dev,
      workerPools: pools({ count: 1, instanceType: "t3.large" }),
      stacks: [EDITED_INFRA[0]],
    };
    const infraBefore = await serviceVersions(manager, "infra_grafana");
    const run = await upOnHarness(HARNESS, "dev", config);
    // The routes to hello and world now name no configured stack: the gateway looks for
    // services of those names outside any stack (its config changes, so it rolls).
    expect(changes(run.result.plan)).toEqual([
      "delete dev-stack-app-deploy",
      "delete dev-stack-app-remove",
      "replace dev-gateway-deploy",
    ]);
    expect(run.result.warnings.join("\n")).toMatch(
      /gateway\.routes\[0\] \(\/hello\) goes to hello, which no configured stack declares/,
    );
    const stacks = await onHost(HARNESS, manager, "docker stack ls --format '{{.Name}}'");
    expect(stacks.split("\n")).toEqual(["aws-swarm", "infra"]);
    // The rolled gateway is back in the load balancer after two passed checks (5 s apart).
    const url = run.result.outputs.url as string;
    const answer = async (route: string) => {
      const reply = await fetch(`${url}${route}`).catch(() => undefined);
      return `${reply?.status} ${await reply?.text()}`;
    };
    const hello = await eventually(
      30,
      () => answer("/hello"),
      (reply) => reply.startsWith("503 "),
    );
    expect(hello).toBe("503 503 no healthy task of service hello for route /hello\n");
    // Infra's services are untouched, and grafana answers through the front door. One CI run saw
    // a single 503 for grafana right after this `up` (not reproduced since): a first answer other
    // than 200 is printed with the gateway's view of grafana's tasks, and the wait is bounded.
    expect(await serviceVersions(manager, "infra_grafana")).toBe(infraBefore);
    let grafana = await answer("/grafana/api/health");
    if (!grafana.startsWith("200 ")) {
      const [first, start] = [grafana, Date.now()];
      const view = await gatewayServers(manager, "grafana");
      grafana = await eventually(
        20,
        () => answer("/grafana/api/health"),
        (reply) => reply.startsWith("200 "),
      );
      console.log(
        `grafana after the stack removal: first "${first.trim()}", then "${grafana.trim()}" after ${Date.now() - start} ms`,
      );
      console.log(`the gateway's servers for grafana at the first answer (name, status, check, address):\n${view}`);
    }
    expect(grafana).toMatch(/^200 service=grafana /);
    expect(Object.keys((run.result.outputs.stackStatus as { stacks: object }).stacks)).toEqual(["aws-swarm", "infra"]);
    current = run;
  });

  it("rotates the join tokens (swarm.tokenGeneration 0 → 1): new tokens, the joins re-run with them, every node stays", async () => {
    const before = await onHost(HARNESS, manager, "docker swarm join-token -q worker");
    const config = {
      ...dev,
      workerPools: pools({ count: 1, instanceType: "t3.large" }),
      stacks: [EDITED_INFRA[0]],
      swarm: { ...dev.swarm, tokenGeneration: 1 },
    };
    const run = await upOnHarness(HARNESS, "dev", config);
    expect(changes(run.result.plan, "replace")).toEqual([
      "replace dev-token-manager",
      "replace dev-token-rotation",
      "replace dev-token-worker",
    ]);
    expect(changes(run.result.plan, "update").sort()).toEqual(
      ["update dev-join-app-0", "update dev-join-infra-0", "update dev-join-manager-0"].sort(),
    );
    expect(await onHost(HARNESS, manager, "docker swarm join-token -q worker")).not.toBe(before);
    expect(await readyNodes(manager)).toEqual(Object.values(run.nodeHosts).sort());
    current = run;
  });

  it("rotates the SSH key without replacing an instance: every node trusts the new key and refuses the old one", async () => {
    const config = {
      ...dev,
      ...KEY_B,
      workerPools: pools({ count: 1, instanceType: "t3.large" }),
      stacks: [EDITED_INFRA[0]],
      swarm: { ...dev.swarm, tokenGeneration: 1 },
    };
    const run = await upOnHarness(HARNESS, "dev", config);
    expect(changes(run.result.plan, "replace")).toEqual(["replace dev-ssh"]);
    expect(changes(run.result.plan, "create")).toEqual([]);
    expect(changes(run.result.plan, "update")).toEqual(
      expect.arrayContaining([
        "update dev-authorize-app-0",
        "update dev-authorize-infra-0",
        "update dev-authorize-manager-0",
      ]),
    );
    const hosts = readHarnessInfo(HARNESS)!.hosts.filter((h) => Object.values(run.nodeHosts).includes(h.name));
    expect(hosts).toHaveLength(3);
    for (const host of hosts) {
      const login = (key: string) =>
        sshRun({ host: host.publicIp, user: "root", privateKey: key, dialErrorLimit: 1 }, "true");
      expect((await login(KEY_B.sshPrivateKey)).code).toBe(0);
      expect((await login(KEY_A.sshPrivateKey)).stderr).toMatch(/Permission denied/);
    }
    expect(await readyNodes(manager)).toEqual(Object.values(run.nodeHosts).sort());
    expect(fs.readFileSync(stateFileOf(HARNESS, "dev"), "utf8")).not.toContain(KEY_B.sshPrivateKey.split("\n")[1]);
    current = run;
    currentConfig = config;
  });

  it("cluster:fault powers a worker off and on; the swarm sees it leave and come back", async () => {
    const host = current.nodeHosts["infra-0"];
    expect(await cli("fault", "--node", "infra-0", "poweroff")).toContain(`infra-0 (${host}): poweroff`);
    const hasHost = async () => (await readyNodes(manager)).includes(host);
    expect(await eventually(120, hasHost, (ready) => !ready)).toBe(false);
    await cli("fault", "--node", "infra-0", "poweron");
    expect(await eventually(120, hasHost, (ready) => ready)).toBe(true);
  });

  it("cluster:fault reboot of a worker and of the manager: both are Ready again without a pulumi up", async () => {
    const all = Object.values(current.nodeHosts).sort();
    for (const key of ["app-0", "manager-0"]) {
      const started = Date.now();
      expect(await cli("fault", "--node", key, "reboot")).toContain(`${key} (${current.nodeHosts[key]}): reboot`);
      // Right after the manager's own reboot its API may not answer yet.
      const ready = await eventually(
        120,
        () => readyNodes(manager).catch((): string[] => []),
        (nodes) => nodes.join() === all.join(),
      );
      console.log(`reboot of ${key}: every node Ready again after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(ready).toEqual(all);
    }
  });

  it("stops and starts the manager (EC2 would give it a new auto address): its Elastic IP stays, the next up runs nothing", async () => {
    const address = (current.result.outputs.managerPublicIps as string[])[0];
    const auto = readHarnessInfo(HARNESS)!.hosts.find((h) => h.name === current.nodeHosts["app-0"])!;
    expect(readHarnessInfo(HARNESS)!.hosts.find((h) => h.name === manager)).toMatchObject({
      publicIp: address,
      elasticIp: true,
    });
    expect(auto.elasticIp).not.toBe(true); // a plain worker keeps the auto address
    await powerOff(HARNESS, manager);
    expect((await powerOn(HARNESS, manager, { newPublicIp: true })).publicIp).toBe(address);
    const all = Object.values(current.nodeHosts).sort();
    expect(
      await eventually(
        120,
        () => readyNodes(manager).catch((): string[] => []),
        (nodes) => nodes.join() === all.join(),
      ),
    ).toEqual(all);
    const again = await upOnHarness(HARNESS, "dev", currentConfig);
    expect(changes(again.result.plan)).toEqual([]);
    expect(again.result.commandsRun).toBe(0);
    expect(again.result.outputs.managerPublicIps).toEqual([address]);
    const login = await sshRun(
      { host: address, user: "root", privateKey: currentConfig.sshPrivateKey, dialErrorLimit: 1 },
      "docker info --format '{{.Swarm.ControlAvailable}}'",
    );
    expect(login).toMatchObject({ code: 0, stdout: "true\n" });
    current = again;
  });

  // The real destroy of a cluster is test/cluster/program.test.ts's last dev scenario.  // The real destroy of a cluster is test/cluster/program.test.ts's last dev scenario.
  it("cluster:destroy --preview-only plans a delete for every resource and runs nothing", async () => {
    const stateFile = stateFileOf(HARNESS, "dev");
    const before = fs.readFileSync(stateFile, "utf8");
    const total = JSON.parse(before).resources.length;
    const out = await cli("destroy", "--preview-only");
    expect(out).toContain(`plan: 0 to create, 0 to update, 0 to replace, ${total} to delete, 0 unchanged`);
    expect(out).not.toContain("remote commands run");
    expect(fs.readFileSync(stateFile, "utf8")).toBe(before);
  });
});
