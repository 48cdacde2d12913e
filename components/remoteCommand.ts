import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/**
 * The one place that knows how the program reaches a node and runs a script there: every remote
 * command runs a rendered `scripts/*.sh` as root with `sudo bash -s [verb]`, the text on stdin, so
 * its parameters (join tokens included) never appear in a command line, a process list or the log.
 */

/** How a command reaches a node over SSH; it holds the private key, so it is a secret. */
export type Connection = command.types.input.remote.ConnectionArgs;

/** The SSH login every node accepts. */
export interface NodeLogin {
  user: string;
  /** Secret. */
  privateKey: pulumi.Input<string>;
}

/**
 * A node's own steps dial it after authorize-key.sh got in (within 5 minutes of boot), so the
 * dial only has to outlast a short hiccup: 20 attempts of at most 10 s, about 5 minutes with the
 * provider's backoff, instead of failing after its default 10 attempts (~8 s). The bound used to
 * be 60 attempts, ~14 minutes per command for a dead host.
 */
const DIAL_ERROR_LIMIT = 20;
const PER_DIAL_TIMEOUT_SECONDS = 10;

/** Root runs the script read from stdin; a verb, if any, picks the script's action. */
const RUN_SCRIPT = "sudo bash -s";

/** The connection to a node, on its public address (NodeInstance.publicIp). */
export function connectionTo(publicIp: pulumi.Input<string>, login: NodeLogin): pulumi.Output<Connection> {
  return pulumi.output({
    host: publicIp,
    user: login.user,
    privateKey: login.privateKey,
    dialErrorLimit: DIAL_ERROR_LIMIT,
    perDialTimeout: PER_DIAL_TIMEOUT_SECONDS,
  });
}

export interface NodeScriptArgs {
  connection: pulumi.Input<Connection>;
  /** The rendered script (lib/scripts.ts `renderScript`), fed on stdin. */
  script: pulumi.Input<string>;
  /** The script's action on create. @default none: `sudo bash -s` */
  verb?: string;
  /** The script's action on delete. @default none: deleting the command runs nothing */
  deleteVerb?: string;
  /** The command is replaced, so runs again, when one of these changes. */
  triggers?: pulumi.Input<unknown[]>;
}

/** Every command belongs to a component: its parent is part of its URN. */
export type NodeScriptOptions = pulumi.CustomResourceOptions & { parent: pulumi.Resource };

/** A remote command that runs a node script on create and, with a `deleteVerb`, on delete. */
export function nodeScript(name: string, args: NodeScriptArgs, opts: NodeScriptOptions): command.remote.Command {
  const run = (verb?: string) => (verb === undefined ? RUN_SCRIPT : `${RUN_SCRIPT} ${verb}`);
  return new command.remote.Command(
    name,
    {
      connection: args.connection,
      create: run(args.verb),
      delete: args.deleteVerb === undefined ? undefined : run(args.deleteVerb),
      stdin: args.script,
      // Otherwise the provider sends the previous stdout (a join token, say) to the node through
      // SSH Setenv, which Ubuntu's sshd refuses with a warning.
      addPreviousOutputInEnv: false,
      triggers: args.triggers,
    },
    opts,
  );
}
