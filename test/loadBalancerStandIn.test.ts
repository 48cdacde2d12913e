import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderStandIn, StandIn, StandInTargetGroup, standInProblems } from "./program/loadBalancerStandIn";
import { issueCertificate } from "./support/certificates";
import { webTargetGroup } from "./support/standIn";

// The NLB stand-in's configuration, rendered and checked by HAProxy itself; its behaviour with real
// traffic is in test/cluster/hosts.test.ts.

const group = (extra: Partial<StandInTargetGroup> = {}): StandInTargetGroup =>
  webTargetGroup({ targets: [{ ip: "10.0.1.11" }, { ip: "10.0.2.12", port: 7300 }], ...extra });

let dir: string;
let pem: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-standin-"));
  pem = issueCertificate(path.join(dir, "cert"), ["app.example.test"]).pemPath;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function haproxyCheck(config: string) {
  const file = path.join(dir, "haproxy.cfg");
  fs.writeFileSync(file, config);
  return spawnSync("haproxy", ["-c", "-f", file], { encoding: "utf8" });
}

describe("the load balancer stand-in's configuration", () => {
  const lb = (g = group()): StandIn => ({
    listeners: [
      { port: 80, protocol: "TCP", targetGroup: "web" },
      { port: 443, protocol: "TLS", targetGroup: "web", certificatePem: pem },
    ],
    targetGroups: [g],
  });

  it("is valid for HAProxy: a TCP and a TLS listener in front of a checked target group", () => {
    const r = haproxyCheck(renderStandIn(lb()));
    expect(r.stderr).not.toMatch(/ALERT/);
    expect(r.status).toBe(0);
  });

  it("carries the health check, thresholds, deregistration delay and fail-open backups", () => {
    const lines = renderStandIn(lb()).split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "  hard-stop-after 20s",
        `  bind :443 ssl crt ${pem} ssl-min-ver TLSv1.2`,
        "  timeout check 3s",
        "  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host web",
        "  default-server check inter 5s fastinter 2s rise 2 fall 3 on-marked-down shutdown-sessions",
        "  server 10.0.1.11:7200 10.0.1.11:7200",
        "  server 10.0.2.12:7300 10.0.2.12:7300",
        "  server open-10.0.1.11:7200 10.0.1.11:7200 backup no-check",
      ]),
    );
  });

  it("checks a target going down on the NLB's cadence: fastinter is the interval less the timeout, at least 1 s", () => {
    const fastinter = (intervalSeconds: number, timeoutSeconds: number) =>
      /fastinter (\d+)s/.exec(
        renderStandIn(lb(group({ healthCheck: { ...group().healthCheck, intervalSeconds, timeoutSeconds } }))),
      )?.[1];
    expect(fastinter(5, 3)).toBe("2");
    expect(fastinter(30, 10)).toBe("20");
    expect(fastinter(5, 5)).toBe("1");
  });

  it("lists every code of AWS's matcher ranges", () => {
    const matcher = { ...group().healthCheck, matcher: "200-202,204" };
    expect(renderStandIn(lb(group({ healthCheck: matcher })))).toContain(
      "http-check expect rstatus ^(200|201|202|204)$",
    );
  });

  it("sends a PROXY v2 header when the target group enables proxy protocol v2, and keeps connections when told", () => {
    const text = renderStandIn(
      lb(group({ proxyProtocolV2: true, preserveClientIp: true, terminateOnUnhealthy: false })),
    );
    expect(text).toContain(
      "  default-server check inter 5s fastinter 2s rise 2 fall 3 send-proxy-v2 check-send-proxy\n",
    );
    expect(haproxyCheck(text).status).toBe(0);
  });

  it("refuses what it can't model instead of behaving differently", () => {
    expect(
      standInProblems({
        listeners: [
          { port: 443, protocol: "TLS", targetGroup: "web" },
          { port: 80, protocol: "TCP", targetGroup: "api" },
        ],
        targetGroups: [group({ preserveClientIp: true })],
      }),
    ).toEqual([
      "TLS listener 443 has no certificate",
      "listener 80 forwards to an unknown target group api",
      "target group web preserves client addresses without proxy protocol: not modelled",
    ]);
    expect(() => renderStandIn({ listeners: [], targetGroups: [group({ preserveClientIp: true })] })).toThrow(
      /can't model this: target group web preserves client addresses/,
    );
  });
});
