/**
 * The engine model end to end, offline: the real program, run after run against one state file,
 * with every provider answer made up (no harness). What runs is counted, nothing is executed.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { devConfig } from "../program/fixtures";
import { runProgram } from "../program/runner";
import { emptyState, loadState, saveState } from "../program/engine/state";
import { PlanLine } from "../program/engine/steps";
import { ProgramJob, ProgramResult, SECRET_SIG } from "../program/types";

jest.setTimeout(120_000);

function changes(plan: PlanLine[], op?: PlanLine["op"]): string[] {
  return plan
    .filter((l) => l.op !== "same" && (!op || l.op === op))
    .map((l) => `${l.op} ${l.name}`)
    .sort();
}

describe("the engine model, offline, over a series of runs of the dev config", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-runs-"));
  const stateFile = path.join(dir, "dev.json");
  const run = async (extra: Partial<ProgramJob> = {}, config = devConfig()): Promise<ProgramResult> => {
    const result = await runProgram({ stack: "dev", config, stateFile, ...extra });
    if (!result.ok) throw new Error(result.error);
    return result;
  };
  let first: ProgramResult;
  beforeAll(async () => {
    first = await run();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("creates everything on the first run", () => {
    expect(first.plan.every((l) => l.op === "create")).toBe(true);
    expect(first.commandsRun).toBeGreaterThan(10);
  });

  it("records the token commands' additionalSecretOutputs and logging none from the registration", () => {
    for (const name of ["dev-token-worker", "dev-token-manager"]) {
      const token = first.resources.find((r) => r.name === name)!;
      expect(token.options!.additionalSecretOutputs).toContain("stdout");
      expect(token.inputs.logging).toBe("none");
      expect(token.dependencies).toContain(first.resources.find((r) => r.name === "dev-init")!.urn);
    }
  });

  it("keeps no join token, private key or connection in plain text in the state file", () => {
    // The offline token and key values (the token script itself names the SWMTKN prefix).
    const text = fs.readFileSync(stateFile, "utf8");
    expect(text).not.toMatch(/SWMTKN-1-offline|PRIVATE KEY|b2ZmbGluZS1tb2Nr/);
    expect(text).toContain("ciphertext");
  });

  it("runs nothing on a second run with the same config: every resource unchanged", async () => {
    const again = await run();
    expect(changes(again.plan)).toEqual([]);
    expect(again.plan).toHaveLength(first.plan.length);
    expect(again.commandsRun).toBe(0);
    expect(again.outputs.nodeIds).toEqual(first.outputs.nodeIds);
  });

  it("updates only that pool's membership commands on a label change", async () => {
    const config = devConfig({
      workerPools: [
        { name: "infra", count: 1, labels: { type: "low-memory" } },
        { name: "app", count: 2, labels: { tier: "web" } },
      ],
    });
    const labelled = await run({}, config);
    expect(changes(labelled.plan)).toEqual(["update dev-member-app-0", "update dev-member-app-1"]);
    expect(labelled.commandsRun).toBe(2);
    await run();
  });

  it("previews a scale-down as five deletes and runs only the membership removal", async () => {
    const config = devConfig({
      workerPools: [
        { name: "infra", count: 1, labels: { type: "low-memory" } },
        { name: "app", count: 1 },
      ],
    });
    const preview = await run({ mode: "preview" }, config);
    expect(changes(preview.plan)).toEqual([
      "delete dev-app-1",
      "delete dev-authorize-app-1",
      "delete dev-join-app-1",
      "delete dev-member-app-1",
      "delete dev-ready-app-1",
    ]);
    expect(preview.commandsRun).toBe(0);
    const down = await run({}, config);
    expect(changes(down.plan)).toEqual(changes(preview.plan));
    expect(down.commandsRun).toBe(1);
    const up = await run();
    expect(changes(up.plan)).toEqual([
      "create dev-app-1",
      "create dev-authorize-app-1",
      "create dev-join-app-1",
      "create dev-member-app-1",
      "create dev-ready-app-1",
    ]);
  });

  it("replaces an instance targeted with --replace and every command tied to its id", async () => {
    const preview = await run({ mode: "preview", replace: ["app-0"] });
    expect(changes(preview.plan)).toEqual([
      "replace dev-app-0",
      "replace dev-authorize-app-0",
      "replace dev-join-app-0",
      "replace dev-member-app-0",
      "replace dev-ready-app-0",
    ]);
  });

  it("keeps a replaced manager's Elastic IP: the address moves to the new instance in place", async () => {
    const eipOf = (result: ProgramResult) => result.resources.find((r) => r.name === "dev-manager-0-eip")!;
    const preview = await run({ mode: "preview", replace: ["manager-0"] });
    expect(preview.plan.find((l) => l.name === "dev-manager-0-eip")?.op).toBe("update");
    expect(changes(preview.plan, "replace")).toContain("replace dev-manager-0");
    expect(changes(preview.plan, "replace")).not.toContain("replace dev-manager-0-eip");
    const before = eipOf(first).state.publicIp;
    const replaced = await run({ replace: ["manager-0"] });
    expect(eipOf(replaced).state.publicIp).toBe(before);
    expect(eipOf(replaced).inputs.instance).not.toBe(eipOf(first).inputs.instance);
    expect(replaced.outputs.managerPublicIps).toEqual([before]);
  });

  it("never changes an instance type: no step for the instances, a warning per node pointing to the procedure", async () => {
    const config = devConfig({
      workerPools: [
        { name: "infra", count: 1, labels: { type: "low-memory" } },
        { name: "app", count: 2, instanceType: "t3.large" },
      ],
    });
    const preview = await run({ mode: "preview" }, config);
    expect(changes(preview.plan)).toEqual([]);
    const warnings = preview.warnings.filter((w) => w.includes("the instance type is not changed by pulumi up"));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^warning: app-0 \(i-\w+\) runs t3\.small, the config says t3\.large: .*every node of the pool would stop at once.*"Changing an instance type"/,
    );
  });

  it("rotates the join tokens when swarm.tokenGeneration is raised: the rotation and both reads are replaced, nothing else", async () => {
    const rotated = await run({}, devConfig({ swarm: { tokenGeneration: 1 } }));
    expect(changes(rotated.plan, "replace")).toEqual([
      "replace dev-token-manager",
      "replace dev-token-rotation",
      "replace dev-token-worker",
    ]);
    // Offline the tokens read are the same text, so no join sees a new one; on real hosts the
    // joins update with the new tokens (test/cluster/engine.test.ts).
    expect(changes(rotated.plan)).toEqual(changes(rotated.plan, "replace"));
    await run();
  });

  it("rotates the SSH key without replacing an instance: only the key pair is replaced, each node's key step rolls it", async () => {
    const keyed = (n: number) =>
      devConfig({ sshPublicKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey${n}`, sshPrivateKey: `private-${n}` });
    await run({ secretKeys: ["sshPrivateKey"] }, keyed(1));
    const rotate = await run({ mode: "preview", secretKeys: ["sshPrivateKey"] }, keyed(2));
    expect(changes(rotate.plan, "replace")).toEqual(["replace dev-ssh"]);
    expect(changes(rotate.plan, "create")).toEqual([]);
    const updates = changes(rotate.plan, "update");
    for (const node of ["manager-0", "infra-0", "app-0", "app-1"]) {
      expect(updates).toContain(`update dev-authorize-${node}`);
    }
    expect(updates).not.toContain("update dev-manager-0");
  });

  it("warns about a pending create left by an interrupted run, keeps it, and creates the resource again", async () => {
    const state = loadState(stateFile, "dev");
    const urn = state.resources.find((r) => r.name === "dev-member-app-1")!.urn;
    state.resources = state.resources.filter((r) => r.urn !== urn);
    state.pending_operations = [
      { type: "creating", resource: { urn, type: "command:local:Command", name: "dev-member-app-1", inputs: {} } },
    ];
    saveState(stateFile, state);
    const next = await run(
      {},
      devConfig({ sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1", sshPrivateKey: "private-1" }),
    );
    expect(next.warnings.join("\n")).toContain(
      `Attempting to deploy or update resources with 1 pending operations from previous deployment.\n  * ${urn}, interrupted while creating`,
    );
    expect(changes(next.plan)).toEqual(["create dev-member-app-1"]);
    expect(loadState(stateFile, "dev").pending_operations).toHaveLength(1);
  });

  it("destroy revokes the admin SSH rule and removes the routes only after every step that dials a node", async () => {
    const plan = (await run({ mode: "destroy-preview" })).plan;
    const deletes = plan.filter((l) => l.op === "delete");
    const commands = deletes.filter((l) => l.type.startsWith("command:"));
    expect(commands.map((l) => l.name)).toEqual(expect.arrayContaining(["dev-stack-app-remove", "dev-member-app-0"]));
    // Instances depend on the rules and routes; every command depends on an instance.
    const lastCommandWave = Math.max(...commands.map((l) => l.wave!));
    const rules = deletes.filter((l) => l.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(rules.map((l) => l.name)).toContain("dev-ingress-ssh-0");
    rules.forEach((l) => expect(l.wave!).toBeGreaterThan(lastCommandWave));
    const routes = deletes.filter((l) => /RouteTableAssociation|ec2\/route:Route/.test(l.type));
    expect(routes.length).toBeGreaterThan(0);
    routes.forEach((l) => expect(l.wave!).toBeGreaterThan(lastCommandWave));
  });

  it("destroys everything and leaves an empty state", async () => {
    const before = loadState(stateFile, "dev").resources.length;
    const destroyed = await run({ mode: "destroy" });
    expect(destroyed.plan.every((l) => l.op === "delete")).toBe(true);
    // Node steps go with their instance, swarm-wide steps with the swarm (deletedWith): a destroy
    // dials no node, so a dead one can't block it.
    expect(destroyed.commandsRun).toBe(0);
    expect(destroyed.plan.length).toBe(before);
    expect(loadState(stateFile, "dev").resources).toEqual([]);
    expect(emptyState("dev").resources).toEqual([]);
  });
});

describe("the unlock key with autolock, offline", () => {
  it("is fetched by a command with additionalSecretOutputs and logging none, and stored only encrypted", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-autolock-"));
    const stateFile = path.join(dir, "dev.json");
    const result = await runProgram({ stack: "dev", config: devConfig({ swarm: { autolock: true } }), stateFile });
    expect(result.ok).toBe(true);
    const unlock = result.resources.find((r) => r.name === "dev-unlock-key")!;
    expect(unlock.options!.additionalSecretOutputs).toContain("stdout");
    expect(unlock.inputs.logging).toBe("none");
    const text = fs.readFileSync(stateFile, "utf8");
    expect(text).not.toContain("SWMKEY-1-offline");
    expect(loadState(stateFile, "dev").resources.find((r) => r.name === "dev-unlock-key")!.outputs.stdout.value).toBe(
      "SWMKEY-1-offline",
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("a secret stack variable, offline", () => {
  it("reaches the deploy step only inside secret inputs and is stored only encrypted", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-secret-var-"));
    const stateFile = path.join(dir, "dev.json");
    const value = "s3cret-db-password-7f3a";
    const config = devConfig({ stack: { name: "app", file: "stacks/app.yml", variables: { DB_PASSWORD: value } } });
    const deployName = "dev-stack-app-deploy";
    // `pulumi config set --path stack.variables.DB_PASSWORD … --secret` makes the key secret.
    const result = await runProgram({ stack: "dev", config, stateFile, secretKeys: ["stack"] });
    expect(result.ok).toBe(true);
    const deploy = result.resources.find((r) => r.name === deployName)!;
    // The script (which carries STACK_VARIABLES) and the variables' hash in the triggers.
    expect(deploy.inputs.stdin[SECRET_SIG]).toBeDefined();
    expect(deploy.inputs.triggers[SECRET_SIG]).toBeDefined();
    expect(fs.readFileSync(stateFile, "utf8")).not.toContain(value);
    const stored = loadState(stateFile, "dev").resources.find((r) => r.name === deployName)!;
    expect(JSON.stringify(stored.inputs)).toContain(`DB_PASSWORD=${value}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("oneAtATime: the matched steps run one at a time, the others stay parallel", () => {
  const span = (r: ProgramResult["resources"][number]) => [r.startedAt, r.finishedAt!];
  const overlapping = (rs: ProgramResult["resources"]) =>
    rs.some((a, i) => rs.some((b, j) => i !== j && span(a)[0] < span(b)[1] && span(b)[0] < span(a)[1]));
  const joinsOf = (result: ProgramResult) => result.resources.filter((r) => /^dev-join-/.test(r.name));

  it("forces the joins one at a time; the readies still overlap", async () => {
    const result = await runProgram({
      stack: "dev",
      config: devConfig(),
      commandDelayMs: 200,
      oneAtATime: "-join-",
    });
    if (!result.ok) throw new Error(result.error);
    const joins = joinsOf(result);
    expect(joins).toHaveLength(4);
    // Registered together (each waits its turn inside its step), run in turn.
    const ends = joins.map((j) => j.finishedAt!).sort((a, b) => a - b);
    for (let i = 1; i < ends.length; i++) expect(ends[i] - ends[i - 1]).toBeGreaterThanOrEqual(190);
    expect(overlapping(result.resources.filter((r) => /^dev-ready-/.test(r.name)))).toBe(true);
  });

  it("without it the worker joins overlap", async () => {
    const result = await runProgram({ stack: "dev", config: devConfig(), commandDelayMs: 200 });
    if (!result.ok) throw new Error(result.error);
    const workers = joinsOf(result).filter((j) => !j.name.includes("manager"));
    const ends = workers.map((j) => j.finishedAt!).sort((a, b) => a - b);
    expect(ends[ends.length - 1] - ends[0]).toBeLessThan(190);
  });
});
