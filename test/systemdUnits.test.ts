// The systemd units that scripts/registry-auth.sh installs on managers, checked by Debian's
// `systemd-analyze verify` (no running systemd needed): the harness hosts have no systemd, so
// nothing else would notice a unit that systemd rejects or a directive it ignores.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderScript } from "../lib/scripts";

const UNIT = "aws-swarm-registry-auth";
const MAIN_CALL = 'main "$@"';

/**
 * Runs registry-auth.sh's own `write_units` with every file it writes moved under `root`, so the
 * units are exactly what a manager gets (paths inside them unchanged) and the machine is untouched.
 */
function writeUnitsUnder(root: string): void {
  const script = renderScript("registry-auth", {
    REGISTRY: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    AWS_REGION: "eu-west-1",
    STACK_NAME: "app",
  }).trimEnd();
  expect(script.endsWith(MAIN_CALL)).toBe(true);
  const program = [
    script.slice(0, -MAIN_CALL.length),
    'eval "original_$(declare -f write_if_changed)"',
    'write_if_changed() { original_write_if_changed "$ROOT$1" "$2"; }',
    "systemctl() { :; }",
    "write_units",
  ].join("\n");
  const r = spawnSync("bash", ["-c", program], { env: { ...process.env, ROOT: root }, encoding: "utf8" });
  // Its only output is one log line per file written: the refresh program, the env file and the two units.
  expect(r.status).toBe(0);
  const lines = r.stderr.trim().split("\n");
  expect(lines).toHaveLength(4);
  lines.forEach((line) => expect(line).toMatch(/^registry-auth: wrote \//));
}

describe("registry-auth systemd units", () => {
  let root: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "units-"));
    // verify --root resolves dependencies (sysinit.target, timers.target, …) inside the root.
    fs.cpSync("/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), {
      recursive: true,
      verbatimSymlinks: true,
    });
    writeUnitsUnder(root);
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test("systemd-analyze is installed (install.sh installs systemd)", () => {
    const r = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
    expect(r.stdout).toMatch(/^systemd \d+/);
  });

  test("the service and timer pass `systemd-analyze verify` without a warning", () => {
    expect(fs.readdirSync(path.join(root, "etc/systemd/system")).sort()).toEqual([
      `${UNIT}@.service`,
      `${UNIT}@.timer`,
    ]);
    const r = spawnSync(
      "systemd-analyze",
      ["verify", "--man=no", `--root=${root}`, `${UNIT}@app.service`, `${UNIT}@app.timer`],
      { encoding: "utf8" },
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
  });

  test("a unit systemd would reject fails the same check (the check can fail)", () => {
    const timer = path.join(root, `etc/systemd/system/${UNIT}@.timer`);
    const good = fs.readFileSync(timer, "utf8");
    try {
      fs.writeFileSync(timer, good.replace(/^OnCalendar=.*$/m, "OnCalendar=00/6:61"));
      const r = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, `${UNIT}@app.timer`], {
        encoding: "utf8",
      });
      expect(r.stderr).toMatch(/Failed to parse calendar specification/);
    } finally {
      fs.writeFileSync(timer, good);
    }
  });
});
