/** Network probes for harness tests: who reaches whom, and from which address. */
import * as net from "net";
import { HarnessInfo, sshExec } from "../harness/hosts";

/**
 * A shell command that starts, detached on a host, a TCP server on `port` answering every
 * connection with the address it came from (so a test sees NAT and source addresses).
 */
export function whoServer(port: number): string {
  const program = [
    "import socket",
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
    `s.bind(("0.0.0.0", ${port})); s.listen(64)`,
    "while True:",
    "    c, a = s.accept(); c.sendall((a[0] + '\\n').encode()); c.close()",
  ].join("\n");
  return `setsid -f /usr/bin/python3 -c "${program}" >/dev/null 2>&1 </dev/null`;
}

/**
 * Dials ip:port from a host: the first line the server sends (a whoServer's answer: the source
 * address it saw), "timeout" (dropped: no answer within 4 s) or "refused".
 */
export async function dialFrom(info: HarnessInfo, host: string, ip: string, port: number): Promise<string> {
  const r = await sshExec(info, host, `timeout 4 bash -c 'exec 3<>/dev/tcp/${ip}/${port} && head -1 <&3'; echo "exit=$?"`);
  const out = r.stdout.trim();
  const code = /exit=(\d+)$/.exec(out)?.[1];
  if (r.code !== 0 || code === undefined) {
    throw new Error(`dial from ${host} did not run (ssh exit ${r.code}): ${r.stderr}`);
  }
  return code === "0" ? out.split("\n")[0] : code === "124" ? "timeout" : "refused";
}

/** HTTP GET from a host: the body, "timeout" (curl exit 28) or `curl exit N`. */
export async function httpFrom(info: HarnessInfo, host: string, url: string): Promise<string> {
  const r = await sshExec(info, host, `curl -sS -m 4 ${url}; echo "exit=$?"`);
  const out = r.stdout.trim();
  const code = /exit=(\d+)$/.exec(out)?.[1];
  return code === "0" ? out.replace(/\n?exit=0$/, "").trim() : code === "28" ? "timeout" : `curl exit ${code}`;
}

/**
 * Dials ip:port from the runner (the root namespace): the first line the server sends, or
 * "timeout", "refused", "unreachable" (no host answers ARP: a stopped host).
 */
export function dialFromRunner(ip: string, port: number, timeoutMs = 4000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: ip, port });
    let data = "";
    const done = (value: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    socket.on("data", (chunk) => {
      data += chunk;
      if (data.includes("\n")) done(data.split("\n")[0].trim());
    });
    socket.on("end", () => done(data.trim()));
    socket.on("error", (e: NodeJS.ErrnoException) =>
      done(e.code === "ECONNREFUSED" ? "refused" : e.code === "EHOSTUNREACH" ? "unreachable" : String(e.code)),
    );
  });
}
