/** The machine a bench run measured: cores, memory and the versions of what it ran. */
import { execFileSync } from "child_process";
import * as os from "os";
import { MachineFacts } from "./lib/results";

function version(command: string, args: string[], pattern: RegExp): string {
  try {
    const out = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return pattern.exec(out)?.[1] ?? out.split("\n")[0].trim();
  } catch (err) {
    // wrk -v prints its version and exits 1.
    const out = String((err as { stdout?: string }).stdout ?? "") + String((err as { stderr?: string }).stderr ?? "");
    return pattern.exec(out)?.[1] ?? "not found";
  }
}

export function machineFacts(): MachineFacts {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    memoryMb: Math.round(os.totalmem() / 1024 / 1024),
    kernel: os.release(),
    node: process.version,
    haproxy: version("haproxy", ["-v"], /HAProxy version (\S+)/),
    docker: version("docker", ["version", "--format", "{{.Client.Version}}"], /^(\S+)/),
    wrk: version("wrk", ["-v"], /wrk (\S+)/),
    python: version("python3", ["--version"], /Python (\S+)/),
  };
}
