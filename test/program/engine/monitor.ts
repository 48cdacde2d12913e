/**
 * Pulumi's MockMonitor with the engine in front: RegisterResource reads everything the SDK sends
 * (URN parts, dependencies, options — the mock's `newResource` sees none of it), records it, and
 * lets the Engine decide the step instead of calling the mocks on every run.
 */
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties, serializeProperties } from "@pulumi/pulumi/runtime/rpc";
import { setMockOptions } from "@pulumi/pulumi/runtime/settings";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import { Engine } from "./engine";
import { ResourceOptions } from "./state";
import { Registration } from "./steps";
import { RecordedResource } from "../types";

function optionsOf(req: any): ResourceOptions {
  const timeouts = req.getCustomtimeouts();
  return {
    deleteBeforeReplace: req.getDeletebeforereplace() || undefined,
    deletedWith: req.getDeletedwith() || undefined,
    ignoreChanges: req.getIgnorechangesList(),
    replaceOnChanges: req.getReplaceonchangesList(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    customTimeouts: timeouts
      ? {
          create: timeouts.getCreate() || undefined,
          update: timeouts.getUpdate() || undefined,
          delete: timeouts.getDelete() || undefined,
        }
      : undefined,
    retainOnDelete: req.getRetainondelete() || undefined,
    protect: req.getProtect() || undefined,
    provider: req.getProvider() || undefined,
  };
}

export class EngineMonitor extends MockMonitor {
  public readonly recorded: RecordedResource[] = [];
  private readonly started = Date.now();

  /** Invokes (getAmi, getAvailabilityZones, …) still go to the mocks' `call`. */
  constructor(
    private readonly engine: Engine,
    call: (args: any) => any,
  ) {
    super({
      newResource: () => {
        throw new Error("the engine monitor registers resources itself");
      },
      call,
    });
  }

  /** The SDK sends alias specs (MockMonitor supports "aliasSpecs"); unset parts are this resource's own. */
  private aliasUrns(req: any): string[] {
    return req.getAliasesList().map((alias: any) => {
      if (alias.hasUrn()) return alias.getUrn();
      const spec = alias.getSpec();
      const parent = spec.getNoparent() ? "" : spec.getParenturn() || req.getParent();
      return (this as any).newUrn(parent, spec.getType() || req.getType(), spec.getName() || req.getName());
    });
  }

  readRegistration(req: any): Registration {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
      propertyDependencies[key] = deps.getUrnsList();
    });
    return {
      aliases: this.aliasUrns(req),
      urn: (this as any).newUrn(req.getParent(), req.getType(), req.getName()),
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent() || undefined,
      custom: req.getCustom(),
      inputs: deserializeProperties(req.getObject()),
      dependencies: req.getDependenciesList(),
      propertyDependencies,
      options: optionsOf(req),
    };
  }

  async registerResource(req: any, callback: (err: any, response?: any) => void): Promise<void> {
    const reg = this.readRegistration(req);
    const record: RecordedResource = {
      urn: reg.urn,
      type: reg.type,
      name: reg.name,
      custom: reg.custom,
      inputs: reg.inputs,
      dependencies: reg.dependencies,
      options: reg.options,
      state: {},
      startedAt: Date.now() - this.started,
    };
    this.recorded.push(record);
    try {
      const { id, outputs, step } = await this.engine.register(reg);
      record.step = step.op;
      record.state = outputs;
      const serialized = await serializeProperties("", outputs);
      (this as any).resources.set(reg.urn, { urn: reg.urn, id: id ?? null, state: serialized });
      const response = new resproto.RegisterResourceResponse();
      response.setUrn(reg.urn);
      response.setId(id ?? "");
      response.setObject(structproto.Struct.fromJavaScript(serialized));
      callback(null, response);
    } catch (err) {
      record.error = (err as Error).message;
      callback(err);
    } finally {
      record.finishedAt = Date.now() - this.started;
    }
  }
}

/** setMocks with this monitor: the same runtime switches Pulumi's setMocks sets. */
export function installMonitor(monitor: EngineMonitor, project: string, stack: string, preview: boolean): void {
  setMockOptions(monitor, project, stack, preview);
  // state.d.ts does not declare getStore; it is what setMocks itself uses.
  const store = require("@pulumi/pulumi/runtime/state").getStore();
  store.supportsSecrets = true;
  store.supportsResourceReferences = true;
  store.supportsOutputValues = false;
  store.supportsDeletedWith = true;
  store.supportsAliasSpecs = true;
  store.supportsTransforms = false;
}
