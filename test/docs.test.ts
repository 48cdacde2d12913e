import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

/** The bold step names of the README's numbered list under "How the swarm is formed". */
function readmeSteps(): string[] {
  const section = read("README.md")
    .split(/^## How the swarm is formed$/m)[1]
    .split(/^## /m)[0];
  return [...section.matchAll(/^\d+\. \*\*(\w+)\*\*/gm)].map((m) => m[1]);
}

/** The steps SwarmCluster's constructor calls, in call order (`this.<step>(`). */
function constructorSteps(): string[] {
  const source = read("components/swarmCluster.ts");
  const body = source.split(/^\s*constructor\(/m)[1].split(/^\s*registerOutputs|this\.registerOutputs/m)[0];
  const privates = new Set([...source.matchAll(/^\s*private (\w+)\(/gm)].map((m) => m[1]));
  return [...body.matchAll(/this\.(\w+)\(/g)].map((m) => m[1]).filter((name) => privates.has(name));
}

describe("README and code tell the same formation sequence", () => {
  test("steps 1-6 of 'How the swarm is formed' are SwarmCluster's named steps, in the order it runs them", () => {
    const steps = readmeSteps();
    expect(steps.slice(0, 6)).toEqual(constructorSteps());
  });

  test("the last step, deploy, is StackDeployment's", () => {
    expect(readmeSteps().slice(6)).toEqual(["deploy"]);
    expect(read("components/stackDeployment.ts")).toMatch(/docker stack deploy|deploy-stack/);
  });
});
