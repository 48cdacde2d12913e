import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { emptyState, loadState, markSecretOutputs, saveState } from "../program/engine/state";
import { isSecretValue, SECRET_SIG } from "../program/types";

const secret = (value: unknown) => ({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value });

describe("the state file", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-state-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("stores secrets encrypted under a key file, everything else in plain text, and reads them back", () => {
    const file = path.join(dir, "dev.json");
    const state = emptyState("dev");
    state.resources.push({
      urn: "urn:token",
      type: "command:remote:Command",
      name: "token",
      custom: true,
      id: "1",
      inputs: { connection: secret({ host: "10.0.0.1", privateKey: "-----BEGIN KEY-----" }), create: "token" },
      outputs: markSecretOutputs({ stdout: "SWMTKN-1-abc", stderr: "" }, ["stdout"]),
      dependencies: [],
      propertyDependencies: {},
      options: { ignoreChanges: [], replaceOnChanges: [], additionalSecretOutputs: ["stdout"] },
    });
    saveState(file, state);
    const text = fs.readFileSync(file, "utf8");
    expect(text).not.toMatch(/SWMTKN|BEGIN KEY|10\.0\.0\.1/);
    expect(text).toContain('"create": "token"');
    expect(fs.statSync(`${file}.key`).mode & 0o077).toBe(0);
    const back = loadState(file, "dev").resources[0];
    expect(isSecretValue(back.outputs.stdout)).toBe(true);
    expect(back.outputs.stdout.value).toBe("SWMTKN-1-abc");
    expect(back.inputs.connection.value.host).toBe("10.0.0.1");
    expect(back.outputs.stderr).toBe("");
  });

  it("can't be read with another state's key", () => {
    const file = path.join(dir, "a.json");
    const state = emptyState("a");
    state.pending_operations.push({
      type: "creating",
      resource: { urn: "u", type: "t", name: "n", inputs: { s: secret("x") } },
    });
    saveState(file, state);
    fs.writeFileSync(`${file}.key`, Buffer.alloc(32, 1));
    expect(() => loadState(file, "a")).toThrow();
  });
});
