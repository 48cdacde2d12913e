import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { renderHaproxyConfig } from "../lib/haproxy";
import { GatewayAccessLog } from "../lib/types";
import { freePort } from "./support/ports";
import { until } from "./support/until";

// gateway.accessLog on Debian's haproxy, loopback only: the rendered config with one route whose
// only server is a closed port, so its requests answer 503, beside the gateway's own 200 /healthz
// and the 404 of an unknown path. HAProxy logs to stdout (`log stdout`), which the test reads.

function status(port: number, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: urlPath, agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      })
      .on("error", reject);
  });
}

/** The gateway's log lines for /healthz, /nowhere and /dead, in that order, one request each (after the probes that wait for them). */
async function logLinesOf(accessLog: GatewayAccessLog): Promise<{ statuses: number[]; lines: string[] }> {
  const [listenPort, deadPort] = [await freePort(), await freePort()];
  const config = renderHaproxyConfig({
    routes: [{ path: "/dead", service: "dead", port: deadPort }],
    stackName: "test",
    listenPort,
    statsPort: false,
    slots: 1,
    serviceHost: () => "127.0.0.1",
    accessLog,
  }).replace(/^ {2}bind :(\d+)$/m, "  bind 127.0.0.1:$1");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "haproxy-log-"));
  fs.writeFileSync(path.join(dir, "haproxy.cfg"), config);
  let out = "";
  const haproxy: ChildProcess = spawn("haproxy", ["-db", "-f", path.join(dir, "haproxy.cfg")]);
  haproxy.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  try {
    const answers = (urlPath: string, code: number) => () =>
      status(listenPort, urlPath).then((s) => (s === code ? true : undefined));
    await until("the gateway's /healthz", answers("/healthz", 200), 10);
    // The slot starts down (`init-addr none`) until DNS fills it; here it never does: 503 at once.
    await until("/dead answering 503", answers("/dead", 503), 15);
    // The measured requests carry a query the probes above don't, to tell their lines apart.
    const statuses = [
      await status(listenPort, "/healthz?measured"),
      await status(listenPort, "/nowhere?measured"),
      await status(listenPort, "/dead?measured"),
    ];
    // A request is logged when its stream ends; give the last one a moment to reach stdout.
    await new Promise((r) => setTimeout(r, 300));
    return { statuses, lines: out.split("\n").filter((l) => l.includes("?measured ")) };
  } finally {
    haproxy.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("gateway.accessLog on a real HAProxy (loopback)", () => {
  it('"errors" logs the 503 only, not the 200 and 404 answers', async () => {
    const { statuses, lines } = await logLinesOf("errors");
    expect(statuses).toEqual([200, 404, 503]);
    expect(lines).toEqual([expect.stringMatching(/ 503 .*"GET \/dead\?measured /)]);
  }, 40_000);

  it('"all" logs every request', async () => {
    const { statuses, lines } = await logLinesOf("all");
    expect(statuses).toEqual([200, 404, 503]);
    expect(lines).toEqual([
      expect.stringMatching(/ 200 .*"GET \/healthz\?measured /),
      expect.stringMatching(/ 404 .*"GET \/nowhere\?measured /),
      expect.stringMatching(/ 503 .*"GET \/dead\?measured /),
    ]);
  }, 40_000);
});
