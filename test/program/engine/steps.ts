/**
 * The engine's step decisions as pure functions: which step a registration gets against the old
 * state, and in which order the deletes at the end of a run go.
 */
import { diffInputs } from "./diffRules";
import { ResourceOptions, StateResource } from "./state";

export type StepOp = "same" | "create" | "update" | "replace";

export interface Registration {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  custom: boolean;
  inputs: Record<string, any>;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  options: ResourceOptions;
  /** URNs this resource had before (`aliases`): an old resource there is this one, not a delete. */
  aliases?: string[];
}

export interface Step {
  op: StepOp;
  /** Changed input names (for update/replace). */
  changed: string[];
  /** Why a replace: the paths that forced it, or "--replace". */
  replaceBecause: string[];
  /** Inputs after ignoreChanges. */
  inputs: Record<string, any>;
}

/**
 * same / create / update / replace, as the engine decides it: no old state → create; a targeted
 * `--replace` → replace; else the provider's diff (DIFF_RULES) with ignoreChanges/replaceOnChanges.
 * Components have no provider: they are created once and stay the same.
 */
export function planStep(old: StateResource | undefined, reg: Registration, forceReplace = false): Step {
  if (!old) {
    return { op: "create", changed: [], replaceBecause: [], inputs: reg.inputs };
  }
  if (!reg.custom) {
    return { op: "same", changed: [], replaceBecause: [], inputs: reg.inputs };
  }
  const diff = diffInputs(reg.type, old.inputs, reg.inputs, reg.options);
  if (forceReplace) {
    return { op: "replace", changed: diff.changed, replaceBecause: ["--replace"], inputs: diff.inputs };
  }
  if (diff.replaceBecause.length > 0) {
    return { op: "replace", changed: diff.changed, replaceBecause: diff.replaceBecause, inputs: diff.inputs };
  }
  return {
    op: diff.changed.length > 0 ? "update" : "same",
    changed: diff.changed,
    replaceBecause: [],
    inputs: diff.inputs,
  };
}

/** Everything a resource needs to outlive: its dependencies, property dependencies, parent. */
export function dependenciesOf(resource: StateResource): string[] {
  return [
    ...resource.dependencies,
    ...Object.values(resource.propertyDependencies).flat(),
    ...(resource.parent ? [resource.parent] : []),
  ];
}

/**
 * Deletes in reverse dependency order, as waves: every resource in a wave can be deleted in
 * parallel once the waves before it are done (nothing in a later wave depends on it).
 */
export function deleteWaves(doomed: StateResource[]): StateResource[][] {
  // By object, not URN: the old copy of a replaced resource may share its URN with another old copy.
  const remaining = new Set(doomed);
  const waves: StateResource[][] = [];
  while (remaining.size > 0) {
    const neededBy = new Set<string>();
    for (const resource of remaining) {
      for (const dep of dependenciesOf(resource)) {
        if (dep !== resource.urn) neededBy.add(dep);
      }
    }
    const wave = [...remaining].filter((r) => !neededBy.has(r.urn));
    if (wave.length === 0) {
      throw new Error(`dependency cycle among deletes: ${[...remaining].map((r) => r.urn).join(", ")}`);
    }
    wave.forEach((r) => remaining.delete(r));
    waves.push(wave);
  }
  return waves;
}

/**
 * Whether the provider's delete runs: not for components (nothing to delete), not with
 * retainOnDelete, and not when the `deletedWith` resource goes in the same run.
 */
export function runsProviderDelete(resource: StateResource, doomed: Set<string>): boolean {
  if (!resource.custom || resource.options.retainOnDelete) {
    return false;
  }
  return !(resource.options.deletedWith && doomed.has(resource.options.deletedWith));
}

export type PlanOp = StepOp | "delete";

export interface PlanLine {
  op: PlanOp;
  urn: string;
  type: string;
  name: string;
  changed: string[];
  /** Deletes: the wave (0 = first) in reverse dependency order; one wave runs in parallel. */
  wave?: number;
}

const SYMBOL: Record<Exclude<PlanOp, "same">, string> = {
  create: "+ create",
  update: "~ update",
  replace: "+- replace",
  delete: "- delete",
};

export function planLineText(line: PlanLine): string {
  if (line.op === "same") return "";
  const props = line.changed.length > 0 ? ` [${line.changed.join(", ")}]` : "";
  return `${SYMBOL[line.op].padEnd(10)} ${line.type} ${line.name}${props}`;
}

export function planSummary(lines: PlanLine[]): string {
  const count = (op: PlanOp) => lines.filter((l) => l.op === op).length;
  return (
    `plan: ${count("create")} to create, ${count("update")} to update, ${count("replace")} to replace, ` +
    `${count("delete")} to delete, ${count("same")} unchanged`
  );
}
