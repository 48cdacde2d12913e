// The test-host harness itself: three real hosts, a swarm formed by hand over SSH, dnsrr service
// discovery and HTTP across hosts over an overlay network, a host-mode port, registry pulls, and a
// teardown that leaves nothing behind. Linux + root only (see test/harness/README.md).
import { execFileSync } from "child_process";
import * as fs from "fs";
import { defaultHarnessId, downHosts, ensureBaseImage, HarnessInfo, sshExec, upHosts } from "../harness/hosts";

const ID = defaultHarnessId();
let info: HarnessInfo;
let base: string;

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

const ip = (host: string) => info.hosts.find((h) => h.name === host)!.ip;

beforeAll(async () => {
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

test("a swarm over SSH: dnsrr service, tasks.<svc> DNS and HTTP across hosts, host-mode port, registry pull", async () => {
  await phase("swarm init + join", async () => {
    await on("h1", `docker swarm init --advertise-addr ${ip("h1")}`);
    const token = await on("h1", "docker swarm join-token -q worker");
    await Promise.all(["h2", "h3"].map((h) => on(h, `docker swarm join --token ${token} ${ip("h1")}:2377`)));
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

  await phase("host-mode port from the root namespace", async () => {
    for (const h of ["h2", "h3"]) {
      const body = await poll(`HTTP on ${ip(h)}:8080`, 30, async () => (await fetch(`http://${ip(h)}:8080/`)).text());
      expect(body.trim()).toBe(h);
    }
  });
});

test("down leaves no namespace, bridge, process, mount or iptables rule behind", async () => {
  await phase("down", () => downHosts(ID));
  const sh = (cmd: string) => execFileSync("bash", ["-c", cmd]).toString();
  expect(sh("ip netns list")).not.toMatch(new RegExp(`\\basw${ID}-`));
  expect(sh("ip -o link show")).not.toMatch(new RegExp(`aswbr${ID}\\b|\\basw${ID}-`));
  expect(sh("iptables -S FORWARD")).not.toContain(`aws-swarm-harness-${ID} `);
  expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toMatch(new RegExp(`aws-swarm-harness/${ID}\\b`));
  expect(sh(`ls -d /sys/fs/cgroup/pids/asw${ID}-* 2>/dev/null || true`)).toBe("");
  expect(fs.existsSync(`/run/aws-swarm-harness/${ID}`)).toBe(false);
  expect(fs.existsSync(`/var/lib/aws-swarm-harness/${ID}`)).toBe(false);
  // Every dockerd/sshd/registry of this harness was started with this harness's paths or cgroup.
  expect(sh(`ps -eo args | grep -E 'asw${ID}-|aws-swarm-harness/${ID}/' | grep -v grep || true`)).toBe("");
});
