// The harness's own shell (test/harness/*.sh) is held to the node scripts' standard: shellcheck-clean.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const HARNESS_DIR = path.join(__dirname, "harness");
const files = fs
  .readdirSync(HARNESS_DIR)
  .filter((f) => f.endsWith(".sh"))
  .sort();

test("the harness has its shell files (hosts.sh and what it sources)", () => {
  expect(files).toEqual(expect.arrayContaining(["hosts.sh", "hosts-net.sh", "hosts-machines.sh"]));
});

test.each(files)("%s passes shellcheck", (file) => {
  const r = spawnSync("shellcheck", ["--external-sources", path.join(HARNESS_DIR, file)], { encoding: "utf8" });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});
