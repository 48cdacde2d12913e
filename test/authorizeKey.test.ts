import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderScript } from "../lib/scripts";
import { FAKE_SSH_PROLOGUE } from "./support/fakeSsh";

/**
 * scripts/authorize-key.sh with real ED25519 keys and a stand-in `ssh` on PATH: each host is a
 * home directory whose ~/.ssh/authorized_keys decides, as sshd does, whether a key gets in; the
 * remote command then runs with HOME set to it. The real login is exercised by the cluster suites.
 */
const FAKE_SSH = `${FAKE_SSH_PROLOGUE}printf 'args=%s\\n' "$*" >>"$SSH_LOG"
id=$(ssh-keygen -y -f "$key" | awk '{print $1" "$2}')
if ! grep -qF -- "$id" "$HOMES/$host/.ssh/authorized_keys" 2>/dev/null; then
  echo "$USER@$host: Permission denied (publickey)." >&2
  exit 255
fi
HOME=$HOMES/$host exec bash -c "$remote"
`;

describe("authorize-key.sh (rolls a new SSH key onto a running node)", () => {
  let dir: string;
  const keys: Record<string, { privateKey: string; publicKey: string }> = {};

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "authorize-key-"));
    for (const name of ["old", "new", "users"]) {
      const file = path.join(dir, name);
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}@test`, "-f", file]);
      keys[name] = {
        privateKey: fs.readFileSync(file, "utf8"),
        publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim(),
      };
    }
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(path.join(dir, "bin", "ssh"), FAKE_SSH, { mode: 0o755 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A host trusting `trusted` (key names), as ~/.ssh/authorized_keys lines. */
  function host(name: string, trusted: string[]): string {
    const sshDir = path.join(dir, "homes", name, ".ssh");
    fs.mkdirSync(sshDir, { recursive: true });
    fs.writeFileSync(path.join(sshDir, "authorized_keys"), trusted.map((k) => `${keys[k].publicKey}\n`).join(""));
    return path.join(sshDir, "authorized_keys");
  }

  function run(hostName: string, previous?: string) {
    const log = path.join(dir, `${hostName}.log`);
    const result = spawnSync("bash", ["-c", renderScript("authorize-key"), "authorize-key"], {
      encoding: "utf8",
      env: {
        PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
        HOMES: path.join(dir, "homes"),
        SSH_LOG: log,
        HOST: hostName,
        SSH_USER: "ubuntu",
        SSH_PRIVATE_KEY: keys.new.privateKey,
        SSH_PUBLIC_KEY: keys.new.publicKey,
        DIAL_TIMEOUT: "1",
        ...(previous ? { PULUMI_COMMAND_STDOUT: previous.trimEnd() } : {}),
      },
    });
    return { ...result, calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "" };
  }

  it("changes nothing on a node that trusts the current key, and prints that key", () => {
    const file = host("h1", ["new", "users"]);
    const before = fs.readFileSync(file, "utf8");
    const r = run("h1");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(keys.new.privateKey);
    expect(fs.readFileSync(file, "utf8")).toBe(before);
  });

  it("logs in with the previous key, trusts the new one instead, and keeps keys it never set", () => {
    const file = host("h2", ["old", "users"]);
    const r = run("h2", keys.old.privateKey);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("h2 refuses the current key and accepts the previous one: rolling the key");
    expect(r.stdout).toBe(keys.new.privateKey);
    const after = fs.readFileSync(file, "utf8");
    expect(after).toContain(keys.new.publicKey);
    expect(after).toContain(keys.users.publicKey);
    expect(after).not.toContain(keys.old.publicKey.split(" ")[1]);
    expect(r.calls).not.toMatch(/PRIVATE KEY|args=.*AAAA/);
  });

  it("finishes an interrupted roll: both keys trusted → the previous one goes", () => {
    const file = host("h3", ["old", "new"]);
    const r = run("h3", keys.old.privateKey);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe(`${keys.new.publicKey}\n`);
  });

  it("fails naming the node when it trusts neither key before the deadline", () => {
    host("h4", ["users"]);
    const r = run("h4", keys.old.privateKey);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/h4 accepted neither the current nor the previous SSH key within 1s/);
  });
});
