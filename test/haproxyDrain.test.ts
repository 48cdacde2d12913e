import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { renderHaproxyConfig } from "../lib/haproxy";
import { freePort } from "./support/ports";
import { until } from "./support/until";

// The gateway behind the Network Load Balancer, in action on loopback: Debian's haproxy runs the
// `loadBalancer` mode of lib/haproxy.ts (grace shortened to GRACE_SECONDS) in front of the sample
// service from services/echo, and the test speaks to it the way the NLB does: a PROXY v2 header
// first, its destination port telling the TLS listener (443) from the TCP one (80). Sources other
// than 127.0.0.1 are 127.0.0.2, which counts as "not loopback" for the `src 127.0.0.1` rule.

const GRACE_SECONDS = 3;
const CLIENT = "203.0.113.7";
const NLB = "10.0.0.5";
const ECHO = path.join(__dirname, "..", "services", "echo", "server.py");

/** The binary PROXY v2 header for a TCP over IPv4 connection (proxy-protocol.txt, section 2.2). */
function proxyV2Header(src: string, srcPort: number, dst: string, dstPort: number): Buffer {
  const header = Buffer.alloc(28);
  Buffer.from("\r\n\r\n\0\r\nQUIT\n", "latin1").copy(header, 0);
  header[12] = 0x21; // version 2, command PROXY
  header[13] = 0x11; // AF_INET, STREAM
  header.writeUInt16BE(12, 14); // two addresses and two ports follow
  [...src.split("."), ...dst.split(".")].forEach((octet, i) => (header[16 + i] = Number(octet)));
  header.writeUInt16BE(srcPort, 24);
  header.writeUInt16BE(dstPort, 26);
  return header;
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One TCP connection to the gateway, as the NLB opens it (or a client without the NLB). */
class Flow {
  private data = "";
  private closedAt: number | undefined;
  private readonly changed: (() => void)[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.data += chunk;
      this.notify();
    });
    socket.on("close", () => {
      this.closedAt = Date.now();
      this.notify();
    });
    socket.on("error", () => undefined); // a reset shows as `close`
  }

  /** Connects from `from`; `nlbPort` (80, 443) sends a PROXY v2 header naming that listener first. */
  static open(port: number, from: string, nlbPort?: number): Promise<Flow> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port, localAddress: from }, () => {
        if (nlbPort !== undefined) socket.write(proxyV2Header(CLIENT, 40000, NLB, nlbPort));
        resolve(new Flow(socket));
      });
      socket.once("error", reject);
    });
  }

  /** Sends a keep-alive GET and waits for its whole response (every answer here has a length). */
  async get(urlPath: string, extraHeaders = ""): Promise<Response> {
    this.data = "";
    this.socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: app.example.test\r\n${extraHeaders}\r\n`);
    for (;;) {
      const response = parseResponse(this.data);
      if (response !== undefined) return response;
      if (this.closedAt !== undefined) throw new Error(`closed before a response (${JSON.stringify(this.data)})`);
      await this.next();
    }
  }

  /** Whether the gateway closes the connection within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.closedAt === undefined && Date.now() < deadline) {
      await Promise.race([this.next(), new Promise((r) => setTimeout(r, deadline - Date.now()))]);
    }
    return this.closedAt !== undefined;
  }

  close(): void {
    this.socket.destroy();
  }

  private next(): Promise<void> {
    return new Promise((resolve) => this.changed.push(resolve));
  }

  private notify(): void {
    this.changed.splice(0).forEach((resolve) => resolve());
  }
}

function parseResponse(raw: string): Response | undefined {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.slice(0, end).split("\r\n");
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]),
  );
  const body = raw.slice(end + 4);
  if (body.length < Number(headers["content-length"] ?? 0)) return undefined;
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}

/** One request on a connection of its own. */
async function once(port: number, urlPath: string, from: string, nlbPort?: number): Promise<Response> {
  const flow = await Flow.open(port, from, nlbPort);
  try {
    return await flow.get(urlPath);
  } finally {
    flow.close();
  }
}

describe("the gateway behind the load balancer (loopback: haproxy in loadBalancer mode + services/echo)", () => {
  let dir: string;
  let gatewayPort: number;
  let echo: ChildProcess;
  let haproxy: ChildProcess;

  beforeAll(async () => {
    const backendPort = await freePort();
    gatewayPort = await freePort();
    echo = spawn("python3", [ECHO], {
      env: { PATH: process.env.PATH, PORT: String(backendPort), BIND: "127.0.0.1", TASK_NAME: "echo.1" },
      stdio: "ignore",
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "haproxy-drain-"));
    const config = renderHaproxyConfig({
      stackName: "test",
      routes: [{ path: "/", service: "echo", port: backendPort }],
      listenPort: gatewayPort,
      statsPort: false,
      // An address, not a name: HAProxy uses it as it is and its resolvers never come into play.
      serviceHost: () => "127.0.0.1",
      loadBalancer: { graceSeconds: GRACE_SECONDS, redirectToHttps: true },
    }).replace(/^ {2}bind :(\d+)$/m, "  bind 127.0.0.1:$1");
    fs.writeFileSync(path.join(dir, "haproxy.cfg"), config);
    // As the container runs it: master-worker in the foreground.
    haproxy = spawn("haproxy", ["-W", "-db", "-f", path.join(dir, "haproxy.cfg")], { stdio: "ignore" });
    await until("the gateway serving through its backend", async () =>
      (await once(gatewayPort, "/x", "127.0.0.2", 443)).status === 200 ? true : undefined,
    );
  }, 30000);

  afterAll(() => {
    if (haproxy?.exitCode === null && haproxy.signalCode === null) haproxy.kill("SIGKILL");
    echo?.kill("SIGKILL");
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("through the TLS listener (destination port 443): proto https and the client's address, whatever the client claims", async () => {
    const flow = await Flow.open(gatewayPort, "127.0.0.2", 443);
    const reply = await flow.get("/x?y=1", "X-Forwarded-Proto: http\r\nX-Forwarded-For: 198.51.100.1\r\n");
    flow.close();
    expect(reply.status).toBe(200);
    expect(reply.body).toMatch(
      new RegExp(`^service=echo task=echo\\.1 .* path=/x forwarded-for=${CLIENT} proto=https\\n$`),
    );
  });

  test("through the TCP listener (destination port 80): 308 to https, except the health check", async () => {
    const reply = await once(gatewayPort, "/x?y=1", "127.0.0.2", 80);
    expect(reply).toMatchObject({ status: 308, headers: { location: "https://app.example.test/x?y=1" } });
    expect(await once(gatewayPort, "/healthz", "127.0.0.2", 80)).toMatchObject({ status: 200, body: "ok\n" });
  });

  test("without a PROXY header: refused from any source but loopback (the container's own healthcheck)", async () => {
    await expect(once(gatewayPort, "/healthz", "127.0.0.2")).rejects.toThrow(/closed before a response/);
    expect(await once(gatewayPort, "/healthz", "127.0.0.1")).toMatchObject({ status: 200, body: "ok\n" });
  });

  test("SIGUSR1: /healthz fails at once, everything else serves through the grace, keep-alive flows are closed, then the port refuses", async () => {
    // A flow the NLB opened before the stop, kept alive as usual.
    const kept = await Flow.open(gatewayPort, "127.0.0.2", 443);
    expect((await kept.get("/before")).headers.connection).toBeUndefined();
    expect(await kept.closesWithin(500)).toBe(false);

    const exited = new Promise<number>((resolve) => haproxy.on("exit", () => resolve(Date.now())));
    const signalled = Date.now();
    haproxy.kill("SIGUSR1");
    const at = () => Date.now() - signalled;
    // `ms`: when the probe pair was sent, relative to the signal.
    const seen: { ms: number; health: number; other: number; otherBody: string }[] = [];
    let keptReply: Response | undefined;
    let keptClosed = false;
    let refusedAt: number | undefined;
    while (refusedAt === undefined && at() < (GRACE_SECONDS + 5) * 1000) {
      const sent = at();
      try {
        const [health, other] = await Promise.all(
          ["/healthz", "/during"].map((p) => once(gatewayPort, p, "127.0.0.2", 443)),
        );
        seen.push({ ms: sent, health: health.status, other: other.status, otherBody: other.body });
        if (health.status === 503 && keptReply === undefined) {
          keptReply = await kept.get("/during");
          keptClosed = await kept.closesWithin(500);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ECONNREFUSED") throw error;
        refusedAt = at();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const exitedAt = (await exited) - signalled;

    const firstFailing = seen.find((s) => s.health === 503)?.ms;
    const lastServed = seen.filter((s) => s.other === 200).at(-1)?.ms;
    console.log(
      `drain (grace ${GRACE_SECONDS} s): /healthz 503 from ${firstFailing} ms, other paths 200 until ${lastServed} ms, ` +
        `port refused from ${refusedAt} ms, haproxy exited at ${exitedAt} ms; ${seen.length} probe pairs`,
    );
    // The check fails at once; nothing else fails before the port closes.
    expect(firstFailing).toBeLessThan(500);
    expect(seen.filter((s) => s.ms >= firstFailing! && s.health !== 503)).toEqual([]);
    // A request racing the unbind at the end of the grace can be accepted and then answered 503 by
    // the backend, which stops at the same moment ("no healthy task", seen in most runs); behind the NLB
    // none arrives by then. Everything sent before that serves.
    const racing = seen.filter((s) => s.ms >= GRACE_SECONDS * 1000 - 100 && s.other !== 200);
    if (racing.length > 0) console.log(`racing the unbind: ${JSON.stringify(racing)}`);
    expect(seen.filter((s) => s.ms < GRACE_SECONDS * 1000 - 100 && s.other !== 200)).toEqual([]);
    // Serving through the whole grace, refusing right after it.
    expect(lastServed).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000 - 500);
    expect(refusedAt).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000);
    expect(refusedAt).toBeLessThan(GRACE_SECONDS * 1000 + 1000);
    // The kept-alive flow got its answer, told to reconnect, and was closed.
    expect(keptReply).toMatchObject({ status: 200, headers: { connection: "close" } });
    expect(keptReply!.body).toMatch(/^service=echo .* path=\/during /);
    expect(keptClosed).toBe(true);
  }, 30000);
});
