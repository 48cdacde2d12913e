import { renderScript } from "../../lib/scripts";
import { watchCommandLines } from "../support/cmdlines";
import { downHosts, ensureBaseImage, findHost, HarnessInfo, sshExec, upHosts } from "../harness/hosts";

// The node-side scripts against real Docker hosts (test/harness): every script runs exactly as the
// Pulumi program runs it, `sudo bash -s [verb]` over SSH with the rendered script on stdin.
//
//   npx jest --selectProjects cluster test/cluster/scripts.test.ts --runInBand
//
// HARNESS_ID defaults to 2 here so that this suite never collides with another harness user.

const HARNESS_ID = Number(process.env.HARNESS_ID ?? "2");

console.log(`scripts.test.ts uses harness ${HARNESS_ID} (env HARNESS_ID=${process.env.HARNESS_ID ?? "unset"})`);
const CLUSTER = "scripts-test";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

type Env = Record<string, string>;

/** Runs scripts/<name>.sh on a host like the remote command does; stdout trimmed like Pulumi's. */
async function script(info: HarnessInfo, host: string, name: string, env: Env = {}, verb?: string): Promise<Result> {
  const r = await sshExec(info, host, verb ? `sudo bash -s ${verb}` : "sudo bash -s", renderScript(name, env));
  return { code: r.code, stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr };
}

/** Like script(), but the step must succeed (the error shows the script's stderr). */
async function ok(info: HarnessInfo, host: string, name: string, env: Env = {}, verb?: string): Promise<Result> {
  const r = await script(info, host, name, env, verb);
  if (r.code !== 0) {
    throw new Error(`${name}.sh ${verb ?? ""} on ${host} exited ${r.code}:\n${r.stderr}`);
  }
  return r;
}

/** A plain command on a host (for checks, and to set up foreign state). */
async function sh(info: HarnessInfo, host: string, command: string): Promise<string> {
  const r = await sshExec(info, host, command);
  if (r.code !== 0) throw new Error(`'${command}' on ${host} exited ${r.code}:\n${r.stderr}`);
  return r.stdout.replace(/\n$/, "");
}

/** Swarm addresses are private ones, as on AWS. */
function privateIp(info: HarnessInfo, host: string): string {
  return findHost(info, host).privateIp;
}

function initEnv(info: HarnessInfo, host: string, overrides: Env = {}): Env {
  return {
    CLUSTER_NAME: CLUSTER,
    ADVERTISE_ADDR: privateIp(info, host),
    TASK_HISTORY_LIMIT: "5",
    AUTOLOCK: "false",
    CERT_EXPIRY: "2160h",
    DEFAULT_ADDR_POOL: "172.30.0.0/16",
    DEFAULT_ADDR_POOL_MASK_LENGTH: "24",
    ...overrides,
  };
}

function labelText(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join("\n");
}

interface NodeRow {
  id: string;
  hostname: string;
  status: string;
  availability: string;
  manager: string;
}

async function nodes(info: HarnessInfo, manager: string): Promise<NodeRow[]> {
  const out = await sh(
    info,
    manager,
    "docker node ls --format '{{.ID}}|{{.Hostname}}|{{.Status}}|{{.Availability}}|{{.ManagerStatus}}'",
  );
  return out
    .split("\n")
    .filter((l) => l)
    .map((l) => {
      const [id, hostname, status, availability, mgr] = l.split("|");
      return { id, hostname, status, availability, manager: mgr };
    });
}

async function labelsOf(info: HarnessInfo, manager: string, nodeId: string): Promise<Record<string, string>> {
  return JSON.parse(await sh(info, manager, `docker node inspect --format '{{json .Spec.Labels}}' ${nodeId}`)) ?? {};
}

async function nodeVersion(info: HarnessInfo, manager: string, nodeId: string): Promise<number> {
  return Number(await sh(info, manager, `docker node inspect --format '{{.Version.Index}}' ${nodeId}`));
}

async function swarmState(info: HarnessInfo, host: string): Promise<string> {
  return sh(info, host, "docker info --format '{{.Swarm.LocalNodeState}}'");
}

/** Runs a case and prints how long it took. */
async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await fn();
  } finally {
    console.log(`${label}: ${((Date.now() - start) / 1000).toFixed(1)}s`);
  }
}

/** Polls `fn` until it returns a value (not undefined) or `seconds` pass. */
async function eventually<T>(seconds: number, what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Records what a node's daemon reports for `seconds` after its removal by a manager. */
async function watchRemovedNode(info: HarnessInfo, host: string, seconds: number): Promise<string[]> {
  const seen: string[] = [];
  const start = Date.now();
  while (Date.now() - start < seconds * 1000) {
    const s = await sh(
      info,
      host,
      "docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}} {{.Swarm.Error}}'",
    );
    const t = ((Date.now() - start) / 1000).toFixed(0);
    if (seen.length === 0 || !seen[seen.length - 1].endsWith(`: ${s}`)) seen.push(`${t}s: ${s}`);
    if (s.startsWith("inactive")) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return seen;
}

/** Forms a swarm: wait-ready everywhere, init on the first, managers one by one, workers in parallel. */
async function formSwarm(
  info: HarnessInfo,
  first: string,
  managers: string[],
  workers: string[],
  labels: Record<string, Record<string, string>>,
): Promise<{ swarmId: string; ids: Record<string, string>; tokens: Record<string, string> }> {
  const all = [first, ...managers, ...workers];
  const versions = await Promise.all(all.map((h) => ok(info, h, "wait-ready", { READY_TIMEOUT: "120" })));
  versions.forEach((v) => expect(v.stdout).toMatch(/^\d+\.\d+/));

  const swarmId = (await ok(info, first, "swarm-init", initEnv(info, first))).stdout;
  expect(swarmId).toMatch(/^[a-z0-9]{25}$/);
  const tokens = {
    worker: (await ok(info, first, "swarm-token", {}, "worker")).stdout,
    manager: (await ok(info, first, "swarm-token", {}, "manager")).stdout,
  };
  expect(tokens.worker).toMatch(/^SWMTKN-1-/);
  expect(tokens.manager).toMatch(/^SWMTKN-1-/);

  const join = (host: string, role: "worker" | "manager") =>
    ok(info, host, "swarm-join", {
      ROLE: role,
      MANAGER_ADDRS: [first, ...managers].map((h) => privateIp(info, h)).join(" "),
      SWARM_JOIN_TOKEN: tokens[role],
      ADVERTISE_ADDR: privateIp(info, host),
      SWARM_ID: swarmId,
    });
  const ids: Record<string, string> = {};
  ids[first] = await sh(info, first, "docker info --format '{{.Swarm.NodeID}}'");
  // Every process on every host is watched while the nodes join: no command line may hold a token.
  const watch = watchCommandLines(/SWMTKN/);
  for (const m of managers) ids[m] = (await join(m, "manager")).stdout; // one at a time (Raft)
  const joined = await Promise.all(workers.map((w) => join(w, "worker")));
  workers.forEach((w, i) => (ids[w] = joined[i].stdout));
  const polls = watch.polls();
  expect(watch.stop()).toEqual([]);
  console.log(`joins: ${polls} polls of every process command line, none held a join token`);

  const applied = await Promise.all(
    all.map((h) => ok(info, first, "node-member", { NODE_ID: ids[h], LABELS: labelText(labels[h] ?? {}) }, "apply")),
  );
  all.forEach((h, i) => expect(applied[i].stdout).toBe(ids[h]));
  return { swarmId, ids, tokens };
}

/**
 * A stand-in for amazon-ecr-credential-helper: the docker credential-helper protocol's `get`
 * (server URL on stdin, JSON credentials on stdout), logging each call.
 */
const ECR_HELPER_STAND_IN = `#!/bin/sh
# Test stand-in for docker-credential-ecr-login (written by test/cluster/scripts.test.ts).
[ "$1" = get ] || { echo "stand-in: only get" >&2; exit 1; }
read -r server
echo "$(date +%s) get $server" >> /var/log/ecr-login-standin.log
printf '{"ServerURL":"%s","Username":"AWS","Secret":"harness-token"}\\n' "$server"
`;

describe("node scripts on 1 manager + 3 workers (+1 host of another swarm)", () => {
  let info: HarnessInfo;
  let swarmId: string;
  let ids: Record<string, string>;
  let tokens: Record<string, string>;
  const workers = ["h2", "h3", "h4"];
  const labels: Record<string, Record<string, string>> = {
    h1: { role: "manager", pool: "managers" },
    h2: { role: "worker", pool: "infra", type: "low-memory", probe: "yes" },
    h3: { role: "worker", pool: "app", probe: "yes" },
    h4: { role: "worker", pool: "app", probe: "yes" },
  };
  const env = (host: string, role: "worker" | "manager"): Env => ({
    ROLE: role,
    MANAGER_ADDRS: privateIp(info, "h1"),
    SWARM_JOIN_TOKEN: tokens[role],
    ADVERTISE_ADDR: privateIp(info, host),
    SWARM_ID: swarmId,
  });

  beforeAll(async () => {
    info = await timed("harness up (5 hosts)", () => upHosts(5, HARNESS_ID));
  });
  afterAll(async () => {
    await timed("harness down", () => downHosts(HARNESS_ID));
  });

  it("forms the swarm: one manager, three workers, labels applied", async () => {
    await timed("form 1+3", async () => {
      ({ swarmId, ids, tokens } = await formSwarm(info, "h1", [], workers, labels));
      const list = await nodes(info, "h1");
      expect(list).toHaveLength(4);
      expect(list.every((n) => n.status === "Ready" && n.availability === "Active")).toBe(true);
      expect(list.filter((n) => n.manager === "Leader").map((n) => n.hostname)).toEqual(["h1"]);
      for (const h of ["h1", ...workers]) {
        const l = await labelsOf(info, "h1", ids[h]);
        const managed = Object.keys(labels[h]).sort().join(",");
        const expected: Record<string, string> = { ...labels[h], "aws-swarm.managed-labels": managed };
        if (h === "h1") expected["aws-swarm.cluster"] = CLUSTER;
        expect(l).toEqual(expected);
      }
      expect((await ok(info, "h1", "swarm-token", {}, "unlock-key")).stdout).toBe("");
    });
  });

  it("changes nothing when every script runs a second time", async () => {
    await timed("second run 1+3", async () => {
      const before = await nodes(info, "h1");
      const versions = await Promise.all(before.map((n) => nodeVersion(info, "h1", n.id)));
      const clusterVersion = await sh(info, "h1", "docker info --format '{{.Swarm.Cluster.Version.Index}}'");

      await Promise.all(["h1", ...workers].map((h) => ok(info, h, "wait-ready", { READY_TIMEOUT: "60" })));
      const init = await ok(info, "h1", "swarm-init", initEnv(info, "h1"));
      expect(init.stdout).toBe(swarmId);
      expect(init.stderr).toContain("already up to date");
      expect((await ok(info, "h1", "swarm-token", {}, "worker")).stdout).toBe(tokens.worker);
      const rejoined = await Promise.all(workers.map((w) => ok(info, w, "swarm-join", env(w, "worker"))));
      workers.forEach((w, i) => {
        expect(rejoined[i].stdout).toBe(ids[w]);
        expect(rejoined[i].stderr).toContain("nothing to do");
      });
      const reapplied = await Promise.all(
        ["h1", ...workers].map((h) =>
          ok(info, "h1", "node-member", { NODE_ID: ids[h], LABELS: labelText(labels[h]) }, "apply"),
        ),
      );
      reapplied.forEach((r) => expect(r.stderr).toContain("already up to date"));

      const after = await nodes(info, "h1");
      expect(after.map((n) => n.id).sort()).toEqual(before.map((n) => n.id).sort());
      expect(new Set(after.map((n) => n.hostname)).size).toBe(4);
      expect(await Promise.all(after.map((n) => nodeVersion(info, "h1", n.id)))).toEqual(versions);
      expect(await sh(info, "h1", "docker info --format '{{.Swarm.Cluster.Version.Index}}'")).toBe(clusterVersion);
    });
  });

  it("converges labels: add, change, remove; never touches labels it did not set", async () => {
    await timed("labels", async () => {
      const id = ids.h3;
      const apply = (l: Record<string, string>) =>
        ok(info, "h1", "node-member", { NODE_ID: id, LABELS: labelText(l) }, "apply");
      await sh(info, "h1", `docker node update --label-add owner=someone-else ${id} >/dev/null`);

      // add one, change one, remove one (pool changes, disk added, probe dropped)
      await apply({ role: "worker", pool: "batch", disk: "ssd" });
      expect(await labelsOf(info, "h1", id)).toEqual({
        role: "worker",
        pool: "batch",
        disk: "ssd",
        owner: "someone-else",
        "aws-swarm.managed-labels": "disk,pool,role",
      });
      // a value with spaces and '=' survives
      await apply({ role: "worker", pool: "batch", disk: "ssd", note: "a b=c" });
      expect((await labelsOf(info, "h1", id)).note).toBe("a b=c");
      const v = await nodeVersion(info, "h1", id);
      await apply({ role: "worker", pool: "batch", disk: "ssd", note: "a b=c" });
      expect(await nodeVersion(info, "h1", id)).toBe(v);

      // no labels at all: every managed label goes, the foreign one stays
      await apply({});
      expect(await labelsOf(info, "h1", id)).toEqual({ owner: "someone-else" });

      // back to the configured labels
      await apply(labels.h3);
      await sh(info, "h1", `docker node update --label-rm owner ${id} >/dev/null`);
      expect(await labelsOf(info, "h1", id)).toEqual({
        ...labels.h3,
        "aws-swarm.managed-labels": "pool,probe,role",
      });
    });
  });

  it("converges swarm settings without re-creating the swarm (task history, autolock)", async () => {
    await timed("settings", async () => {
      const changed = await ok(
        info,
        "h1",
        "swarm-init",
        initEnv(info, "h1", { TASK_HISTORY_LIMIT: "2", AUTOLOCK: "true" }),
      );
      expect(changed.stdout).toBe(swarmId);
      expect(changed.stdout + changed.stderr).not.toMatch(/SWMKEY|SWMTKN/);
      expect(
        await sh(info, "h1", "docker info --format '{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}'"),
      ).toBe("2");
      const key = (await ok(info, "h1", "swarm-token", {}, "unlock-key")).stdout;
      expect(key).toMatch(/^SWMKEY-1-/);

      // Once the swarm exists, the previous id is checked: a second swarm is never taken for ours.
      const again = await ok(
        info,
        "h1",
        "swarm-init",
        initEnv(info, "h1", { TASK_HISTORY_LIMIT: "2", AUTOLOCK: "true", PREVIOUS_STDOUT: swarmId }),
      );
      expect(again.stdout).toBe(swarmId);
      const other = await script(info, "h1", "swarm-init", initEnv(info, "h1", { PREVIOUS_STDOUT: "x".repeat(25) }));
      expect(other.code).toBe(1);
      expect(other.stderr).toContain("a second swarm was created by hand");

      // After a restart the autolocked manager is locked: every manager-side script says how to
      // unlock, and exits 75 so that any-manager.sh tries another manager.
      await sh(info, "h1", "systemctl restart docker");
      expect(await swarmState(info, "h1")).toBe("locked");
      for (const [name, e, verb] of [
        ["swarm-init", initEnv(info, "h1", { AUTOLOCK: "true", TASK_HISTORY_LIMIT: "2" }), undefined],
        ["swarm-token", {}, "worker"],
        ["node-member", { NODE_ID: ids.h2, LABELS: "" }, "apply"],
      ] as [string, Env, string | undefined][]) {
        const r = await script(info, "h1", name, e, verb);
        expect(r.code).toBe(75);
        expect(r.stdout).toBe("");
        expect(r.stderr).toContain("docker swarm unlock");
        expect(r.stderr).toContain("swarmUnlockKey");
      }
      const unlock = await sshExec(info, "h1", "docker swarm unlock", `${key}\n`);
      expect(unlock.code).toBe(0);
      await eventually(60, "h1 to be an active manager with all nodes Ready again", async () => {
        const list = await nodes(info, "h1").catch(() => []);
        return list.length === 4 && list.every((n) => n.status === "Ready") ? true : undefined;
      });

      const back = await ok(info, "h1", "swarm-init", initEnv(info, "h1"));
      expect(back.stdout).toBe(swarmId);
      expect(
        await sh(info, "h1", "docker info --format '{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}'"),
      ).toBe("5");
      expect((await ok(info, "h1", "swarm-token", {}, "unlock-key")).stdout).toBe("");
    });
  });

  it("wait-ready with swarm.encryptOverlay fails clearly on this kernel, which has no IPsec ESP (harness README)", async () => {
    const r = await script(info, "h5", "wait-ready", { READY_TIMEOUT: "60", ENCRYPT_OVERLAY: "true" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("swarm.encryptOverlay is on, but this kernel can't do IPsec ESP with AES-GCM");
    expect(r.stdout).toBe("");
  });

  it("refuses a node of another swarm with a clear error and leaves it alone", async () => {
    await timed("foreign swarm", async () => {
      await ok(info, "h5", "wait-ready", { READY_TIMEOUT: "60" });
      // A manager outside the existing swarm (new or replaced) never inits a second one.
      const fresh = await script(info, "h5", "swarm-init", initEnv(info, "h5", { PREVIOUS_STDOUT: swarmId }));
      expect(fresh.code).toBe(75);
      expect(fresh.stderr).toContain(`is not in swarm ${swarmId}`);
      expect(await swarmState(info, "h5")).toBe("inactive");
      await sh(info, "h5", `docker swarm init --advertise-addr ${privateIp(info, "h5")} >/dev/null`);
      const foreignId = await sh(info, "h5", "docker info --format '{{.Swarm.Cluster.ID}}'");

      const join = await script(info, "h5", "swarm-join", env("h5", "worker"));
      expect(join.code).toBe(1);
      expect(join.stdout).toBe("");
      expect(join.stderr).toContain("manager of another swarm");
      expect(join.stderr).toContain(foreignId);
      expect(join.stderr).not.toContain(tokens.worker);

      const init = await script(info, "h5", "swarm-init", initEnv(info, "h5"));
      expect(init.code).toBe(1);
      expect(init.stderr).toContain(`not the swarm of cluster '${CLUSTER}'`);
      expect(init.stderr).toContain(foreignId);

      expect(await sh(info, "h5", "docker info --format '{{.Swarm.Cluster.ID}}'")).toBe(foreignId);
      expect(await nodes(info, "h1")).toHaveLength(4);

      // a worker of this swarm cannot become a manager in place
      const promote = await script(info, "h2", "swarm-join", env("h2", "manager"));
      expect(promote.code).toBe(1);
      expect(promote.stderr).toContain("worker of this swarm but is configured as a manager");
    });
  });

  it("registry-auth on an ECR-shaped registry: credHelpers and units written, the helper asked on pull and on refresh, nothing restarted, a second install changes nothing", async () => {
    // ECR as a node sees it: a registry host name (no port) that docker reaches over the network,
    // and `docker-credential-ecr-login` on the PATH. Here the name resolves to the harness registry
    // (plain HTTP, so the name is an insecure registry and port 80 is forwarded to it), and the
    // helper is a stand-in speaking the credential-helper protocol that logs each call. What this
    // can't show: the real helper's token exchange with ECR under the instance role.
    const ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    const [registryIp, registryPort] = info.registry.split(":");
    const stack = "ecr-probe";
    const calls = async () => Number(await sh(info, "h1", "grep -c . /var/log/ecr-login-standin.log || true"));
    const setup = await sshExec(
      info,
      "h1",
      [
        `echo '${registryIp} ${ecr}' >> /etc/hosts`,
        `iptables -t nat -A OUTPUT -d ${registryIp} -p tcp --dport 80 -j DNAT --to-destination ${info.registry}`,
        `jq '."insecure-registries" += ["${ecr}"]' /etc/docker/daemon.json > /tmp/daemon.json`,
        "mv /tmp/daemon.json /etc/docker/daemon.json && systemctl restart docker",
        "cat > /usr/local/bin/docker-credential-ecr-login && chmod 755 /usr/local/bin/docker-credential-ecr-login",
      ].join(" && "),
      ECR_HELPER_STAND_IN,
    );
    expect(setup).toMatchObject({ code: 0 });
    // The manager's dockerd restarted: wait until the swarm answers again.
    await eventually(60, "the manager to answer after its restart", async () =>
      (await sshExec(info, "h1", "docker node ls -q")).code === 0 ? true : undefined,
    );
    expect(registryPort).toBe("5000");
    const env = { REGISTRY: ecr, AWS_REGION: "us-east-1", STACK_NAME: stack };
    const install = await ok(info, "h1", "registry-auth", env, "install");
    expect(JSON.parse(install.stdout)).toEqual({
      registry: ecr,
      helper: "/usr/local/bin/docker-credential-ecr-login",
      timer: `aws-swarm-registry-auth@${stack}.timer`,
    });
    expect(install.stderr).not.toMatch(/installing amazon-ecr-credential-helper/);
    const config = JSON.parse(await sh(info, "h1", "cat /root/.docker/config.json"));
    expect(config.credHelpers).toEqual({ [ecr]: "ecr-login" });
    expect(await sh(info, "h1", `cat /etc/aws-swarm/registry-auth/${stack}.env`)).toBe(
      `REGISTRY=${ecr}\nAWS_REGION=us-east-1\nSTACK_NAME=${stack}`,
    );
    const unit = await sh(info, "h1", "cat /etc/systemd/system/aws-swarm-registry-auth@.service");
    expect(unit).toContain("ExecStart=/usr/local/lib/aws-swarm/registry-auth-refresh.sh");
    expect(await sh(info, "h1", "test -x /usr/local/lib/aws-swarm/registry-auth-refresh.sh && echo x")).toBe("x");
    const afterInstall = await calls();
    expect(afterInstall).toBeGreaterThanOrEqual(1); // install checks that a token can be had

    // docker reads credHelpers: a pull asks the helper for this registry.
    const image = (await ensureBaseImage(HARNESS_ID)).replace(info.registry, ecr);
    await sh(info, "h1", `docker pull -q ${image} >/dev/null`);
    expect(await calls()).toBeGreaterThan(afterInstall);
    expect(await sh(info, "h1", "tail -n 1 /var/log/ecr-login-standin.log")).toMatch(new RegExp(`get ${ecr}$`));

    // What the timer runs (the service unit's ExecStart with its EnvironmentFile): fresh auth for
    // the stack's services in this registry, and no task restarted. The probe runs on the manager:
    // only h1 resolves the ECR-shaped name, so a task placed on a worker could never pull.
    await sh(
      info,
      "h1",
      `docker service create -d -q --name ${stack}_app --label com.docker.stack.namespace=${stack} ` +
        `--constraint node.role==manager --with-registry-auth ${image} sleep infinity >/dev/null`,
    );
    const task = () =>
      sh(
        info,
        "h1",
        `docker service ps ${stack}_app --filter desired-state=running --format '{{.ID}} {{.CurrentState}}'`,
      );
    const running = await eventually(60, "the probe task running", async () => {
      const t = await task();
      return /Running/.test(t) ? t.split(" ")[0] : undefined;
    });
    const beforeRefresh = await calls();
    const refresh = await sshExec(
      info,
      "h1",
      `sudo bash -c 'set -a; . /etc/aws-swarm/registry-auth/${stack}.env; set +a; /usr/local/lib/aws-swarm/registry-auth-refresh.sh'`,
    );
    expect(refresh.code).toBe(0);
    expect(refresh.stderr).toContain(`re-applied registry auth to 1 service(s) using ${ecr}`);
    expect(await calls()).toBeGreaterThan(beforeRefresh);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await task()).split(" ")[0]).toBe(running);

    // Idempotent: a second install writes nothing and keeps the docker config as it was.
    const again = await ok(info, "h1", "registry-auth", env, "install");
    expect(again.stdout).toBe(install.stdout);
    expect(again.stderr).not.toMatch(/wrote /);
    expect(JSON.parse(await sh(info, "h1", "cat /root/.docker/config.json"))).toEqual(config);

    await sh(info, "h1", `docker service rm ${stack}_app >/dev/null`);
    expect(JSON.parse((await ok(info, "h1", "registry-auth", { STACK_NAME: stack }, "remove")).stdout)).toEqual({
      stack,
      timer: "removed",
    });
    expect(await sh(info, "h1", `test -e /etc/aws-swarm/registry-auth/${stack}.env && echo kept || echo gone`)).toBe(
      "gone",
    );
  });

  it("removes a worker with a running task: drained, task moved, no Down node left", async () => {
    await timed("remove worker", async () => {
      const image = await timed("base image", () => ensureBaseImage(HARNESS_ID));
      await sh(
        info,
        "h1",
        `docker service create -d --name probe --replicas 2 --replicas-max-per-node 1 ` +
          `--constraint node.labels.probe==yes ${image} sleep infinity >/dev/null`,
      );
      const running = async () =>
        (
          await sh(
            info,
            "h1",
            "docker service ps probe --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'",
          )
        )
          .split("\n")
          .filter((l) => l.includes("Running"))
          .map((l) => l.split(" ")[0]);
      const placed = await eventually(180, "2 running probe tasks", async () => {
        const r = await running();
        return r.length === 2 ? r : undefined;
      });
      const victim = placed[0];
      expect(workers).toContain(victim);

      const rm = await ok(
        info,
        "h1",
        "node-member",
        { NODE_ID: ids[victim], LABELS: "", DRAIN_TIMEOUT: "60" },
        "remove",
      );
      expect(rm.stdout).toBe("");
      expect(rm.stderr).toContain("drain");
      const list = await nodes(info, "h1");
      expect(list.map((n) => n.id)).not.toContain(ids[victim]);
      expect(list.filter((n) => n.status === "Down")).toEqual([]);
      expect(list).toHaveLength(3);
      const moved = await eventually(120, "the probe task to run elsewhere", async () => {
        const r = await running();
        return r.length === 2 ? r : undefined;
      });
      expect(moved).not.toContain(victim);

      // What the removed node's own daemon does after `docker node rm --force`:
      const seen = await watchRemovedNode(info, victim, 60);

      console.log(`removed node ${victim} (${ids[victim]}) reports:\n  ${seen.join("\n  ")}`);

      // removing again: a note, exit 0; removing the manager it runs on: "not here" (75), so
      // any-manager.sh has another manager do it
      const again = await ok(info, "h1", "node-member", { NODE_ID: ids[victim], LABELS: "" }, "remove");
      expect(again.stderr).toContain("not in the swarm");
      const self = await script(info, "h1", "node-member", { NODE_ID: ids.h1, LABELS: "" }, "remove");
      expect(self.code).toBe(75);
      expect(self.stderr).toContain("is this manager; another manager removes it");
      expect(await nodes(info, "h1")).toHaveLength(3);

      // the node-side delete step, then the same host joins again (as a replaced instance would)
      await ok(info, victim, "swarm-join", {}, "leave");
      expect(await swarmState(info, victim)).toBe("inactive");
      await ok(info, victim, "swarm-join", {}, "leave");
      const rejoin = await ok(info, victim, "swarm-join", env(victim, "worker"));
      expect(rejoin.stdout).not.toBe(ids[victim]);
      ids[victim] = rejoin.stdout;
      await ok(info, "h1", "node-member", { NODE_ID: ids[victim], LABELS: labelText(labels[victim]) }, "apply");
      const final = await nodes(info, "h1");
      expect(final).toHaveLength(4);
      expect(final.every((n) => n.status === "Ready")).toBe(true);
      await sh(info, "h1", "docker service rm probe >/dev/null");
    });
  });
});

describe("node scripts on 3 managers + 2 workers", () => {
  let info: HarnessInfo;
  let swarmId: string;
  let ids: Record<string, string>;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    info = await timed("harness up (5 hosts)", () => upHosts(5, HARNESS_ID));
  });
  afterAll(async () => {
    await timed("harness down", () => downHosts(HARNESS_ID));
  });

  it("forms a swarm with three reachable managers and one leader", async () => {
    await timed("form 3+2", async () => {
      const labels = {
        h1: { role: "manager" },
        h2: { role: "manager" },
        h3: { role: "manager" },
        h4: { role: "worker", pool: "app" },
        h5: { role: "worker", pool: "app" },
      };
      ({ swarmId, ids, tokens } = await formSwarm(info, "h1", ["h2", "h3"], ["h4", "h5"], labels));
      const list = await nodes(info, "h1");
      expect(list).toHaveLength(5);
      expect(list.filter((n) => n.manager === "Leader")).toHaveLength(1);
      expect(list.filter((n) => n.manager === "Reachable")).toHaveLength(2);
      expect(
        list
          .filter((n) => n.manager === "")
          .map((n) => n.hostname)
          .sort(),
      ).toEqual(["h4", "h5"]);

      // second run of the joins: same node IDs, nothing to do
      for (const m of ["h2", "h3"]) {
        const r = await ok(info, m, "swarm-join", {
          ROLE: "manager",
          MANAGER_ADDRS: privateIp(info, "h1"),
          SWARM_JOIN_TOKEN: tokens.manager,
          ADVERTISE_ADDR: privateIp(info, m),
          SWARM_ID: swarmId,
        });
        expect(r.stdout).toBe(ids[m]);
      }
      expect(await nodes(info, "h1")).toHaveLength(5);
    });
  });

  it("removes a manager by demoting it first; the swarm keeps a leader and no Down node", async () => {
    await timed("remove manager", async () => {
      const rm = await ok(info, "h1", "node-member", { NODE_ID: ids.h3, LABELS: "", DRAIN_TIMEOUT: "30" }, "remove");
      expect(rm.stderr).toContain("demoting manager");
      const list = await nodes(info, "h1");
      expect(list.map((n) => n.hostname).sort()).toEqual(["h1", "h2", "h4", "h5"]);
      expect(list.filter((n) => n.status === "Down")).toEqual([]);
      expect(list.filter((n) => n.manager === "Leader")).toHaveLength(1);
      expect(list.filter((n) => n.manager === "Reachable")).toHaveLength(1);
      const raft = await sh(info, "h1", "docker info --format '{{.Swarm.Managers}}'");
      expect(raft).toBe("2");

      const seen = await watchRemovedNode(info, "h3", 60);

      console.log(`removed manager h3 (${ids.h3}) reports:\n  ${seen.join("\n  ")}`);
      await ok(info, "h3", "swarm-join", {}, "leave");
      expect(await swarmState(info, "h3")).toBe("inactive");
    });
  });
});
