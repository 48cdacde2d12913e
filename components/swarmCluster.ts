import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodePlan } from "../lib/plan";
import { renderScript } from "../lib/scripts";
import {
  READY_TIMEOUT_SECONDS,
  RUN_SCRIPT,
  renderInit,
  renderJoin,
  renderMember,
} from "../lib/swarm";
import { SwarmSettings } from "../lib/types";

type Connection = command.types.input.remote.ConnectionArgs;

export interface SwarmNode {
  plan: NodePlan;
  instance: aws.ec2.Instance;
}

export interface SwarmClusterArgs {
  clusterName: string;
  /** Managers first: the first node initialises the swarm. */
  nodes: SwarmNode[];
  sshUser: string;
  /** Secret. */
  privateKey: pulumi.Input<string>;
  settings: SwarmSettings;
}

/**
 * A booting instance refuses SSH for a minute or two: retry the dial for ~5 minutes instead of
 * failing after the provider's default 10 attempts (~8 s).
 */
const DIAL_ERROR_LIMIT = 60;
const PER_DIAL_TIMEOUT_SECONDS = 10;

/**
 * Turns running instances into one swarm with remote commands: wait until each node is ready,
 * initialise on the first manager, fetch the join tokens as secrets, join the other managers one
 * at a time (raft safety) and all workers at once, then label every node from the first manager.
 * Each node's membership command removes the node cleanly (drain, demote, `node rm`) when the node
 * leaves the config or is replaced; it runs on the first manager, so a dead node can't block it.
 */
export class SwarmCluster extends pulumi.ComponentResource {
  public readonly swarmId: pulumi.Output<string>;
  public readonly managerConnection: pulumi.Output<Connection>;
  public readonly managerConnections: pulumi.Output<Connection>[];
  /** Every node joined and labelled: what a stack deployment waits for. */
  public readonly members: command.remote.Command[];
  /** Swarm node id per node key (`manager-0`, `app-1`, …). */
  public readonly nodeIds: pulumi.Output<Record<string, string>>;
  /** Secrets. */
  public readonly joinTokens: { worker: pulumi.Output<string>; manager: pulumi.Output<string> };
  /** Secret; set when autolock is on. */
  public readonly unlockKey?: pulumi.Output<string>;

  constructor(name: string, args: SwarmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:swarm:SwarmCluster", name, {}, opts);
    if (args.nodes.length === 0 || args.nodes[0].plan.role !== "manager") {
      throw new Error("SwarmCluster needs at least one node, the first of them a manager");
    }

    const connectionTo = (instance: aws.ec2.Instance): pulumi.Output<Connection> =>
      pulumi.output({
        host: instance.publicIp,
        user: args.sshUser,
        privateKey: args.privateKey,
        dialErrorLimit: DIAL_ERROR_LIMIT,
        perDialTimeout: PER_DIAL_TIMEOUT_SECONDS,
      });
    const first = args.nodes[0].instance;
    const managerConnection = connectionTo(first);
    const run = (
      role: string,
      connection: pulumi.Input<Connection>,
      stdin: pulumi.Input<string>,
      extra: Partial<command.remote.CommandArgs> & { triggers: pulumi.Input<any[]> },
      options: pulumi.CustomResourceOptions = {},
    ) =>
      new command.remote.Command(
        `${name}-${role}`,
        { connection, create: RUN_SCRIPT, stdin, addPreviousOutputInEnv: false, ...extra },
        { parent: this, ...options },
      );

    const ready = args.nodes.map(({ plan, instance }) =>
      run(
        `ready-${plan.key}`,
        connectionTo(instance),
        renderScript("wait-ready", { READY_TIMEOUT: String(READY_TIMEOUT_SECONDS) }),
        { triggers: [instance.id] },
        { customTimeouts: { create: "20m", update: "20m" } },
      ),
    );

    const init = run(
      "init",
      managerConnection,
      first.privateIp.apply((ip) => renderInit(args.clusterName, ip, args.settings)),
      { triggers: [first.id] },
      { dependsOn: ready },
    );
    this.swarmId = init.stdout;

    // Tokens never reach the log (logging: none) and stay secret in state and in outputs.
    const secretFromManager = (role: string, verb: string) =>
      pulumi.secret(
        run(
          role,
          managerConnection,
          renderScript("swarm-token"),
          { create: `${RUN_SCRIPT} ${verb}`, logging: "none", triggers: [init.stdout] },
          { dependsOn: [init], additionalSecretOutputs: ["stdout"] },
        ).stdout,
      );
    this.joinTokens = {
      worker: secretFromManager("token-worker", "worker"),
      manager: secretFromManager("token-manager", "manager"),
    };
    if (args.settings.autolock) {
      this.unlockKey = secretFromManager("unlock-key", "unlock-key");
    }

    let previousManager: pulumi.Resource = init;
    const joins = args.nodes.map(({ plan, instance }) => {
      const stdin = pulumi
        .all([this.joinTokens[plan.role], first.privateIp, instance.privateIp, init.stdout])
        .apply(([token, managerAddr, advertiseAddr, swarmId]) =>
          renderJoin({ role: plan.role, managerAddr, token, advertiseAddr, swarmId }),
        );
      // Managers join one at a time so the raft quorum only ever grows by one member.
      const join = run(`join-${plan.key}`, connectionTo(instance), stdin, { triggers: [instance.id] }, {
        dependsOn: plan.role === "manager" ? [previousManager] : [init],
      });
      if (plan.role === "manager") {
        previousManager = join;
      }
      return join;
    });

    this.members = args.nodes.map(({ plan }, index) => {
      const nodeId = joins[index].stdout;
      return run(
        `member-${plan.key}`,
        managerConnection,
        nodeId.apply((id) => renderMember(id, plan.labels)),
        {
          create: `${RUN_SCRIPT} apply`,
          delete: `${RUN_SCRIPT} remove`,
          // A new node id (a replaced instance) creates a new member and removes the old one;
          // a label change only re-runs `apply`.
          triggers: [nodeId],
        },
        { dependsOn: [joins[index]] },
      );
    });

    this.managerConnection = managerConnection;
    this.managerConnections = args.nodes
      .filter(({ plan }) => plan.role === "manager")
      .map(({ instance }) => connectionTo(instance));
    this.nodeIds = pulumi
      .all(joins.map((join) => join.stdout))
      .apply((ids) => Object.fromEntries(args.nodes.map(({ plan }, i) => [plan.key, ids[i]])));

    this.registerOutputs({
      swarmId: this.swarmId,
      nodeIds: this.nodeIds,
      joinTokens: this.joinTokens,
      unlockKey: this.unlockKey,
    });
  }
}
