import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderScript } from "../lib/scripts";
import { NodeInstance } from "./nodeGroup";
import { NodeLogin, NodeScriptOptions } from "./remoteCommand";

/**
 * Swarm-wide steps (init, tokens, labels, node removal, stack deploy) must not depend on one
 * particular manager being alive. Each is a local command that runs scripts/any-manager.sh where
 * `pulumi up` runs: it dials the managers in config order over SSH (5 s per attempt) and runs the
 * node script on the first one that can run it. See the README, "When a node dies".
 */

/** The managers a swarm-wide step may run on, and the login that reaches them. */
export interface ControlPlane {
  /** `public=private` address pairs of every configured manager, in config order. */
  managers: pulumi.Output<string>;
  login: NodeLogin;
}

/** The control plane of these managers (their Elastic IPs and private addresses). */
export function controlPlaneOf(managers: NodeInstance[], login: NodeLogin): ControlPlane {
  const pairs = managers.map((m) => pulumi.interpolate`${m.publicIp}=${m.instance.privateIp}`);
  return { managers: pulumi.all(pairs).apply((list) => list.join(" ")), login };
}

export interface ControlScriptArgs {
  /** The rendered node script, fed to the chosen manager's `sudo bash -s`. */
  script: pulumi.Input<string>;
  /** The script's action on create. @default none */
  verb?: string;
  /** The script's action on delete; skipped with a warning when no manager answers. @default none: nothing runs */
  deleteVerb?: string;
  /** The command is replaced, so runs again, when one of these changes. */
  triggers?: pulumi.Input<unknown[]>;
  /** stdout is a secret: never logged, secret in state. @default false */
  secret?: boolean;
  /** Hand the previous stdout to the script as PREVIOUS_STDOUT on a re-run. @default false */
  previousStdout?: boolean;
}

/** The wrapper is passed in the environment: `create` stays short in the provider's error messages. */
function invocation(verb: string | undefined, orSkip: boolean): string {
  const words = ['bash -c "$AWS_SWARM_ANY_MANAGER" any-manager', orSkip ? "--or-skip" : "", verb ?? ""];
  return words.filter(Boolean).join(" ");
}

/** What scripts/any-manager.sh needs: itself, the managers and the login (the key a secret). */
function controlEnvironment(plane: ControlPlane) {
  return {
    AWS_SWARM_ANY_MANAGER: renderScript("any-manager"),
    MANAGERS: plane.managers,
    SSH_USER: plane.login.user,
    SSH_PRIVATE_KEY: pulumi.secret(plane.login.privateKey),
  };
}

/**
 * A read-only swarm-wide check run on every `pulumi up` and preview: an invoke, not a resource,
 * so it keeps nothing in the state; when no manager answers it is skipped with a warning and
 * stdout is empty. Not secret: the caller passes only what a check may print.
 */
export function controlCheck(
  plane: ControlPlane,
  args: { script: string; verb: string },
  opts: pulumi.InvokeOutputOptions,
): pulumi.Output<string> {
  const run = command.local.runOutput(
    {
      command: invocation(args.verb, true),
      stdin: args.script,
      environment: controlEnvironment(plane),
      addPreviousOutputInEnv: false,
      logging: "none",
    },
    opts,
  );
  // The key in the environment makes the whole result secret; node-health.sh prints no secret.
  return pulumi.unsecret(run.stdout);
}

/** A swarm-wide step: runs a node script on the first manager that can run it. */
export function controlScript(
  name: string,
  plane: ControlPlane,
  args: ControlScriptArgs,
  opts: NodeScriptOptions,
): command.local.Command {
  const options: pulumi.CustomResourceOptions = {
    ...opts,
    // These steps were remote commands on the first manager before: the alias makes an existing
    // stack update them in place instead of deleting the old ones (whose delete removed nodes).
    aliases: [...(opts.aliases ?? []), { type: "command:remote:Command" }],
    additionalSecretOutputs: args.secret
      ? [...(opts.additionalSecretOutputs ?? []), "stdout"]
      : opts.additionalSecretOutputs,
  };
  return new command.local.Command(
    name,
    {
      create: invocation(args.verb, false),
      delete: args.deleteVerb === undefined ? undefined : invocation(args.deleteVerb, true),
      stdin: args.script,
      environment: controlEnvironment(plane),
      addPreviousOutputInEnv: args.previousStdout ?? false,
      triggers: args.triggers,
      logging: args.secret ? "none" : undefined,
    },
    options,
  );
}

/**
 * A node's first step: makes it trust the cluster's current SSH key (scripts/authorize-key.sh),
 * logging in with the key it trusted before when the key was rotated. Its stdout, a secret, is
 * that trusted key: the next rotation reads it back as PULUMI_COMMAND_STDOUT.
 */
export function authorizeKey(
  name: string,
  node: {
    instance: aws.ec2.Instance;
    publicIp: pulumi.Input<string>;
    login: NodeLogin;
    publicKey: pulumi.Input<string>;
  },
  opts: NodeScriptOptions,
): command.local.Command {
  return new command.local.Command(
    name,
    {
      create: 'bash -c "$AWS_SWARM_AUTHORIZE_KEY" authorize-key',
      environment: {
        AWS_SWARM_AUTHORIZE_KEY: renderScript("authorize-key"),
        HOST: node.publicIp,
        SSH_USER: node.login.user,
        SSH_PRIVATE_KEY: pulumi.secret(node.login.privateKey),
        SSH_PUBLIC_KEY: node.publicKey,
      },
      addPreviousOutputInEnv: true,
      logging: "none",
      triggers: [node.instance.id],
    },
    {
      ...opts,
      additionalSecretOutputs: ["stdout"],
      deletedWith: node.instance,
      // A booting instance refuses SSH for a minute or two (the script waits up to 10).
      customTimeouts: { create: "15m", update: "15m" },
    },
  );
}

/** The stdout of a swarm-wide step that prints a secret (a join token, the unlock key). */
export function secretControlStdout(
  name: string,
  plane: ControlPlane,
  args: ControlScriptArgs,
  opts: NodeScriptOptions,
): pulumi.Output<string> {
  return pulumi.secret(controlScript(name, plane, { ...args, secret: true }, opts).stdout);
}
