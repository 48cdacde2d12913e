import * as fs from "fs";
import * as path from "path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { registryAuthEnv, registryOf } from "../lib/images";
import { renderScript } from "../lib/scripts";
import { gatewayUrls, planStack } from "../lib/stack";
import { ClusterConfig } from "../lib/types";
import { ControlPlane, controlScript } from "./controlCommand";
import { Connection, nodeScript, NodeScriptOptions } from "./remoteCommand";

/** A manager's instance and the connection to it. */
export interface ManagerNode {
  instance: pulumi.Resource;
  connection: pulumi.Input<Connection>;
}

export interface StackDeploymentArgs {
  /** The stack is deployed (and removed) from any manager. */
  control: ControlPlane;
  /** The swarm (SwarmCluster.swarm): when it goes too (destroy), `docker stack rm` is skipped. */
  swarm: pulumi.Resource;
  /** Every manager, for the registry-auth timer on each. */
  managers: ManagerNode[];
  config: Pick<ClusterConfig, "stack" | "gateway" | "swarm">;
  /** Directory `stack.file` is relative to. */
  projectRoot: string;
  /** `<NAME>_IMAGE` → `repo@sha256:…` from ImageRepositories. @default {} */
  imageVariables?: pulumi.Input<Record<string, string>>;
  /** Public IPs of the nodes that run the gateway. */
  gatewayAddresses: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * An ECR repository URL or registry host of the built images; when set, every manager gets the
   * credential helper and the 6-hourly registry-auth refresh. Leave unset without built images.
   */
  registryUrl?: pulumi.Input<string>;
  /** Server slots per gateway backend (≥ replicas + update surge). @default DEFAULT_SLOTS */
  gatewaySlots?: number;
  /** Seconds to wait for every service to run. @default DEFAULT_CONVERGE_TIMEOUT */
  convergeTimeout?: number;
}

/** Bounds of the stack's commands: a deploy alone may wait the converge timeout (600 s by default). */
const TIMEOUTS = { create: "30m", update: "30m", delete: "15m" };

/**
 * Deploys `stack.file` with `docker stack deploy` from any manager and waits until every
 * service runs (scripts/deploy-stack.sh). It deploys again exactly when the compose file, the
 * generated haproxy.cfg, an image or a variable changes (content hashes in `triggers`); removing
 * the component runs `docker stack rm`.
 */
export class StackDeployment extends pulumi.ComponentResource {
  /** `http://<ip>:<port>` per gateway node. */
  public readonly gatewayUrls: pulumi.Output<string[]>;
  /** deploy-stack.sh's JSON summary: services → running/desired. */
  public readonly deployStatus: pulumi.Output<string>;

  constructor(name: string, args: StackDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:stack:StackDeployment", name, {}, opts);
    const { stack, gateway, swarm } = args.config;
    const compose = fs.readFileSync(path.resolve(args.projectRoot, stack.file), "utf8");
    const plan = pulumi.output(args.imageVariables ?? {}).apply((imageVariables) =>
      planStack({
        stack,
        gateway,
        encryptOverlay: swarm.encryptOverlay,
        compose,
        imageVariables,
        gatewaySlots: args.gatewaySlots,
        convergeTimeout: args.convergeTimeout,
      }),
    );

    // Every command waits for what the component waits for: the formed swarm.
    const options = { parent: this, dependsOn: opts?.dependsOn, customTimeouts: TIMEOUTS };
    const registryAuth = this.registryAuth(name, args, options);
    // Holds the stack's removal apart from the deploy command, so that replacing that one (new
    // triggers) never removes the running stack. Its create records the stack's name; a renamed
    // stack updates it, and `adopt` removes the old stack before the new one is deployed (its
    // gateway needs the published port). A destroy skips the removal: the swarm goes too.
    const swarmWide = { ...options, deletedWith: args.swarm };
    const remove = controlScript(
      `${name}-remove`,
      args.control,
      {
        script: renderScript("deploy-stack", { STACK_NAME: stack.name }),
        verb: "adopt",
        deleteVerb: "remove",
        previousStdout: true,
      },
      swarmWide,
    );
    const deploy = controlScript(
      `${name}-deploy`,
      args.control,
      {
        // Secret: STACK_VARIABLES may hold values set with `pulumi config set --secret`, which
        // the config object hands over decrypted; so is a hash of them (a short password could
        // be guessed from it).
        script: pulumi.secret(plan.apply((p) => renderScript("deploy-stack", p.env))),
        verb: "deploy",
        triggers: [
          plan.apply((p) => p.hashes.compose),
          plan.apply((p) => p.hashes.haproxy),
          plan.apply((p) => p.hashes.images),
          pulumi.secret(plan.apply((p) => p.hashes.variables)),
        ],
      },
      { ...swarmWide, dependsOn: [remove, ...registryAuth] },
    );

    this.gatewayUrls = pulumi.output(args.gatewayAddresses).apply((addresses) => gatewayUrls(addresses, gateway.port));
    this.deployStatus = deploy.stdout;
    this.registerOutputs({
      gatewayUrls: this.gatewayUrls,
      deployStatus: this.deployStatus,
    });
  }

  /** With built images: the credential helper and its refresh timer on every manager. */
  private registryAuth(name: string, args: StackDeploymentArgs, options: NodeScriptOptions): command.remote.Command[] {
    if (args.registryUrl === undefined) {
      return [];
    }
    const script = pulumi
      .output(args.registryUrl)
      .apply((url) => renderScript("registry-auth", registryAuthEnv(registryOf(url), args.config.stack.name)));
    return args.managers.map(({ instance, connection }, index) =>
      nodeScript(
        `${name}-registry-auth-${index}`,
        { connection, script, verb: "install", deleteVerb: "remove" },
        // A manager that is deleted takes its timer with it: nothing to reach.
        { ...options, deletedWith: instance },
      ),
    );
  }
}
