import * as fs from "fs";
import * as path from "path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { registryAuthEnv, registryOf } from "../lib/images";
import { renderScript } from "../lib/scripts";
import { GATEWAY_STACK } from "../lib/gatewayStack";
import { gatewayUrls, planStacks, StackPlan } from "../lib/stack";
import { ClusterConfig } from "../lib/types";
import { ControlPlane, controlScript } from "./controlCommand";
import { Connection, nodeScript, NodeScriptOptions } from "./remoteCommand";

/** A manager's instance and the connection to it. */
export interface ManagerNode {
  instance: pulumi.Resource;
  connection: pulumi.Input<Connection>;
}

export interface StackDeploymentArgs {
  /** The stacks are deployed (and removed) from any manager. */
  control: ControlPlane;
  /** The swarm (SwarmCluster.swarm): when it goes too (destroy), `docker stack rm` is skipped. */
  swarm: pulumi.Resource;
  /** What every command waits for: the nodes joined and labelled (SwarmCluster.members). @default [] */
  after?: pulumi.Resource[];
  /** Every manager, for the registry-auth timer on each. */
  managers: ManagerNode[];
  config: Pick<ClusterConfig, "stacks" | "gateway" | "swarm">;
  /** Directory the stacks' files are relative to. */
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
 * Deploys the gateway's own stack, then each configured stack in config order, with `docker
 * stack deploy` from any manager, each waiting until every service runs (scripts/deploy-stack.sh).
 * A stack deploys again exactly when its compose file (as attached to the gateway's network), a
 * file beside it (haproxy.cfg), an image it names or a variable changes (content hashes in
 * `triggers`); a stack removed from the config is removed with `docker stack rm`.
 */
export class StackDeployment extends pulumi.ComponentResource {
  /** `http://<ip>:<port>` per gateway node. */
  public readonly gatewayUrls: pulumi.Output<string[]>;
  /** deploy-stack.sh's JSON summary per stack, the gateway's first: services → running/desired. */
  public readonly deployStatus: pulumi.Output<string[]>;

  constructor(name: string, args: StackDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:stack:StackDeployment", name, {}, opts);
    const { stacks, gateway, swarm } = args.config;
    const composeFiles = Object.fromEntries(
      stacks.map((stack) => [stack.name, fs.readFileSync(path.resolve(args.projectRoot, stack.file), "utf8")]),
    );
    const plan = pulumi.output(args.imageVariables ?? {}).apply((imageVariables) =>
      planStacks({
        stacks,
        gateway,
        encryptOverlay: swarm.encryptOverlay,
        composeFiles,
        imageVariables,
        gatewaySlots: args.gatewaySlots,
        convergeTimeout: args.convergeTimeout,
      }),
    );

    // Every command waits for the formed swarm. A destroy skips every removal (`deletedWith` the
    // swarm): the swarm goes too.
    const after = args.after ?? [];
    const options = { parent: this, dependsOn: after, customTimeouts: TIMEOUTS, deletedWith: args.swarm };
    const registryAuth = this.registryAuth(name, args, options);
    // The gateway first: it creates the networks the routed services attach to.
    const gatewayDeploy = this.deploy(`${name}-gateway`, args.control, plan.gateway, {
      ...options,
      dependsOn: [...after, ...registryAuth],
    });
    const deploys = [gatewayDeploy];
    stacks.forEach((stack, i) => {
      const holder = this.holder(`${name}-stack-${stack.name}`, args.control, stack.name, options);
      const stackPlan = plan.stacks.apply((all) => all[i]);
      deploys.push(
        this.deploy(`${name}-stack-${stack.name}`, args.control, stackPlan, {
          ...options,
          // In config order: infra before the app that calls it.
          dependsOn: [holder, deploys[deploys.length - 1], ...registryAuth],
        }),
      );
    });
    this.gatewayUrls = pulumi.output(args.gatewayAddresses).apply((addresses) => gatewayUrls(addresses, gateway.port));
    this.deployStatus = pulumi.all(deploys.map((deploy) => deploy.stdout));
    this.registerOutputs({
      gatewayUrls: this.gatewayUrls,
      deployStatus: this.deployStatus,
    });
  }

  /**
   * One stack's deploy. Secret script: STACK_VARIABLES may hold values set with `pulumi config
   * set --secret`, which the config object hands over decrypted; so is a hash of them (a short
   * password could be guessed from it).
   */
  private deploy(
    name: string,
    control: ControlPlane,
    plan: pulumi.Output<StackPlan>,
    options: NodeScriptOptions,
  ): command.local.Command {
    return controlScript(
      `${name}-deploy`,
      control,
      {
        script: pulumi.secret(plan.apply((p) => renderScript("deploy-stack", p.env))),
        verb: "deploy",
        triggers: [
          plan.apply((p) => p.hashes.compose),
          plan.apply((p) => p.hashes.files),
          pulumi.secret(plan.apply((p) => p.hashes.variables)),
        ],
      },
      options,
    );
  }

  /**
   * Holds a stack's removal apart from its deploy command, so that replacing that one (new
   * triggers) never removes the running stack: deleted (the stack left the config, or was
   * renamed), it runs `docker stack rm`.
   */
  private holder(
    name: string,
    control: ControlPlane,
    stackName: string,
    options: NodeScriptOptions,
  ): command.local.Command {
    return controlScript(
      `${name}-remove`,
      control,
      { script: renderScript("deploy-stack", { STACK_NAME: stackName }), verb: "hold", deleteVerb: "remove" },
      options,
    );
  }

  /** With built images: the credential helper and its refresh timer on every manager. */
  private registryAuth(name: string, args: StackDeploymentArgs, options: NodeScriptOptions): command.remote.Command[] {
    if (args.registryUrl === undefined) {
      return [];
    }
    const script = pulumi
      .output(args.registryUrl)
      .apply((url) => renderScript("registry-auth", registryAuthEnv(registryOf(url), GATEWAY_STACK)));
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
