/**
 * A local swarm from any stack config and compose file, built by the real program with only AWS
 * mocked: `npm run cluster:up -- --config Pulumi.dev.yaml [--stack stacks/app.yml] [--id 5]`,
 * then `npm run cluster:down -- [--id 5]`. Linux and root only (network namespaces, dockerd).
 */
import * as path from "path";
import { downHosts, upHosts } from "./hosts";
import { nodeKeysOf, readHosts, readStackConfig, upOnHarness } from "../program/harnessRun";

const DEFAULT_ID = 5;

function argument(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  return index >= 0 ? args[index + 1] : undefined;
}

async function up(args: string[]) {
  const configFile = argument(args, "--config") ?? "Pulumi.dev.yaml";
  const id = Number(argument(args, "--id") ?? DEFAULT_ID);
  const config = readStackConfig(configFile);
  const stackFile = argument(args, "--stack");
  if (stackFile) {
    config.stack = { ...(config.stack ?? {}), file: path.resolve(stackFile) };
  }
  const stack = path.basename(configFile).replace(/^Pulumi\.(.*)\.yaml$/, "$1") || "local";
  const keys = nodeKeysOf(config);
  console.error(`starting ${keys.length} hosts (harness ${id}) for ${keys.join(", ")} …`);
  await upHosts(keys.length, id, { outliveProcess: true });
  const hosts = readHosts(id);
  const run = await upOnHarness(id, stack, config, {}, (line) => console.error(line));
  const outputs = run.result.outputs;
  console.log(`swarm ${outputs.swarmId} is up in ${(run.result.durationMs / 1000).toFixed(0)} s`);
  for (const url of (outputs.gatewayUrls as string[] | undefined) ?? []) {
    console.log(`gateway: ${url}`);
  }
  for (const [key, hostName] of Object.entries(run.nodeHosts)) {
    const host = hosts.hosts.find((h) => h.name === hostName)!;
    console.log(
      `${key.padEnd(14)} DOCKER_HOST=ssh://${hosts.sshUser}@${host.ip}   (ssh -i ${hosts.privateKeyPath} ${hosts.sshUser}@${host.ip})`,
    );
  }
  console.log(`remove it with: npm run cluster:down -- --id ${id}`);
}

async function main() {
  const [verb, ...args] = process.argv.slice(2);
  if (process.getuid?.() !== 0 || process.platform !== "linux") {
    throw new Error("the local cluster needs Linux and root (network namespaces, one dockerd per host)");
  }
  if (verb === "up") {
    await up(args);
  } else if (verb === "down") {
    await downHosts(Number(argument(args, "--id") ?? DEFAULT_ID));
  } else {
    throw new Error(
      "usage: cli.ts up --config <Pulumi.<stack>.yaml> [--stack <compose file>] [--id N] | down [--id N]",
    );
  }
}

main().catch((err) => {
  console.error(`cluster: ${(err as Error).message}`);
  process.exit(1);
});
