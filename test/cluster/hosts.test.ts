// The test-host harness itself: three real hosts with a private and a public (NAT) address, a swarm
// formed by hand over SSH, dnsrr service discovery and HTTP across hosts over an overlay network, a
// host-mode port, registry pulls, security groups as packet filters, machines on demand and faults,
// and a teardown that leaves nothing behind. Linux + root only (see test/harness/README.md).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import {
  addHost,
  applyFirewall,
  applyFirewalls,
  applyLoadBalancer,
  defaultHarnessId,
  dockerHost,
  downHosts,
  ensureBaseImage,
  fault,
  findHost,
  FirewallRule,
  HarnessInfo,
  powerOff,
  powerOn,
  readHarnessInfo,
  removeHost,
  removeLoadBalancer,
  sshExec,
  stateDir,
  upHosts,
} from "../harness/hosts";
import { renderStandIn, StandIn } from "../program/loadBalancerStandIn";
import { issueCertificate } from "../support/certificates";
import { webTargetGroup } from "../support/standIn";
import { dialFrom, dialFromRunner, httpFrom, whoServer } from "../support/probes";

const ID = defaultHarnessId();
let info: HarnessInfo;
let base: string;
/** The probe service's overlay address per node (set by the swarm test). */
const probeTaskIp: Record<string, string> = {};

async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    console.log(`[harness ${ID}] ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** Runs a command on a host and fails the test with its stderr if it exits non-zero. */
async function on(host: string, command: string, stdin?: string): Promise<string> {
  const r = await sshExec(info, host, command, stdin);
  if (r.code !== 0) {
    throw new Error(`${host}: '${command}' exited ${r.code}: ${r.stderr}`);
  }
  return r.stdout.trim();
}

async function poll<T>(what: string, seconds: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) {
        return v;
      }
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${seconds} s waiting for ${what}: ${last ?? "no result"}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A dial's result, or undefined (poll again) while the server is not listening yet. */
const listening = (dialed: string) => (dialed === "refused" ? undefined : dialed);
const privateIp = (host: string) => findHost(info, host).privateIp;
const publicIp = (host: string) => findHost(info, host).publicIp;

beforeAll(async () => {
  delete process.env.HARNESS_PRIVATE_SSH; // this suite checks the default: SSH to private addresses refused
  info = await phase("up 3 hosts", () => upHosts(3, ID));
  base = await phase("base image", () => ensureBaseImage(ID));
});

afterAll(async () => {
  await downHosts(ID); // a no-op when the last test already tore down
});

test("hosts have distinct hostnames and docker daemons, and the ready marker", async () => {
  const seen = await Promise.all(
    ["h1", "h2", "h3"].map((h) =>
      on(h, "hostname; docker info -f '{{.ID}} {{.Name}}'; test -f /var/lib/aws-swarm/ready && echo ready"),
    ),
  );
  const rows = seen.map((s) => s.split("\n"));
  expect(rows.map((r) => r[0])).toEqual(["h1", "h2", "h3"]);
  expect(new Set(rows.map((r) => r[1].split(" ")[0])).size).toBe(3);
  expect(rows.map((r) => r[1].split(" ")[1])).toEqual(["h1", "h2", "h3"]);
  expect(rows.every((r) => r[2] === "ready")).toBe(true);
});

test("hosts run the userland of HARNESS_HOST_RELEASE: Debian trixie by default, the machine's with 'machine'", async () => {
  const wanted = process.env.HARNESS_HOST_RELEASE || "trixie";
  const codename = (osRelease: string) => /^VERSION_CODENAME=(.*)$/m.exec(osRelease)?.[1];
  const expected = wanted === "machine" ? codename(fs.readFileSync("/etc/os-release", "utf8")) : wanted;
  // /etc/os-release links to /usr/lib/os-release: the release of the /usr the host's dockerd and sshd come from.
  const seen = await Promise.all(["h1", "h2", "h3"].map((h) => on(h, "cat /etc/os-release")));
  expect(seen.map(codename)).toEqual([expected, expected, expected]);
});

test("files a host writes are not visible on another host", async () => {
  const token = `probe-${process.pid}-${Date.now()}`;
  await on(
    "h1",
    `echo ${token} > /var/lib/aws-swarm/${token}; echo ${token} > /tmp/${token}; mkdir -p /etc/docker && echo ${token} > /etc/docker/${token}`,
  );
  expect(await on("h1", `cat /tmp/${token}`)).toBe(token);
  const other = await sshExec(info, "h2", `ls /var/lib/aws-swarm/${token} /tmp/${token} /etc/docker/${token}`);
  expect(other.code).not.toBe(0);
  expect(fs.existsSync(`/tmp/${token}`)).toBe(false); // nor on the machine itself
});

test("a script piped to 'sudo bash -s' runs on that host", async () => {
  expect(await on("h2", "sudo bash -s", "set -e\nhostname\nid -u\n")).toBe("h2\n0");
});

test("a host has its private address on its interface and its public one only through NAT", async () => {
  expect(publicIp("h1")).toMatch(new RegExp(`^198\\.18\\.${ID}\\.`));
  const addresses = (await on("h1", "ip -4 -o addr show | awk '{print $2, $4}'")).split("\n");
  expect(addresses).toContain(`eth0 ${privateIp("h1")}/24`);
  expect(addresses.filter((a) => a.includes(publicIp("h1")))).toEqual([]);
  await Promise.all(["h1", "h2"].map((h) => on(h, whoServer(7100))));
  // The runner (sshExec too) dials public addresses and arrives as runnerIp.
  expect(await poll("who on h1", 10, async () => listening(await dialFromRunner(publicIp("h1"), 7100)))).toBe(
    info.runnerIp,
  );
  // Another host's public address: through the NAT, so the source is the sender's public address.
  expect(await dialFrom(info, "h2", publicIp("h1"), 7100)).toBe(publicIp("h2"));
  expect(await dialFrom(info, "h2", privateIp("h1"), 7100)).toBe(privateIp("h2"));
  // The registry (ECR's stand-in) stays reachable from hosts.
  expect(await on("h2", `curl -fsS -m 5 http://${info.registry}/v2/`)).toBe("{}");
});

test("the runner cannot SSH a host's private address, only its public one", async () => {
  expect(await dialFromRunner(privateIp("h1"), 22)).toBe("refused");
  expect(await dialFromRunner(publicIp("h1"), 22)).toMatch(/^SSH-2\.0-/);
});

test("a swarm over SSH: dnsrr service, tasks.<svc> DNS and HTTP across hosts, host-mode port, registry pull", async () => {
  await phase("swarm init + join", async () => {
    await on("h1", `docker swarm init --advertise-addr ${privateIp("h1")}`);
    const token = await on("h1", "docker swarm join-token -q worker");
    await Promise.all(["h2", "h3"].map((h) => on(h, `docker swarm join --token ${token} ${privateIp("h1")}:2377`)));
    const nodes = await poll("3 Ready nodes", 60, async () => {
      const out = await on("h1", "docker node ls --format '{{.Hostname}} {{.Status}}'");
      return out.split("\n").filter((l) => l.endsWith("Ready")).length === 3 ? out : undefined;
    });
    expect(
      nodes
        .split("\n")
        .map((l) => l.split(" ")[0])
        .sort(),
    ).toEqual(["h1", "h2", "h3"]);
  });

  // h1 has never pulled anything: the image must come from the harness registry.
  expect((await sshExec(info, "h1", `docker image inspect ${base}`)).code).not.toBe(0);
  const pulled = await phase("pull base image on h1", () => on("h1", `docker pull ${base}`));
  expect(pulled).toContain(`Downloaded newer image for ${base}`);

  const tasks = await phase("dnsrr service converged", async () => {
    await on("h1", "docker node update --label-add web=yes h2 && docker node update --label-add web=yes h3");
    await on("h1", "docker network create -d overlay --attachable probe-net");
    // Each task answers with the node it runs on, which proves where a response came from.
    await on(
      "h1",
      `docker service create -d --name probe --network probe-net --endpoint-mode dnsrr --replicas 2 ` +
        `--constraint node.labels.web==yes --hostname '{{.Node.Hostname}}' ` +
        `--publish mode=host,target=8000,published=8080 ${base} ` +
        `sh -c 'mkdir -p /srv && hostname > /srv/index.html && cd /srv && exec python3 -m http.server 8000'`,
    );
    return poll("2 running probe tasks", 120, async () => {
      const out = await on(
        "h1",
        "docker service ps probe --filter desired-state=running --format '{{.ID}} {{.Node}} {{.CurrentState}}'",
      );
      const rows = out.split("\n").map((l) => l.split(" "));
      return rows.length === 2 && rows.every((r) => r[2] === "Running") ? rows : undefined;
    });
  });
  expect(tasks.map((r) => r[1]).sort()).toEqual(["h2", "h3"]); // placed by label, never on h1

  const taskIps = await Promise.all(
    tasks.map((r) =>
      on("h1", `docker inspect -f '{{range .NetworksAttachments}}{{range .Addresses}}{{.}} {{end}}{{end}}' ${r[0]}`),
    ),
  );
  const expected = taskIps.map((s) => s.split(" ")[0].split("/")[0]).sort();
  tasks.forEach((r, i) => (probeTaskIp[r[1]] = taskIps[i].split(" ")[0].split("/")[0]));

  await phase("tasks.<svc> DNS and HTTP from h1 over the overlay", async () => {
    const out = await poll("tasks.probe to list both tasks", 30, async () => {
      const o = await on(
        "h1",
        `docker run --rm --network probe-net ${base} sh -c ` +
          `'getent ahostsv4 tasks.probe | cut -d" " -f1 | sort -u; for i in $(getent ahostsv4 tasks.probe | cut -d" " -f1 | sort -u); do curl -fsS -m 5 http://$i:8000/; done'`,
      );
      return o.split("\n").length === 4 ? o : undefined;
    });
    const lines = out.split("\n");
    expect(lines.slice(0, 2)).toEqual(expected);
    expect(lines.slice(2).sort()).toEqual(["h2", "h3"]);
  });

  await phase("host-mode port from the runner, on the public address", async () => {
    for (const h of ["h2", "h3"]) {
      const url = `http://${publicIp(h)}:8080/`;
      const body = await poll(`HTTP on ${url}`, 30, async () => (await fetch(url)).text());
      expect(body.trim()).toBe(h);
    }
  });
});

test("security groups: default drop, by source and port, stateful, host-mode ports and VXLAN filtered too", async () => {
  const swarmPorts = (cidr: string): FirewallRule[] => [
    { protocol: "tcp", fromPort: 2377, toPort: 2377, sources: [cidr] },
    { protocol: "tcp", fromPort: 7946, toPort: 7946, sources: [cidr] },
    { protocol: "udp", fromPort: 7946, toPort: 7946, sources: [cidr] },
  ];
  const rules: FirewallRule[] = [
    { protocol: "tcp", fromPort: 22, toPort: 22, sources: [`${info.runnerIp}/32`] },
    { protocol: "tcp", fromPort: 7000, toPort: 7000, sources: [`${privateIp("h1")}/32`] },
    { protocol: "tcp", fromPort: 8080, toPort: 8080, sources: [`${privateIp("h3")}/32`] },
    ...swarmPorts(`10.21${ID}.0.0/24`),
  ];
  await Promise.all([on("h2", whoServer(7000)), on("h2", whoServer(7001)), on("h1", whoServer(7000))]);
  expect(
    await poll("who on h2:7001", 10, async () => listening(await dialFrom(info, "h1", privateIp("h2"), 7001))),
  ).toBe(privateIp("h1"));
  const overlay = `docker run --rm --network probe-net ${base} curl -sS -m 5 -o /dev/null -w '%{http_code}' http://${probeTaskIp.h2}:8000/`;

  await applyFirewall(ID, "h2", rules);
  expect(await dialFrom(info, "h1", privateIp("h2"), 7000)).toBe(privateIp("h1")); // allowed
  expect(await dialFrom(info, "h1", privateIp("h2"), 7001)).toBe("timeout"); // port not in a rule
  expect(await dialFrom(info, "h3", privateIp("h2"), 7000)).toBe("timeout"); // source not in the rule
  expect(await dialFrom(info, "h1", publicIp("h2"), 7000)).toBe("timeout"); // h1 via NAT: its public address
  expect(await dialFrom(info, "h2", privateIp("h1"), 7000)).toBe(privateIp("h2")); // replies to h2's own dial
  expect(await on("h2", `curl -fsS -m 5 http://${info.registry}/v2/`)).toBe("{}");
  // The host-mode port is DNATed to a container (FORWARD, not INPUT): filtered all the same.
  expect(await httpFrom(info, "h3", `http://${privateIp("h2")}:8080/`)).toBe("h2");
  expect(await httpFrom(info, "h1", `http://${privateIp("h2")}:8080/`)).toBe("timeout");
  expect(await dialFromRunner(publicIp("h2"), 8080)).toBe("timeout");
  // VXLAN from h1 to h2's task needs udp 4789 from h1.
  expect((await sshExec(info, "h1", overlay)).stdout).not.toBe("200");
  await applyFirewall(ID, "h2", [
    ...rules,
    { protocol: "udp", fromPort: 4789, toPort: 4789, sources: [`${privateIp("h1")}/32`] },
  ]);
  expect(
    await poll("overlay HTTP h1 -> h2", 20, async () => ((await on("h1", overlay)) === "200" ? "200" : undefined)),
  ).toBe("200");

  // A rule by protocol number (ESP, which an encrypted overlay needs) becomes a filter rule.
  await applyFirewall(ID, "h2", [
    ...rules,
    { protocol: "50", fromPort: -1, toPort: -1, sources: [`10.21${ID}.0.0/24`] },
  ]);
  expect(execFileSync("ip", ["netns", "exec", `asw${ID}-h2`, "iptables-save", "-t", "mangle"]).toString()).toMatch(
    new RegExp(`-s 10\\.21${ID}\\.0\\.0/24 -p esp -j RETURN`),
  );
  // Invalid rules are refused and the filter in force stays as it was.
  await expect(applyFirewall(ID, "h2", [{ protocol: "tcp", fromPort: 1, toPort: 1, sources: ["h1"] }])).rejects.toThrow(
    /bad source/,
  );
  expect(await dialFrom(info, "h1", privateIp("h2"), 7001)).toBe("timeout");
  // Several hosts in one call (firewall-many): all are checked first, so an unknown host changes nothing.
  const allowAll: FirewallRule[] = [{ protocol: "-1", fromPort: 0, toPort: 0, sources: ["0.0.0.0/0"] }];
  await expect(applyFirewalls(ID, { h2: allowAll, h99: [] })).rejects.toThrow(/no host h99/);
  expect(await dialFrom(info, "h1", privateIp("h2"), 7001)).toBe("timeout");
  await applyFirewalls(ID, { h2: allowAll });
  expect(await dialFrom(info, "h1", privateIp("h2"), 7001)).toBe(privateIp("h1"));
});

/** A web server on a host: `/` answers "<hostname> <client address>", `/healthz` 503 while /tmp/unhealthy exists. */
const WEB_SERVER = [
  "import os, socket, sys",
  "from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer",
  "class H(BaseHTTPRequestHandler):",
  "    def do_GET(self):",
  "        sick = self.path == '/healthz' and os.path.exists('/tmp/unhealthy')",
  "        body = ('%s %s' % (socket.gethostname(), self.client_address[0])).encode()",
  "        self.send_response(503 if sick else 200)",
  "        self.send_header('Content-Length', str(len(body)))",
  "        self.end_headers()",
  "        self.wfile.write(body)",
  "    def log_message(self, *args):",
  "        pass",
  "ThreadingHTTPServer(('', int(sys.argv[1])), H).serve_forever()",
].join("\n");

/** One request on a connection of its own (the stand-in balances connections): the body, or the error. */
function fetchOnce(options: https.RequestOptions, tls = false): Promise<string> {
  return new Promise((resolve) => {
    const request = (tls ? https : http).get({ ...options, agent: false, timeout: 3000 }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve(res.statusCode === 200 ? body : `status ${res.statusCode}`));
    });
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", (e) => resolve(`error ${e.message}`));
  });
}

test("the load balancer stand-in: balances over healthy targets, terminates TLS, drops a failing target within its thresholds, fails open, sends nothing new to a deregistered one", async () => {
  await Promise.all(
    ["h1", "h2"].map((h) =>
      on(h, "cat > /tmp/web.py && setsid -f python3 /tmp/web.py 7200 >/dev/null 2>&1 </dev/null", WEB_SERVER),
    ),
  );
  const cert = issueCertificate(`${stateDir(ID)}/certs`, ["app.example.test"]);
  const check = { interval: 1, timeout: 1, fall: 2 };
  const standIn = (targets: string[]): StandIn => ({
    listeners: [
      { port: 80, protocol: "TCP", targetGroup: "web" },
      { port: 443, protocol: "TLS", targetGroup: "web", certificatePem: cert.pemPath },
    ],
    targetGroups: [
      webTargetGroup({
        deregistrationDelaySeconds: 5,
        healthCheck: {
          ...webTargetGroup().healthCheck,
          intervalSeconds: check.interval,
          timeoutSeconds: check.timeout,
          unhealthyThreshold: check.fall,
        },
        targets: targets.map((h) => ({ ip: privateIp(h) })),
      }),
    ],
  });
  const lb = await phase("load balancer stand-in up", () =>
    applyLoadBalancer(ID, renderStandIn(standIn(["h1", "h2"]))),
  );
  expect(lb.publicIp).toMatch(new RegExp(`^198\\.18\\.${ID}\\.`));
  expect(readHarnessInfo(ID)!.loadBalancer).toEqual(lb);
  const served = async (n: number) => {
    const bodies = await Promise.all(Array.from({ length: n }, () => fetchOnce({ host: lb.publicIp, port: 80 })));
    return bodies;
  };
  const hostsIn = (bodies: string[]) => [...new Set(bodies.map((b) => b.split(" ")[0]))].sort();

  const both = await poll("both targets healthy", 20, async () => {
    const bodies = await served(8);
    return hostsIn(bodies).join() === "h1,h2" ? bodies : undefined;
  });
  // Without proxy protocol, targets see the load balancer's own address.
  expect(new Set(both.map((b) => b.split(" ")[1]))).toEqual(new Set([lb.privateIp]));
  const overTls = await fetchOnce(
    { host: lb.publicIp, port: 443, servername: "app.example.test", ca: cert.caPem },
    true,
  );
  expect(overTls).toMatch(/^h[12] /);

  // A target failing its health check gets no new connection after `fall` checks.
  await on("h1", "touch /tmp/unhealthy");
  const failed = Date.now();
  await poll("h1 taken out", 20, async () => ((await served(6)).every((b) => b.startsWith("h2 ")) ? true : undefined));
  const window = (Date.now() - failed) / 1000;
  console.log(
    `[harness ${ID}] stand-in: a failing target got new connections for ${window.toFixed(1)} s (check every ${check.interval} s, out after ${check.fall})`,
  );
  expect(window).toBeLessThan(check.fall * check.interval + check.timeout + 3);

  // Every target failing: the load balancer fails open and uses all of them.
  await on("h2", "touch /tmp/unhealthy");
  await new Promise((r) => setTimeout(r, (check.fall * check.interval + check.timeout + 1) * 1000));
  expect(hostsIn(await served(8))).toEqual(["h1", "h2"]);

  // Deregistered (a reload without it): no new connection goes to h2.
  await Promise.all(["h1", "h2"].map((h) => on(h, "rm -f /tmp/unhealthy")));
  await applyLoadBalancer(ID, renderStandIn(standIn(["h1"])));
  expect(
    await poll("only h1", 20, async () => ((await served(6)).every((b) => b.startsWith("h1 ")) ? true : undefined)),
  ).toBe(true);

  await removeLoadBalancer(ID);
  expect(readHarnessInfo(ID)!.loadBalancer).toBeUndefined();
  expect(await fetchOnce({ host: lb.publicIp, port: 80 })).toMatch(/^error /);
});

/** pids whose cgroup is a host's (containers included). */
function processesOf(host: string): string {
  return execFileSync("bash", ["-c", `grep -l '/asw${ID}-${host}/' /proc/[0-9]*/cgroup 2>/dev/null || true`])
    .toString()
    .trim();
}

function refresh(): void {
  info = readHarnessInfo(ID)!;
}

test("addHost starts one more host on the running harness: next name and addresses, same key", async () => {
  const h4 = await phase("add h4", () => addHost(ID));
  refresh();
  expect(h4).toMatchObject({ name: "h4", privateIp: `10.21${ID}.0.14`, state: "running", partitioned: false });
  expect(info.hosts.filter((h) => h.publicIp === h4.publicIp)).toHaveLength(1);
  expect(await on("h4", "hostname; test -f /var/lib/aws-swarm/ready && echo ready; docker images -q | wc -l")).toBe(
    "h4\nready\n0",
  );
});

test("poweroff ends every process and the link of a host; poweron boots it on the same disk, with a new public address on request", async () => {
  await on(
    "h4",
    `docker pull -q ${base} >/dev/null && docker run -d --name keeper --restart always ${base} sleep infinity`,
  );
  await on("h4", "echo kept > /var/lib/aws-swarm/disk-probe && echo gone > /tmp/tmp-probe");
  const before = findHost(info, "h4");

  await phase("poweroff h4", () => powerOff(ID, "h4"));
  refresh();
  expect(findHost(info, "h4").state).toBe("stopped");
  expect(processesOf("h4")).toBe("");
  expect(execFileSync("ip", ["netns", "list"]).toString()).not.toMatch(new RegExp(`\\basw${ID}-h4\\b`));
  expect(await dialFromRunner(before.publicIp, 22)).toMatch(/^(timeout|unreachable)$/);

  const after = await phase("poweron h4 --new-public-ip", () => powerOn(ID, "h4", { newPublicIp: true }));
  refresh();
  expect(after).toMatchObject({ state: "running", privateIp: before.privateIp });
  expect(after.publicIp).not.toBe(before.publicIp);
  expect(await dialFromRunner(before.publicIp, 22)).toMatch(/^(timeout|unreachable)$/);
  expect(await on("h4", "cat /var/lib/aws-swarm/disk-probe; ls /tmp/tmp-probe 2>/dev/null || echo no-tmp")).toBe(
    "kept\nno-tmp",
  );
  // dockerd came back on the same data: the restart policy brings the container back.
  expect(
    await poll("keeper running", 30, async () =>
      (await on("h4", "docker inspect -f '{{.State.Running}}' keeper")) === "true" ? "up" : undefined,
    ),
  ).toBe("up");
});

test("reboot restarts every process on the same disk and keeps the public address; restart-docker restarts dockerd only", async () => {
  const pids = async () => (await on("h4", "echo $(cat /run/docker.pid) $(cat /run/sshd.pid)")).split(" ");
  const [dockerd0, sshd0] = await pids();
  const publicBefore = publicIp("h4");
  await on("h4", "echo gone > /tmp/tmp-probe");
  await phase("reboot h4", () => fault(ID, "h4", "reboot"));
  refresh();
  expect(publicIp("h4")).toBe(publicBefore);
  const [dockerd1, sshd1] = await pids();
  expect([dockerd1 === dockerd0, sshd1 === sshd0]).toEqual([false, false]);
  expect(await on("h4", "ls /tmp/tmp-probe 2>/dev/null || echo no-tmp")).toBe("no-tmp");
  const keeperUp = async () =>
    (await on("h4", "docker inspect -f '{{.State.Running}}' keeper")) === "true" ? "up" : undefined;
  expect(await poll("keeper running after reboot", 30, keeperUp)).toBe("up");

  await phase("restart-docker h4", () => fault(ID, "h4", "restart-docker"));
  const [dockerd2, sshd2] = await pids();
  expect([dockerd2 === dockerd1, sshd2 === sshd1]).toEqual([false, true]);
  expect(await poll("keeper running after restart-docker", 30, keeperUp)).toBe("up");
});

test("partition drops all of a host's traffic while its processes keep running; heal restores it", async () => {
  await on("h4", whoServer(7200));
  await fault(ID, "h4", "partition");
  refresh();
  expect(findHost(info, "h4").partitioned).toBe(true);
  expect(await dialFromRunner(publicIp("h4"), 7200)).toBe("timeout");
  expect(await dialFrom(info, "h1", privateIp("h4"), 7200)).toMatch(/^(timeout|unreachable)$/);
  // Still running: its dockerd answers on its socket (no network involved).
  const name = execFileSync("docker", ["-H", dockerHost("h4", ID), "info", "-f", "{{.Name}}"])
    .toString()
    .trim();
  expect(name).toBe("h4");
  await fault(ID, "h4", "heal");
  refresh();
  expect(findHost(info, "h4").partitioned).toBe(false);
  expect(await dialFrom(info, "h1", privateIp("h4"), 7200)).toBe(privateIp("h1"));
});

test("removeHost terminates a host: gone from hosts.json, no process, namespace or file left", async () => {
  await phase("remove h4", () => removeHost(ID, "h4"));
  refresh();
  expect(info.hosts.map((h) => h.name)).toEqual(["h1", "h2", "h3"]);
  expect(processesOf("h4")).toBe("");
  expect(execFileSync("ip", ["netns", "list"]).toString()).not.toMatch(new RegExp(`\\basw${ID}-h4\\b`));
  expect(fs.existsSync(`/var/lib/aws-swarm-harness/${ID}/h4`)).toBe(false);
});

test("upHosts(0) brings up a harness without hosts, which addHost fills", async () => {
  info = await phase("up 0 hosts", () => upHosts(0, ID));
  expect(info.hosts).toEqual([]);
  expect(info.runnerIp).toBe(`198.18.${ID}.1`);
  const h1 = await addHost(ID);
  refresh();
  expect(h1).toMatchObject({ name: "h1", privateIp: `10.21${ID}.0.11` });
  expect(await on("h1", "hostname")).toBe("h1");
});

test("down leaves no namespace, bridge, process, mount, iptables rule or nft table behind", async () => {
  await phase("down", () => downHosts(ID));
  const sh = (cmd: string) => execFileSync("bash", ["-c", cmd]).toString();
  expect(sh("ip netns list")).not.toMatch(new RegExp(`\\basw${ID}-`));
  expect(sh("ip -o link show")).not.toMatch(new RegExp(`aswbr${ID}\\b|\\basw${ID}-`));
  expect(sh("iptables -S; iptables -t nat -S")).not.toContain(`aws-swarm-harness-${ID} `);
  expect(sh("iptables -t nat -S")).not.toContain(`ASW${ID}-`);
  expect(sh("nft list tables")).not.toContain(`bridge asw${ID}`);
  expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toMatch(new RegExp(`aws-swarm-harness/${ID}\\b`));
  expect(sh(`ls -d /sys/fs/cgroup/pids/asw${ID}-* 2>/dev/null || true`)).toBe("");
  expect(fs.existsSync(`/run/aws-swarm-harness/${ID}`)).toBe(false);
  expect(fs.existsSync(`/var/lib/aws-swarm-harness/${ID}`)).toBe(false);
  // Every dockerd/sshd/registry of this harness was started with this harness's paths or cgroup.
  expect(sh(`ps -eo args | grep -E 'asw${ID}-|aws-swarm-harness/${ID}/' | grep -v grep || true`)).toBe("");
});
