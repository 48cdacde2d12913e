import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderScript } from "../lib/scripts";
import { FAKE_SSH_PROLOGUE } from "./support/fakeSsh";

/**
 * scripts/any-manager.sh with a stand-in `ssh` on PATH: the stand-in logs its arguments and the
 * key file it was given, refuses the hosts listed in UNREACHABLE (exit 255, as OpenSSH does), and
 * runs the piped script with bash for the others, with FAKE_HOST set, so that a node script can
 * behave per manager. The real dial is exercised by the cluster suites.
 */
const FAKE_SSH = `${FAKE_SSH_PROLOGUE}{
  printf 'host=%s remote=%s key_mode=%s key=%s args=%s\\n' "$host" "$remote" "$(stat -c %a "$key")" "$(cat "$key")" "$*"
  printf 'keyfile=%s\\n' "$key"
} >>"$SSH_LOG"
for down in $UNREACHABLE; do
  if [[ $host == "$down" ]]; then echo "ssh: connect to host $host port 22: Connection timed out" >&2; exit 255; fi
done
FAKE_HOST=$host exec bash -s \${remote#sudo bash -s}
`;

/** The node script: "not here" on 198.51.100.2, fails on 198.51.100.9, else prints where it ran. */
const NODE_SCRIPT = `
case $FAKE_HOST in
  198.51.100.2) echo "probe: not here: no quorum" >&2; exit 75 ;;
  198.51.100.9) echo "probe: error: compose file invalid" >&2; exit 1 ;;
esac
echo "on $FAKE_HOST control=$CONTROL_ADDR verb=\${1:-} previous=\${PREVIOUS_STDOUT:-}"
`;

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-key-body\n-----END OPENSSH PRIVATE KEY-----";

describe("any-manager.sh (runs a swarm-wide step on the first manager that can)", () => {
  let dir: string;
  let log: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "any-manager-"));
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(path.join(dir, "bin", "ssh"), FAKE_SSH, { mode: 0o755 });
    log = path.join(dir, "ssh.log");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(managers: string, args: string[], env: Record<string, string> = {}) {
    const result = spawnSync("bash", ["-c", renderScript("any-manager"), "any-manager", ...args], {
      input: NODE_SCRIPT,
      encoding: "utf8",
      env: {
        PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
        MANAGERS: managers,
        SSH_USER: "ubuntu",
        SSH_PRIVATE_KEY: KEY,
        SSH_LOG: log,
        UNREACHABLE: "198.51.100.1 198.51.100.3",
        ...env,
      },
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
    return { ...result, calls };
  }

  it("skips an unreachable manager and one that says 'not here', and runs on the next with its private address", () => {
    const r = run("198.51.100.1=10.0.0.1 198.51.100.2=10.0.0.2 198.51.100.4=10.0.0.4 198.51.100.5=10.0.0.5", ["apply"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("on 198.51.100.4 control=10.0.0.4 verb=apply previous=\n");
    expect(r.stderr).toMatch(/manager 198\.51\.100\.1 cannot run this step; trying the next one/);
    expect(r.stderr).toMatch(/probe: not here: no quorum/);
    // Tried in config order, and not past the first success.
    expect([...r.calls.matchAll(/^host=(\S+)/gm)].map((m) => m[1])).toEqual([
      "198.51.100.1",
      "198.51.100.2",
      "198.51.100.4",
    ]);
  });

  it("keeps the key off every command line, in a 0600 file that is removed afterwards", () => {
    const r = run("198.51.100.4=10.0.0.4", []);
    expect(r.status).toBe(0);
    expect(r.calls).toMatch(/key_mode=600 key=-----BEGIN OPENSSH PRIVATE KEY-----/);
    expect(r.calls).not.toMatch(/args=.*secret-key-body/);
    const keyFile = /^keyfile=(\S+)$/m.exec(r.calls)![1];
    expect(fs.existsSync(keyFile)).toBe(false);
  });

  it("does not retry a real failure on another manager", () => {
    const r = run("198.51.100.9=10.0.0.9 198.51.100.4=10.0.0.4", ["deploy"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/compose file invalid/);
    expect(r.stderr).toMatch(/the step failed on manager 198\.51\.100\.9 \(exit 1/);
    expect(r.calls).not.toMatch(/host=198\.51\.100\.4/);
  });

  it("fails naming every manager when none can run a create or update", () => {
    const r = run("198.51.100.1=10.0.0.1 198.51.100.2=10.0.0.2", ["apply"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /no manager could run this step: 198\.51\.100\.1: unreachable; 198\.51\.100\.2: probe: not here: no quorum; /,
    );
  });

  it("with --or-skip (delete steps), reports that no manager answered and exits 0", () => {
    const r = run("198.51.100.1=10.0.0.1 198.51.100.3=10.0.0.3", ["--or-skip", "remove"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/warning: no manager could run this step, so it is skipped/);
  });

  it("hands the provider's previous stdout to the node script as PREVIOUS_STDOUT", () => {
    const r = run("198.51.100.4=10.0.0.4", [], { PULUMI_COMMAND_STDOUT: "swarm-id-123" });
    expect(r.stdout).toBe("on 198.51.100.4 control=10.0.0.4 verb= previous=swarm-id-123\n");
  });

  it("refuses a MANAGERS entry that is not public=private", () => {
    const r = run("198.51.100.4", []);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/MANAGERS entry '198\.51\.100\.4' is not public=private/);
  });
});
