/** The contract between a test (or the cluster CLI) and one run of the program under mocks. */

export interface HarnessTarget {
  /** The harness id (`HARNESS_ID`) whose hosts stand for the instances. */
  id: number;
}

export type RunMode = "up" | "preview" | "destroy" | "destroy-preview";

export interface ProgramJob {
  stack: string;
  /** `aws-swarm:*` keys without the prefix; non-strings are passed as JSON like the CLI does. */
  config: Record<string, unknown>;
  secretKeys?: string[];
  /** Absent: offline, every provider answer is made up. Present: node commands run for real. */
  harness?: HarnessTarget;
  /** Offline only: how long a mocked remote command takes, to make concurrency observable. */
  commandDelayMs?: number;
  /** `pulumi up` (default), `pulumi preview`, `pulumi destroy` or `pulumi destroy --preview-only`. */
  mode?: RunMode;
  /** The stack's state file; absent: a fresh, throwaway state (every resource is created). */
  stateFile?: string;
  /** `--replace` targets: URNs, resource names or node keys (`app-0` → that node's instance). */
  replace?: string[];
  /**
   * A regular expression over resource names: the steps of the resources it matches run one at a
   * time (EngineOptions.oneAtATime), e.g. `-join-` for the joins. Harness-only, for the bench.
   */
  oneAtATime?: string;
}

export interface RecordedResource {
  urn?: string;
  type: string;
  name: string;
  custom?: boolean;
  /** The engine's step: same, create, update or replace. */
  step?: string;
  dependencies?: string[];
  /** Resource options as registered (deleteBeforeReplace, additionalSecretOutputs, …). */
  options?: import("./engine/state").ResourceOptions;
  /** Inputs as the provider receives them; secrets keep their envelope. */
  inputs: Record<string, any>;
  state: Record<string, any>;
  startedAt: number;
  finishedAt?: number;
  error?: string;
}

export interface ProgramResult {
  ok: boolean;
  error?: string;
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
  secretOutputs: string[];
  durationMs: number;
  /** One line per resource, in step order (deletes last). */
  plan: import("./engine/steps").PlanLine[];
  /** Remote commands that ran (create, update and delete scripts). */
  commandsRun: number;
  /** Checks (`command:local:run` invokes) that ran: they run on every up and preview. */
  checksRun: number;
  /** Node key → harness host, from the state after the run. */
  nodeHosts: Record<string, string>;
  /** Warnings printed: the engine's (pending operations) and the program's (pulumi.log.warn). */
  warnings: string[];
}

export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Strips Pulumi's secret envelopes, recursively. */
export function unwrapSecrets(value: any): any {
  if (Array.isArray(value)) {
    return value.map(unwrapSecrets);
  }
  if (value && typeof value === "object") {
    if (value[SECRET_SIG] !== undefined) {
      return unwrapSecrets(value.value);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

export function isSecretValue(value: any): boolean {
  return Boolean(value && typeof value === "object" && value[SECRET_SIG] !== undefined);
}
