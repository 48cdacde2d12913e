import {
  deleteWaves,
  planLineText,
  planStep,
  planSummary,
  Registration,
  runsProviderDelete,
} from "../program/engine/steps";
import { StateResource } from "../program/engine/state";

const options = { ignoreChanges: [], replaceOnChanges: [], additionalSecretOutputs: [] };

function reg(name: string, inputs: Record<string, any>, extra: Partial<Registration> = {}): Registration {
  return {
    urn: `urn:${name}`,
    type: "command:remote:Command",
    name,
    custom: true,
    inputs,
    dependencies: [],
    propertyDependencies: {},
    options,
    ...extra,
  };
}

function stored(name: string, deps: string[] = [], extra: Partial<StateResource> = {}): StateResource {
  return { ...reg(name, {}), id: name, outputs: {}, dependencies: deps.map((d) => `urn:${d}`), ...extra };
}

describe("planStep", () => {
  it("creates what the state lacks, keeps what did not change, updates and replaces by the diff", () => {
    const old = { ...stored("c"), inputs: { create: "x", triggers: [1] } };
    expect(planStep(undefined, reg("c", { create: "x" })).op).toBe("create");
    expect(planStep(old, reg("c", { create: "x", triggers: [1] })).op).toBe("same");
    expect(planStep(old, reg("c", { create: "y", triggers: [1] }))).toMatchObject({
      op: "update",
      changed: ["create"],
    });
    expect(planStep(old, reg("c", { create: "x", triggers: [2] }))).toMatchObject({
      op: "replace",
      replaceBecause: ["triggers"],
    });
  });

  it("replaces an unchanged resource targeted by --replace, and never diffs a component", () => {
    const old = { ...stored("c"), inputs: { create: "x" } };
    expect(planStep(old, reg("c", { create: "x" }), true)).toMatchObject({
      op: "replace",
      replaceBecause: ["--replace"],
    });
    expect(planStep({ ...old, custom: false }, reg("c", { create: "other" }, { custom: false })).op).toBe("same");
  });
});

describe("deletes", () => {
  it("go dependents first, independent ones together in one wave", () => {
    // instance ← ready ← join ← member, and an unrelated command.
    const waves = deleteWaves([
      stored("instance"),
      stored("ready", ["instance"]),
      stored("join", ["ready", "instance"]),
      stored("member", ["join"]),
      stored("other"),
    ]);
    expect(waves.map((w) => w.map((r) => r.name).sort())).toEqual([
      ["member", "other"],
      ["join"],
      ["ready"],
      ["instance"],
    ]);
  });

  it("treat a parent as a dependency: children go before their component", () => {
    const waves = deleteWaves([
      stored("component", [], { custom: false }),
      stored("child", [], { parent: "urn:component" }),
    ]);
    expect(waves.map((w) => w.map((r) => r.name))).toEqual([["child"], ["component"]]);
  });

  it("skip the provider for retainOnDelete, components, and a deletedWith target deleted in the same run", () => {
    const doomed = new Set(["urn:instance"]);
    expect(runsProviderDelete(stored("c"), doomed)).toBe(true);
    expect(runsProviderDelete(stored("c", [], { options: { ...options, retainOnDelete: true } }), doomed)).toBe(false);
    expect(runsProviderDelete(stored("c", [], { custom: false }), doomed)).toBe(false);
    expect(runsProviderDelete(stored("c", [], { options: { ...options, deletedWith: "urn:instance" } }), doomed)).toBe(
      false,
    );
    expect(
      runsProviderDelete(stored("c", [], { options: { ...options, deletedWith: "urn:instance" } }), new Set()),
    ).toBe(true);
  });
});

describe("the plan", () => {
  it("prints one line per change with its properties and the summary in Pulumi's order", () => {
    const lines = [
      { op: "update" as const, urn: "u1", type: "command:remote:Command", name: "m", changed: ["stdin"] },
      { op: "same" as const, urn: "u2", type: "t", name: "s", changed: [] },
      { op: "delete" as const, urn: "u3", type: "t", name: "d", changed: [] },
    ];
    expect(planLineText(lines[0])).toBe("~ update   command:remote:Command m [stdin]");
    expect(planLineText(lines[2])).toBe("- delete   t d");
    expect(planSummary(lines)).toBe("plan: 0 to create, 1 to update, 0 to replace, 1 to delete, 1 unchanged");
  });
});
