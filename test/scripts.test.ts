import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { durationSeconds, MAX_CERT_EXPIRY_SECONDS } from "../lib/durations";
import { renderScript, SCRIPTS_DIR } from "../lib/scripts";

// The node-side scripts, checked without a Docker daemon: static checks (shellcheck, shape),
// rendering, and the parts of their logic that run before they talk to Docker. Their behaviour
// against real daemons is covered by test/cluster/scripts.test.ts.

const scripts = fs
  .readdirSync(SCRIPTS_DIR)
  .filter((f) => f.endsWith(".sh"))
  .sort();
const names = scripts.map((f) => f.replace(/\.sh$/, ""));

const USER_DATA_ENV = {
  DOCKER_VERSION: "29.8.1",
  CONTAINERD_VERSION: "2.3.6",
  SSH_USER: "ubuntu",
  LOG_MAX_SIZE: "10m",
  LOG_MAX_FILE: "3",
};

/**
 * Runs a program with a minimal environment. HOME is an empty directory: bash sources ~/.bashrc
 * when its stdin is a socket (Node's child stdio is), and this machine's would slow down and
 * pollute every run.
 */
function run(
  file: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string>; cwd?: string } = {},
): SpawnSyncReturns<string> {
  const result = spawnSync(file, args, {
    input: opts.input ?? "",
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...opts.env, HOME: stubDir },
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return result;
}

/** The script's text with its final `main "$@"` replaced by `tail`: runs single functions. */
function withTail(name: string, env: Record<string, string>, tail: string): string {
  const text = renderScript(name, env);
  expect(text.endsWith('main "$@"\n')).toBe(true);
  return text.slice(0, -'main "$@"\n'.length) + tail + "\n";
}

/**
 * A PATH whose `docker` is a stub (`info` prints $FAKE_STATE) and whose `curl`, standing in for the
 * Engine API, refuses a join like a refused token.
 */
let stubDir: string;
beforeAll(() => {
  stubDir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-scripts-"));
  fs.writeFileSync(
    path.join(stubDir, "docker"),
    [
      "#!/usr/bin/env bash",
      'case "$1 ${2:-}" in',
      '  "info --format") [[ $3 == *LocalNodeState* ]] && { echo "${FAKE_STATE:-inactive}"; exit 0; }',
      '    [[ $3 == *NodeID* ]] && { echo "${FAKE_NODE_ID:-}"; exit 0; }; echo ""; exit 0 ;;',
      "esac",
      'echo "docker stub: unexpected call: $*" >&2',
      "exit 99",
    ].join("\n") + "\n",
    { mode: 0o755 },
  );
  fs.writeFileSync(
    path.join(stubDir, "curl"),
    [
      "#!/usr/bin/env bash",
      '[[ " $* " == *" http://localhost/swarm/join "* ]] || { echo "curl stub: unexpected call: $*" >&2; exit 99; }',
      "body=$(cat)",
      'remote=$(sed -E \'s/.*"RemoteAddrs":\\["([^"]+)".*/\\1/\' <<<"$body")',
      'if [[ -n ${FAKE_CALLS:-} ]]; then echo "$remote" >>"$FAKE_CALLS"; fi',
      'if [[ " ${FAKE_DOWN:-} " == *" $remote "* ]]; then printf \'{"message":"connection refused"}\\n500\'; exit 0; fi',
      "if [[ -n ${FAKE_NODE_ID:-} ]]; then printf '\\n200'; exit 0; fi",
      // Echo the request body back, as a careless daemon might: the script must hide the token.
      'printf \'{"message":"rpc error: code = InvalidArgument desc = A valid join token is necessary (%s)"}\\n500\' "$body"',
    ].join("\n") + "\n",
    { mode: 0o755 },
  );
});
afterAll(() => fs.rmSync(stubDir, { recursive: true, force: true }));

function stubEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: `${stubDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, ...extra };
}

/** Runs a rendered script exactly as the remote command does: `bash -s [verb]`, text on stdin. */
function runScript(name: string, env: Record<string, string>, verb?: string, extraEnv: Record<string, string> = {}) {
  return run("bash", verb ? ["-s", verb] : ["-s"], { input: renderScript(name, env), env: stubEnv(extraEnv) });
}

/**
 * `apt-get install --simulate` of `wanted` against a throwaway file: repository that publishes
 * `packages` ([name, version] pairs), with `preferences` as /etc/apt/preferences and none of this
 * machine's apt configuration, sources or installed packages. Returns what apt would install.
 */
function aptSimulate(packages: string[][], preferences: string, wanted: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-apt-"));
  for (const sub of ["repo", "empty", "state/lists/partial", "cache/archives/partial"]) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  const stanza = ([name, version]: string[]) =>
    `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\nMaintainer: stand-in <x@example.com>\n` +
    `Filename: pool/${name}.deb\nSize: 1\nDescription: stand-in\n`;
  fs.writeFileSync(path.join(dir, "repo", "Packages"), packages.map(stanza).join("\n"));
  fs.writeFileSync(path.join(dir, "sources.list"), `deb [trusted=yes] file:${dir}/repo ./\n`);
  fs.writeFileSync(path.join(dir, "preferences"), preferences);
  fs.writeFileSync(path.join(dir, "state", "status"), "");
  fs.writeFileSync(path.join(dir, "apt.conf"), "");
  const options = Object.entries({
    "Dir::Etc::SourceList": `${dir}/sources.list`,
    "Dir::Etc::SourceParts": `${dir}/empty`,
    "Dir::Etc::Preferences": `${dir}/preferences`,
    "Dir::Etc::PreferencesParts": `${dir}/empty`,
    "Dir::State": `${dir}/state`,
    "Dir::State::status": `${dir}/state/status`,
    "Dir::Cache": `${dir}/cache`,
    "Debug::NoLocking": "1",
    "APT::Sandbox::User": "root",
    "APT::Architecture": "amd64",
    "APT::Architectures::": "amd64",
  }).flatMap(([key, value]) => ["-o", `${key}=${value}`]);
  const env = { APT_CONFIG: `${dir}/apt.conf` };
  const update = run("apt-get", [...options, "-q", "update"], { env });
  expect(update.status).toBe(0);
  const r = run("apt-get", [...options, "--simulate", "install", ...wanted], { env });
  fs.rmSync(dir, { recursive: true, force: true });
  const installed = Object.fromEntries([...r.stdout.matchAll(/^Inst (\S+) \((\S+) /gm)].map((m) => [m[1], m[2]]));
  return { status: r.status, stderr: r.stderr, installed };
}

describe("every script in scripts/", () => {
  it("includes the six node-side scripts", () => {
    expect(names).toEqual(
      expect.arrayContaining(["user-data", "wait-ready", "swarm-init", "swarm-token", "swarm-join", "node-member"]),
    );
  });

  it("has Debian's shellcheck available (CI installs it; a missing one fails, never skips)", () => {
    const r = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
  });

  describe.each(scripts)("%s", (file) => {
    const full = path.join(SCRIPTS_DIR, file);
    const text = fs.readFileSync(full, "utf8");

    it("passes shellcheck", () => {
      const r = run("shellcheck", ["--shell=bash", "--external-sources", full], { cwd: path.dirname(full) });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    });

    it("passes shellcheck when rendered with parameters", () => {
      const rendered = renderScript(file.replace(/\.sh$/, ""), { SOME_VALUE: "it's a value\nline 2" });
      const r = run("shellcheck", ["--shell=bash", "-"], { input: rendered });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    });

    it("starts with the shebang and set -euo pipefail", () => {
      expect(text.startsWith("#!/usr/bin/env bash\nset -euo pipefail\n")).toBe(true);
    });

    it('ends with main "$@" (all logic in functions; stdin is the script itself)', () => {
      expect(text.endsWith('\nmain "$@"\n')).toBe(true);
      expect(text).toMatch(/^main\(\) \{$/m);
    });

    it("never traces commands (parameters include secrets)", () => {
      expect(text).not.toMatch(/set\s+-[a-z]*x|set\s+-o\s+xtrace|bash\s+-x/);
    });
  });
});

describe("the shared prelude scripts/lib/common.sh", () => {
  const functionsOf = (text: string) => [...text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)\(\) \{/gm)].map((m) => m[1]);
  const shared = functionsOf(fs.readFileSync(path.join(SCRIPTS_DIR, "lib", "common.sh"), "utf8"));
  // Users pipe update-image.sh to a manager as it is, unrendered, so it cannot source the prelude.
  const rendered = scripts.filter((file) => file !== "update-image.sh");
  const textOf = (file: string) => fs.readFileSync(path.join(SCRIPTS_DIR, file), "utf8");

  it("defines the helpers the scripts share", () => {
    expect(shared).toEqual(
      expect.arrayContaining([
        "log",
        "die",
        "dk",
        "info",
        "require_env",
        "require_manager",
        "retry",
        "write_if_changed",
      ]),
    );
  });

  it.each(rendered)("is sourced by %s", (file) => {
    expect(textOf(file)).toMatch(/^source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/lib\/common\.sh"$/m);
  });

  it.each(rendered)("has none of its functions redefined by %s", (file) => {
    expect(functionsOf(textOf(file)).filter((name) => shared.includes(name))).toEqual([]);
  });

  it("is mirrored by update-image.sh, whose header says why", () => {
    expect(textOf("update-image.sh")).toMatch(/^# Standalone on purpose(?:.*\n#)*.*cannot source lib\/common\.sh/m);
  });
});

describe("renderScript", () => {
  const tricky: Record<string, string> = {
    QUOTE: "it's a 'quoted' value",
    NEWLINES: "line 1\nline 2\n\nline 4\n",
    DOLLAR: "$HOME ${PATH} $(whoami) $1 $@",
    BACKTICKS: "`id` and `rm -rf /nonexistent`",
    MIXED: `'"\\ \t; && || > /tmp/x # not a comment`,
    EMPTY: "",
    UNICODE: "노드 라벨",
  };

  it.each(Object.keys(tricky))("round-trips %s through a real bash -c", (key) => {
    const program = withTail("wait-ready", tricky, `printf '%s' "$${key}"`);
    const r = run("bash", ["-c", program]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(tricky[key]);
  });

  it("round-trips the same values through bash -s on stdin, as the remote command runs it", () => {
    const tail = Object.keys(tricky)
      .map((k) => `printf '%s\\0' "$${k}"`)
      .join("\n");
    const r = run("bash", ["-s"], { input: withTail("wait-ready", tricky, tail) });
    expect(r.status).toBe(0);
    expect(r.stdout.split("\0").slice(0, -1)).toEqual(Object.values(tricky));
  });

  it("puts sorted export lines right after the shebang", () => {
    const text = renderScript("swarm-token", { ZED: "z", ALPHA: "a" });
    expect(text.split("\n").slice(0, 4)).toEqual([
      "#!/usr/bin/env bash",
      "export ALPHA='a'",
      "export ZED='z'",
      "set -euo pipefail",
    ]);
  });

  it("renders a script that sources nothing unchanged when it has no parameters", () => {
    // update-image.sh is the one script that sources nothing (users pipe it unrendered).
    expect(renderScript("update-image")).toBe(fs.readFileSync(path.join(SCRIPTS_DIR, "update-image.sh"), "utf8"));
  });

  it("inlines the shared library in place of its source line, so the text runs from stdin", () => {
    const rendered = renderScript("swarm-token");
    expect(rendered).not.toMatch(/^source /m);
    expect(rendered).toContain(fs.readFileSync(path.join(SCRIPTS_DIR, "lib", "common.sh"), "utf8").trimEnd());
    const r = run("bash", ["-s", "bogus"], { input: rendered });
    expect(r.stderr).toContain("swarm-token: error:");
  });

  it.each(["lower", "Mixed_Case", "1ABC", "A-B", "A B", "", "A=B", "_LEADING", "A;rm"])(
    "rejects the parameter name %j",
    (key) => {
      expect(() => renderScript("wait-ready", { [key]: "x" })).toThrow(/UPPER_CASE/);
    },
  );

  it("fails for a script that does not exist", () => {
    expect(() => renderScript("no-such-script")).toThrow();
  });
});

describe("user-data.sh", () => {
  const rendered = renderScript("user-data", USER_DATA_ENV);

  it("renders to the reviewed script", () => {
    expect(rendered).toMatchSnapshot();
  });

  it("contains no join token, no private key and no parameter but the five public ones", () => {
    expect(rendered).not.toMatch(/SWMTKN/);
    expect(rendered).not.toMatch(/PRIVATE KEY/);
    expect(rendered.match(/^export [A-Z_]+=/gm)).toEqual(
      Object.keys(USER_DATA_ENV)
        .sort()
        .map((k) => `export ${k}=`),
    );
  });

  it("writes a daemon.json that is valid JSON with log rotation and without live-restore", () => {
    const r = run("bash", ["-c", withTail("user-data", USER_DATA_ENV, "check_env; daemon_json")]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      "log-driver": "json-file",
      "log-opts": { "max-size": "10m", "max-file": "3" },
    });
    expect(r.stdout).not.toMatch(/live-restore/);
  });

  it("pins the engine packages and containerd to exact versions and blocks every other version", () => {
    const r = run("bash", ["-c", withTail("user-data", USER_DATA_ENV, "check_env; apt_preferences")]);
    expect(r.status).toBe(0);
    const engine = "docker-ce docker-ce-cli docker-ce-rootless-extras";
    expect(r.stdout).toBe(
      `Package: ${engine}\nPin: version 5:29.8.1-*\nPin-Priority: 1001\n\n` +
        `Package: ${engine}\nPin: version *\nPin-Priority: -1\n\n` +
        "Package: containerd.io\nPin: version 2.3.6-*\nPin-Priority: 1001\n\n" +
        "Package: containerd.io\nPin: version *\nPin-Priority: -1\n",
    );
  });

  describe("with apt itself, against a stand-in of Docker's noble repository", () => {
    const ENGINE = ["docker-ce", "docker-ce-cli", "docker-ce-rootless-extras"];
    const build = (version: string) => `${version}-1~ubuntu.24.04~noble`;
    const published = [
      ...ENGINE.flatMap((name) => ["5:28.5.2", "5:29.8.0", "5:29.8.1", "5:29.8.2"].map((v) => [name, build(v)])),
      ...["2.3.5", "2.3.6", "2.3.7"].map((v) => ["containerd.io", build(v)]),
    ];
    const preferences = () => run("bash", ["-c", withTail("user-data", USER_DATA_ENV, "check_env; apt_preferences")]);

    it("installs exactly the pinned versions, although newer ones are published", () => {
      const r = aptSimulate(published, preferences().stdout, [...ENGINE, "containerd.io"]);
      expect(r.stderr).not.toMatch(/^E:/m);
      expect(r.installed).toEqual({
        "containerd.io": build("2.3.6"),
        "docker-ce": build("5:29.8.1"),
        "docker-ce-cli": build("5:29.8.1"),
        "docker-ce-rootless-extras": build("5:29.8.1"),
      });
    });

    it("fails, installing nothing, when the pinned engine version is not published", () => {
      const without = published.filter(([name, version]) => !(name === "docker-ce" && version === build("5:29.8.1")));
      const r = aptSimulate(without, preferences().stdout, [...ENGINE, "containerd.io"]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/docker-ce/);
      expect(r.installed).toEqual({});
    });
  });

  it.each([
    ["DOCKER_VERSION", "29"],
    ["DOCKER_VERSION", "latest"],
    ["CONTAINERD_VERSION", "2.3"],
    ["CONTAINERD_VERSION", "2.3.6-1 *"],
    ["SSH_USER", "ubuntu; rm -rf /"],
    ["LOG_MAX_SIZE", '10m", "live-restore": true, "x": "'],
    ["LOG_MAX_FILE", "0"],
    ["LOG_MAX_FILE", ""],
  ])("refuses %s=%j before changing anything", (key, value) => {
    const env = { ...USER_DATA_ENV, [key]: value };
    const r = run("bash", ["-c", withTail("user-data", env, "check_env; daemon_json")]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(key);
  });
});

describe("parameter checks (before any Docker call)", () => {
  const init = {
    CLUSTER_NAME: "dev",
    ADVERTISE_ADDR: "10.0.1.10",
    TASK_HISTORY_LIMIT: "5",
    AUTOLOCK: "false",
    CERT_EXPIRY: "2160h",
    DEFAULT_ADDR_POOL: "172.20.0.0/16",
  };
  const join = {
    ROLE: "worker",
    MANAGER_ADDRS: "10.0.1.10 10.0.1.11",
    SWARM_JOIN_TOKEN: "SWMTKN-1-0123456789abcdefghijklmnopqrstuvwxyz0123456789abcd-0123456789abcdefghijklmno",
    ADVERTISE_ADDR: "10.0.2.20",
    SWARM_ID: "abcdefghijklmnopqrstuvwxy",
  };

  it.each(Object.keys(init))("swarm-init.sh names the missing %s", (key) => {
    const env: Record<string, string> = { ...init };
    delete env[key];
    const r = runScript("swarm-init", env);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${key} is required`);
  });

  it.each([
    ["AUTOLOCK", "yes"],
    ["TASK_HISTORY_LIMIT", "-1"],
    ["CERT_EXPIRY", "90d"],
    ["CERT_EXPIRY", "2160"],
    ["DEFAULT_ADDR_POOL", "10.0.0.0"],
    ["ADVERTISE_ADDR", "node-1"],
  ])("swarm-init.sh refuses %s=%j", (key, value) => {
    const r = runScript("swarm-init", { ...init, [key]: value });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(key);
  });

  it.each([
    ["2160h", 2160 * 3600],
    ["90h30m", 90 * 3600 + 30 * 60],
    ["2160h0m0s", 2160 * 3600],
    ["45s", 45],
  ])("swarm-init.sh reads the Go duration %s", (duration, seconds) => {
    const r = run("bash", ["-c", withTail("swarm-init", {}, `duration_ns ${duration}`)]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`${seconds}000000000`);
  });

  it("swarm-init.sh's duration_ns and lib/durations.ts accept the same durations, with the same value", () => {
    const max = MAX_CERT_EXPIRY_SECONDS;
    const inputs = [
      ...["2160h", "90h30m", "2160h0m0s", "45s", "1h", "0s", "010h", "1h1h", "00000000000001s", "59m60s"],
      ...[`${max}s`, `${max + 1n}s`, `${max / 3600n}h`, `${max / 3600n + 1n}h`, "2562047h", "9223372036s"],
      ...["99999999999h", "9223372036854775807s", "18446744073709551616s", "1".repeat(30) + "s"],
      ...["", "1", "90d", "1.5h", "1h30", "-1h", "1H", "1 h", "1h ", "h", "1ms", "1us", "1µs", "0x10s", "1_000s"],
    ];
    // One bash for the whole table: one line per input, the nanoseconds or "refused".
    const tail = 'for d in "$@"; do duration_ns "$d" || echo refused; done';
    const r = run("bash", ["-c", withTail("swarm-init", {}, tail), "duration_ns", ...inputs]);
    expect(r.status).toBe(0);
    const expected = inputs.map((text) => {
      const seconds = durationSeconds(text);
      return seconds === undefined || seconds > max ? "refused" : `${seconds * 1_000_000_000n}`;
    });
    expect(r.stdout.split("\n").slice(0, -1)).toEqual(expected);
    // The table reaches both sides of the limit and of the grammar.
    expect(expected.filter((x) => x === "refused").length).toBeGreaterThan(10);
    expect(expected).toContain(`${max * 1_000_000_000n}`);
  });

  it.each(Object.keys(join))("swarm-join.sh names the missing %s", (key) => {
    const env: Record<string, string> = { ...join };
    delete env[key];
    const r = runScript("swarm-join", env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${key} is required`);
    expect(r.stderr).not.toContain(join.SWARM_JOIN_TOKEN);
  });

  it("swarm-join.sh fails at once on a refused token and never prints the token", () => {
    const r = runScript("swarm-join", join, undefined, { FAKE_STATE: "inactive" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("refused the join");
    expect(r.stderr).toContain("SWMTKN-<hidden>");
    expect(r.stderr).not.toContain(join.SWARM_JOIN_TOKEN);
    expect(r.stderr).not.toContain(join.SWARM_JOIN_TOKEN.slice(10, 40));
  });

  it("swarm-join.sh tries each other manager in turn until one accepts, skipping its own address", () => {
    const calls = path.join(stubDir, "calls");
    const env = {
      ...join,
      ROLE: "manager",
      ADVERTISE_ADDR: "10.0.1.12",
      MANAGER_ADDRS: "10.0.1.10 10.0.1.12 10.0.1.11",
    };
    const fake = { FAKE_STATE: "inactive", FAKE_NODE_ID: "fakenode", FAKE_DOWN: "10.0.1.10:2377", FAKE_CALLS: calls };
    const r = runScript("swarm-join", env, undefined, fake);
    expect(r.stderr).toContain("connection refused");
    expect(fs.readFileSync(calls, "utf8").trim().split("\n")).toEqual(["10.0.1.10:2377", "10.0.1.11:2377"]);
    // The stub reports the node active only through its ID, so the manager's cluster check fails last.
    expect(r.stderr).toContain("instead of abcdefghijklmnopqrstuvwxy");
  });

  it("swarm-join.sh refuses an unknown verb", () => {
    const r = runScript("swarm-join", join, "promote");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("usage");
  });

  it("swarm-token.sh refuses an unknown verb", () => {
    const r = runScript("swarm-token", {}, "everything");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("worker|manager|unlock-key");
  });

  it("wait-ready.sh refuses a non-numeric READY_TIMEOUT", () => {
    const r = runScript("wait-ready", { READY_TIMEOUT: "10m" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("READY_TIMEOUT");
  });

  it.each([
    ["apply", { LABELS: "" }, "NODE_ID is required"],
    ["apply", { NODE_ID: "-f", LABELS: "" }, "is not a swarm node ID"],
    ["apply", { NODE_ID: "worker-1", LABELS: "" }, "is not a swarm node ID"],
    ["bogus", { NODE_ID: "abcdefghijklmnopqrstuvwxy" }, "usage"],
  ])("node-member.sh %s refuses %j", (verb, env, message) => {
    const r = runScript("node-member", env as Record<string, string>, verb);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(message);
  });

  it.each([
    ["type", "not key=value"],
    ["=x", "must be non-empty"],
    ["my key=x", "without spaces or commas"],
    ["a,b=x", "without spaces or commas"],
    ["aws-swarm.cluster=x", "reserved"],
    ["aws-swarm.managed-labels=x", "reserved"],
    ["type=a\ntype=b", "given twice"],
  ])("node-member.sh refuses LABELS %j", (labels, message) => {
    const r = run("bash", ["-c", withTail("node-member", { LABELS: labels }, "parse_labels")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(message);
  });

  it("node-member.sh reads LABELS lines, skipping blank ones and keeping '=' in values", () => {
    const labels = "type=low-memory\n\npool=infra\r\nexpr=a=b\n";
    const r = run("bash", [
      "-c",
      withTail(
        "node-member",
        { LABELS: labels },
        `parse_labels; for k in "\${!WANT[@]}"; do printf '%s=%s\\n' "$k" "\${WANT[$k]}"; done | sort`,
      ),
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("expr=a=b\npool=infra\ntype=low-memory\n");
  });
});
