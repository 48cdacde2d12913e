import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderInit, renderJoin, renderMember, renderReady, renderToken, SwarmSecret } from "../lib/swarm";
import { SwarmSettings } from "../lib/types";
import { NodeInstance } from "./nodeGroup";
import { Connection, connectionTo, nodeScript, secretStdout } from "./remoteCommand";

export interface SwarmClusterArgs {
  clusterName: string;
  /** Managers first: the first node initialises the swarm. */
  nodes: NodeInstance[];
  sshUser: string;
  /** Secret. */
  privateKey: pulumi.Input<string>;
  settings: SwarmSettings;
}

/** A node with the connection its own commands use. */
interface Node extends NodeInstance {
  connection: pulumi.Output<Connection>;
}

interface Secrets {
  joinTokens: { worker: pulumi.Output<string>; manager: pulumi.Output<string> };
  unlockKey?: pulumi.Output<string>;
}

/**
 * Turns running instances into one swarm with remote commands, in the steps of the README's "How
 * the swarm is formed", one private method each: ready, init, tokens, joins, membership. Commands
 * that need the swarm's view (tokens, labels, removal) run on the first manager.
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
  public readonly joinTokens: Secrets["joinTokens"];
  /** Secret; set when autolock is on. */
  public readonly unlockKey?: pulumi.Output<string>;
  /** Every command is named `<prefix>-<step>[-<node key>]`, the prefix being the component's name. */
  private readonly prefix: string;

  constructor(name: string, args: SwarmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:swarm:SwarmCluster", name, {}, opts);
    if (args.nodes.length === 0 || args.nodes[0].plan.role !== "manager") {
      throw new Error("SwarmCluster needs at least one node, the first of them a manager");
    }
    this.prefix = name;
    const login = { user: args.sshUser, privateKey: args.privateKey };
    const nodes: Node[] = args.nodes.map((node) => ({ ...node, connection: connectionTo(node.instance, login) }));
    this.managerConnection = nodes[0].connection;
    this.managerConnections = nodes.filter(({ plan }) => plan.role === "manager").map(({ connection }) => connection);

    const ready = this.ready(nodes);
    const init = this.init(nodes[0], ready, args);
    const secrets = this.tokens(init, args.settings.autolock);
    this.joinTokens = secrets.joinTokens;
    this.unlockKey = secrets.unlockKey;
    const joins = this.joins(nodes, init, secrets.joinTokens);
    this.members = this.membership(nodes, joins);

    this.swarmId = init.stdout;
    this.nodeIds = pulumi
      .all(joins.map((join) => join.stdout))
      .apply((ids) => Object.fromEntries(nodes.map(({ plan }, i) => [plan.key, ids[i]])));
    this.registerOutputs({
      swarmId: this.swarmId,
      nodeIds: this.nodeIds,
      joinTokens: this.joinTokens,
      unlockKey: this.unlockKey,
    });
  }

  /** 1. ready: every node has booted and answers `docker info`. */
  private ready(nodes: Node[]): command.remote.Command[] {
    return nodes.map(({ plan, instance, connection }) =>
      nodeScript(
        `${this.prefix}-ready-${plan.key}`,
        { connection, script: renderReady(), triggers: [instance.id] },
        // Boot, the dial retries and wait-ready.sh's own bounded wait, with room to spare.
        { parent: this, customTimeouts: { create: "20m", update: "20m" } },
      ),
    );
  }

  /** 2. init: the first manager creates the swarm once every node is ready; stdout is its id. */
  private init(first: Node, ready: command.remote.Command[], args: SwarmClusterArgs): command.remote.Command {
    const script = first.instance.privateIp.apply((ip) => renderInit(args.clusterName, ip, args.settings));
    return nodeScript(
      `${this.prefix}-init`,
      { connection: first.connection, script, triggers: [first.instance.id] },
      { parent: this, dependsOn: ready },
    );
  }

  /** 3. tokens: the join tokens (and the unlock key) as secrets, read on the first manager. */
  private tokens(init: command.remote.Command, autolock: boolean): Secrets {
    const read = (name: string, verb: SwarmSecret) =>
      secretStdout(
        `${this.prefix}-${name}`,
        { connection: this.managerConnection, script: renderToken(), verb, triggers: [init.stdout] },
        { parent: this, dependsOn: [init] },
      );
    return {
      joinTokens: { worker: read("token-worker", "worker"), manager: read("token-manager", "manager") },
      unlockKey: autolock ? read("unlock-key", "unlock-key") : undefined,
    };
  }

  /**
   * 4. joins: the other managers one at a time, so the raft quorum only ever grows by one member,
   * and all workers at once. stdout is the node's swarm id.
   */
  private joins(nodes: Node[], init: command.remote.Command, tokens: Secrets["joinTokens"]): command.remote.Command[] {
    // Every manager, not only the first: a join must not depend on one particular manager.
    const managerAddrs = pulumi.all(nodes.filter((n) => n.plan.role === "manager").map((n) => n.instance.privateIp));
    let previousManager: pulumi.Resource = init;
    return nodes.map(({ plan, instance, connection }) => {
      const script = pulumi
        .all([tokens[plan.role], managerAddrs, instance.privateIp, init.stdout])
        .apply(([token, managerAddrs, advertiseAddr, swarmId]) =>
          renderJoin({ role: plan.role, managerAddrs, token, advertiseAddr, swarmId }),
        );
      const join = nodeScript(
        `${this.prefix}-join-${plan.key}`,
        { connection, script, triggers: [instance.id] },
        { parent: this, dependsOn: plan.role === "manager" ? [previousManager] : [init] },
      );
      if (plan.role === "manager") {
        previousManager = join;
      }
      return join;
    });
  }

  /**
   * 5. membership: from the first manager, label each node once it joined; deleting the command
   * drains, demotes and removes the node, so a node that is dead already can't block it.
   */
  private membership(nodes: Node[], joins: command.remote.Command[]): command.remote.Command[] {
    return nodes.map(({ plan }, index) => {
      const nodeId = joins[index].stdout;
      return nodeScript(
        `${this.prefix}-member-${plan.key}`,
        {
          connection: this.managerConnection,
          script: nodeId.apply((id) => renderMember(id, plan.labels)),
          verb: "apply",
          deleteVerb: "remove",
          // A new node id (a replaced instance) creates a new member and removes the old one;
          // a label change only re-runs `apply`.
          triggers: [nodeId],
        },
        { parent: this, dependsOn: [joins[index]] },
      );
    });
  }
}
