/**
 * A small model of the Pulumi engine for one `pulumi up`, `preview` or `destroy`: each
 * registration gets a step from the old state (steps.ts), the provider (the mocks) runs only
 * what the step needs, the state is written after every step, and the deletes of removed and
 * replaced resources run at the end in reverse dependency order.
 */
import { Step, Registration, planStep, deleteWaves, runsProviderDelete, PlanLine } from "./steps";
import { emptyState, loadState, markSecretOutputs, saveState, StackState, StateResource } from "./state";

/** `destroy-preview` is `pulumi destroy --preview-only`: the deletes planned, nothing run. */
export type EngineMode = "up" | "preview" | "destroy" | "destroy-preview";

export interface ProviderResult {
  id?: string;
  outputs: Record<string, any>;
  machine?: string;
}

/** What the engine asks of the provider (the mocks): the real work of each step. */
export interface Provider {
  create(reg: Registration, inputs: Record<string, any>, previous?: StateResource): Promise<ProviderResult>;
  update(
    reg: Registration,
    inputs: Record<string, any>,
    old: StateResource,
    changed: string[],
  ): Promise<ProviderResult>;
  delete(old: StateResource): Promise<void>;
  /** Called after every completed step with the live resources (packet filters follow the security groups). */
  afterStep?(resources: StateResource[]): Promise<void>;
}

export interface EngineOptions {
  mode: EngineMode;
  stack: string;
  /** No file: a throwaway state (offline unit runs). */
  stateFile?: string;
  /** `--replace` targets, matched against URN or name. */
  replace?: (reg: Registration) => boolean;
  log?: (line: string) => void;
  /**
   * Steps of the resources this matches run one at a time (their provider calls; the others stay
   * parallel): `pulumi up --parallel 1` limited to them. The bench forces joins one at a time with
   * it to measure what running them in parallel gains.
   */
  oneAtATime?: (reg: Registration) => boolean;
}

export class Engine {
  public readonly plan: PlanLine[] = [];
  /** Set before the program runs (the mocks need the engine's machine bookkeeping first). */
  public provider!: Provider;
  private readonly state: StackState;
  /** Live resources by URN: old ones not (yet) registered this run, and the new ones. */
  private readonly live = new Map<string, StateResource>();
  /** Old copies of replaced resources, deleted at the end. */
  private readonly replacedOld: StateResource[] = [];
  private readonly registered = new Set<string>();
  private readonly log: (line: string) => void;
  /** The last step queued under `oneAtATime`: the next one starts when it ends. */
  private serialTail: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: EngineOptions) {
    this.state = options.stateFile ? loadState(options.stateFile, options.stack) : emptyState(options.stack);
    this.log = options.log ?? (() => {});
    for (const resource of this.state.resources) {
      if (resource.delete) this.replacedOld.push(resource);
      else this.live.set(resource.urn, resource);
    }
    this.warnPending();
  }

  get preview(): boolean {
    return this.options.mode === "preview" || this.options.mode === "destroy-preview";
  }

  get destroying(): boolean {
    return this.options.mode === "destroy" || this.options.mode === "destroy-preview";
  }

  /** Hosts held by live instances, and those retired (powered off). */
  machinesInUse(): string[] {
    return [...this.live.values(), ...this.replacedOld].map((r) => r.machine).filter((m): m is string => Boolean(m));
  }

  retiredMachines(): string[] {
    return this.state.retiredMachines;
  }

  resources(): StateResource[] {
    return [...this.live.values()];
  }

  private warnPending(): void {
    const pending = this.state.pending_operations;
    if (pending.length === 0) return;
    // Pulumi ≥3.31 (pulumi/pulumi#9293) warns and proceeds; pending creates stay in the state
    // until `pulumi refresh` clears them, and the resource itself is created again.
    this.log(
      `warning: Attempting to deploy or update resources with ${pending.length} pending operations from previous deployment.`,
    );
    for (const op of pending) this.log(`  * ${op.resource.urn}, interrupted while ${op.type}`);
    this.state.pending_operations = pending.filter((op) => op.type === "creating");
  }

  private save(): void {
    if (!this.options.stateFile || this.preview) return;
    this.state.resources = [...this.live.values(), ...this.replacedOld.map((r) => ({ ...r, delete: true }))];
    saveState(this.options.stateFile, this.state);
  }

  private async track<T>(reg: Registration, type: "creating" | "updating", work: () => Promise<T>): Promise<T> {
    const op = { resource: { urn: reg.urn, type: reg.type, name: reg.name, inputs: reg.inputs }, type };
    this.state.pending_operations.push(op);
    this.save();
    try {
      return await work();
    } finally {
      this.state.pending_operations = this.state.pending_operations.filter((o) => o !== op);
    }
  }

  /** RegisterResource: the step, its provider call, the new state entry; returns id and outputs. */
  async register(reg: Registration): Promise<{ id?: string; outputs: Record<string, any>; step: Step }> {
    if (this.registered.has(reg.urn)) {
      throw new Error(`Duplicate resource URN '${reg.urn}'; try giving it a unique name`);
    }
    this.registered.add(reg.urn);
    const old = this.live.get(reg.urn) ?? this.aliased(reg);
    const step = planStep(old, reg, Boolean(old && reg.custom && this.options.replace?.(reg)));
    this.plan.push({
      op: step.op,
      urn: reg.urn,
      type: reg.type,
      name: reg.name,
      changed: step.replaceBecause.length ? step.replaceBecause : step.changed,
    });
    if (old?.options.protect && step.op === "replace") {
      throw new Error(`unable to replace protected resource ${reg.urn}`);
    }
    const result = await this.performInTurn(step, reg, old);
    const outputs = markSecretOutputs(result.outputs, reg.options.additionalSecretOutputs);
    this.live.set(reg.urn, {
      ...reg,
      inputs: step.inputs,
      id: result.id,
      outputs,
      machine: result.machine,
    });
    this.save();
    if (!this.preview && step.op !== "same" && this.provider.afterStep) {
      await this.provider.afterStep(this.resources());
    }
    return { id: result.id, outputs, step };
  }

  /**
   * An old resource under one of the aliases becomes this one (renamed, re-typed or re-parented):
   * it is diffed against the new registration instead of being deleted at the end.
   */
  private aliased(reg: Registration): StateResource | undefined {
    const urn = (reg.aliases ?? []).find((alias) => this.live.has(alias) && !this.registered.has(alias));
    if (urn === undefined) return undefined;
    const old = this.live.get(urn)!;
    this.live.delete(urn);
    return old;
  }

  /** `perform`, after the previous `oneAtATime` step when this resource is one of them. */
  private performInTurn(step: Step, reg: Registration, old: StateResource | undefined): Promise<ProviderResult> {
    if (step.op === "same" || this.preview || !this.options.oneAtATime?.(reg)) {
      return this.perform(step, reg, old);
    }
    const turn = this.serialTail.then(() => this.perform(step, reg, old));
    this.serialTail = turn.catch(() => undefined);
    return turn;
  }

  private async perform(step: Step, reg: Registration, old: StateResource | undefined): Promise<ProviderResult> {
    if (step.op === "same") {
      return { id: old!.id, outputs: old!.outputs, machine: old!.machine };
    }
    if (this.preview) {
      // Preview: nothing runs; a new resource's computed outputs are unknown, an updated one
      // keeps the old ones (the provider's plan does not know they will change).
      return step.op === "update"
        ? { id: old!.id, outputs: { ...old!.outputs, ...step.inputs } }
        : { outputs: step.inputs };
    }
    if (step.op === "update") {
      return this.track(reg, "updating", () => this.provider.update(reg, step.inputs, old!, step.changed));
    }
    if (step.op === "replace" && reg.options.deleteBeforeReplace) {
      await this.deleteOne(old!, new Set([old!.urn]));
      this.live.delete(reg.urn);
    } else if (step.op === "replace") {
      this.replacedOld.push(old!);
    }
    return this.track(reg, "creating", () => this.provider.create(reg, step.inputs, old));
  }

  private async deleteOne(resource: StateResource, doomed: Set<string>): Promise<void> {
    if (resource.options.protect) {
      throw new Error(`unable to delete protected resource ${resource.urn}`);
    }
    if (runsProviderDelete(resource, doomed)) {
      await this.provider.delete(resource);
    }
    if (resource.machine) this.state.retiredMachines.push(resource.machine);
  }

  /**
   * After the program: removed resources (old, not registered) and old copies of replaced ones,
   * in reverse dependency order, each wave in parallel. `destroy` deletes everything.
   */
  async finish(): Promise<void> {
    const removed = [...this.live.values()].filter((r) => this.destroying || !this.registered.has(r.urn));
    const doomed = this.preview ? removed : [...removed, ...this.replacedOld];
    const waves = deleteWaves(doomed);
    waves.forEach((wave, index) => {
      for (const r of wave.filter((w) => removed.includes(w))) {
        this.plan.push({ op: "delete", urn: r.urn, type: r.type, name: r.name, changed: [], wave: index });
      }
    });
    if (this.preview) return;
    const doomedUrns = new Set(doomed.map((r) => r.urn));
    for (const wave of waves) {
      await Promise.all(
        wave.map(async (resource) => {
          await this.deleteOne(resource, doomedUrns);
          if (resource.delete || this.replacedOld.includes(resource)) {
            this.replacedOld.splice(this.replacedOld.indexOf(resource), 1);
          } else {
            this.live.delete(resource.urn);
          }
          this.save();
        }),
      );
      if (this.provider.afterStep) await this.provider.afterStep(this.resources());
    }
    this.save();
  }
}
