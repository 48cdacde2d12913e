import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { downNodes, DownNode, KnownNode, nodeDownWarning, parseNodeHealth } from "../lib/nodeHealth";
import { renderScript } from "../lib/scripts";
import { renderInit, renderJoin, renderMember, renderReady, renderToken, SwarmSecret } from "../lib/swarm";
import { SwarmSettings } from "../lib/types";
import {
  authorizeKey,
  controlCheck,
  ControlPlane,
  controlPlaneOf,
  controlScript,
  secretControlStdout,
} from "./controlCommand";
import { NodeInstance } from "./nodeGroup";
import { Connection, connectionTo, nodeScript, NodeLogin } from "./remoteCommand";

export interface SwarmClusterArgs {
  clusterName: string;
  /** Managers first. */
  nodes: NodeInstance[];
  sshUser: string;
  /** Secret. */
  privateKey: pulumi.Input<string>;
  /** The public half of `privateKey`, rolled onto running nodes when the key changes. */
  publicKey: pulumi.Input<string>;
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
 * Turns running instances into one swarm, in the steps of the README's "How the swarm is formed",
 * one private method each: ready, init, tokens, joins, membership. A node's own steps (ready,
 * join) are remote commands on that node, skipped when its instance is deleted in the same run.
 * Swarm-wide steps (init, tokens, labels, removal) run on whichever manager can run them
 * (components/controlCommand.ts), and their deletes are skipped when the swarm itself goes.
 */
export class SwarmCluster extends pulumi.ComponentResource {
  public readonly swarmId: pulumi.Output<string>;
  /** Where swarm-wide steps run: any manager. */
  public readonly control: ControlPlane;
  /** The step that created the swarm: swarm-wide deletes are `deletedWith` it. */
  public readonly swarm: pulumi.Resource;
  /** Every manager with the connection to it. */
  public readonly managers: (NodeInstance & { connection: pulumi.Output<Connection> })[];
  /** Every node joined and labelled: what a stack deployment waits for. */
  public readonly members: command.local.Command[];
  /** Swarm node id per node key (`manager-0`, `app-1`, …). */
  public readonly nodeIds: pulumi.Output<Record<string, string>>;
  /** Secrets. */
  public readonly joinTokens: Secrets["joinTokens"];
  /** Secret; set when autolock is on. */
  public readonly unlockKey?: pulumi.Output<string>;
  /** Nodes Down for longer than `swarm.reportDownAfter`, each also reported as a warning. */
  public readonly downNodes: pulumi.Output<DownNode[]>;
  /** Every command is named `<prefix>-<step>[-<node key>]`, the prefix being the component's name. */
  private readonly prefix: string;

  constructor(name: string, args: SwarmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:swarm:SwarmCluster", name, {}, opts);
    if (!args.nodes.some((node) => node.plan.role === "manager")) {
      throw new Error("SwarmCluster needs at least one manager");
    }
    this.prefix = name;
    const login = { user: args.sshUser, privateKey: args.privateKey };
    const nodes: Node[] = args.nodes.map((node) => ({ ...node, connection: connectionTo(node.publicIp, login) }));
    this.managers = nodes.filter(({ plan }) => plan.role === "manager");
    this.control = controlPlaneOf(this.managers, login);

    const ready = this.ready(nodes, login, args.publicKey, args.settings.encryptOverlay);
    const init = this.init(ready, args);
    this.swarm = init;
    const secrets = this.tokens(init, args.settings);
    this.joinTokens = secrets.joinTokens;
    this.unlockKey = secrets.unlockKey;
    const joins = this.joins(nodes, init, secrets.joinTokens);
    this.members = this.membership(nodes, joins, init);
    this.nodeIds = pulumi
      .all(joins.map((join) => join.stdout))
      .apply((ids) => Object.fromEntries(nodes.map(({ plan }, i) => [plan.key, ids[i]])));
    this.downNodes = this.health(nodes, args.settings.reportDownAfter);

    this.swarmId = init.stdout;
    this.registerOutputs({
      swarmId: this.swarmId,
      nodeIds: this.nodeIds,
      joinTokens: this.joinTokens,
      unlockKey: this.unlockKey,
      downNodes: this.downNodes,
    });
  }

  /**
   * 1. ready: every node trusts the current SSH key (a rotated key is rolled by a command, never
   * by replacing instances), has booted and answers `docker info`.
   */
  private ready(
    nodes: Node[],
    login: NodeLogin,
    publicKey: pulumi.Input<string>,
    encryptOverlay: boolean,
  ): command.remote.Command[] {
    return nodes.map(({ plan, instance, publicIp, connection }) => {
      const authorized = authorizeKey(
        `${this.prefix}-authorize-${plan.key}`,
        { instance, publicIp, login, publicKey },
        { parent: this },
      );
      return nodeScript(
        `${this.prefix}-ready-${plan.key}`,
        { connection, script: renderReady(encryptOverlay), triggers: [instance.id] },
        // Boot, the dial retries and wait-ready.sh's own bounded wait, with room to spare.
        {
          parent: this,
          dependsOn: [authorized],
          customTimeouts: { create: "20m", update: "20m" },
          deletedWith: instance,
        },
      );
    });
  }

  /**
   * 2. init: once every node is ready, the first manager that answers creates the swarm, once
   * ever; stdout is its id. On a re-run (the managers changed) the previous id tells swarm-init.sh
   * that the swarm exists: a manager outside it is skipped, never made to init a second swarm.
   */
  private init(ready: command.remote.Command[], args: SwarmClusterArgs): command.local.Command {
    return controlScript(
      `${this.prefix}-init`,
      this.control,
      { script: renderInit(args.clusterName, args.settings), previousStdout: true },
      { parent: this, dependsOn: ready },
    );
  }

  /**
   * 3. tokens: the join tokens (and the unlock key) as secrets, read on any manager. Raising
   * `swarm.tokenGeneration` replaces the rotation step, which rotates both tokens, and with it
   * the reads, which fetch the new ones.
   */
  private tokens(init: command.local.Command, settings: SwarmSettings): Secrets {
    const rotation = controlScript(
      `${this.prefix}-token-rotation`,
      this.control,
      { script: renderToken(settings.tokenGeneration), verb: "rotate", triggers: [settings.tokenGeneration] },
      { parent: this, dependsOn: [init], deletedWith: init },
    );
    const read = (name: string, verb: SwarmSecret) =>
      secretControlStdout(
        `${this.prefix}-${name}`,
        this.control,
        { script: renderToken(), verb, triggers: [init.stdout, rotation.stdout] },
        { parent: this, dependsOn: [rotation], deletedWith: init },
      );
    return {
      joinTokens: { worker: read("token-worker", "worker"), manager: read("token-manager", "manager") },
      unlockKey: settings.autolock ? read("unlock-key", "unlock-key") : undefined,
    };
  }

  /**
   * 4. joins: the other managers one at a time, so the raft quorum only ever grows by one member,
   * and all workers at once. stdout is the node's swarm id.
   */
  private joins(nodes: Node[], init: command.local.Command, tokens: Secrets["joinTokens"]): command.remote.Command[] {
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
        { parent: this, dependsOn: plan.role === "manager" ? [previousManager] : [init], deletedWith: instance },
      );
      if (plan.role === "manager") {
        previousManager = join;
      }
      return join;
    });
  }

  /**
   * 5. membership: from any manager, label each node once it joined; deleting the command drains,
   * demotes and removes the node (from another manager), so a replaced node leaves no Down entry.
   * When the whole swarm goes (destroy), the removals are skipped.
   */
  private membership(nodes: Node[], joins: command.remote.Command[], init: pulumi.Resource): command.local.Command[] {
    return nodes.map(({ plan, instance }, index) => {
      const nodeId = joins[index].stdout;
      // The instance type label says what the node runs, which may lag the config (lib/drift.ts).
      const labels = instance.instanceType.apply((type) => ({ ...plan.labels, "instance-type": type }));
      return controlScript(
        `${this.prefix}-member-${plan.key}`,
        this.control,
        {
          script: pulumi.all([nodeId, labels]).apply(([id, actual]) => renderMember(id, actual)),
          verb: "apply",
          deleteVerb: "remove",
          // A new node id (a replaced instance) creates a new member and removes the old one;
          // a label change only re-runs `apply`.
          triggers: [nodeId],
        },
        { parent: this, dependsOn: [joins[index]], deletedWith: init },
      );
    });
  }

  /**
   * 6. health: on every run, once every node is a member, the nodes Down for longer than
   * `swarm.reportDownAfter` are reported (lib/nodeHealth.ts), named by their node key.
   */
  private health(nodes: Node[], after: number): pulumi.Output<DownNode[]> {
    const stdout = controlCheck(
      this.control,
      { script: renderScript("node-health"), verb: "down" },
      { parent: this, dependsOn: this.members },
    );
    // Swarm node id → the node key and instance the warning names.
    const known = pulumi
      .all([this.nodeIds, pulumi.all(nodes.map(({ instance }) => instance.id))])
      .apply(([ids, instanceIds]) =>
        Object.fromEntries(
          nodes.map(({ plan }, i): [string, KnownNode] => [
            ids[plan.key],
            { nodeKey: plan.key, instanceId: instanceIds[i] },
          ]),
        ),
      );
    return pulumi.all([stdout, known]).apply(([text, byId]) => {
      const health = parseNodeHealth(text);
      if (health === undefined) {
        pulumi.log.warn("node health unknown: no manager could run node-health.sh (README, When a node dies)", this);
        return [];
      }
      const down = downNodes(health, after, byId);
      down.forEach((node) => pulumi.log.warn(nodeDownWarning(node), this));
      return down;
    });
  }
}
