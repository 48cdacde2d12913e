import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../lib/config";
import program = require("../index");
import { ADMIN, BadConfig } from "./badConfig/case";
import { gatewayCases } from "./badConfig/gateway";
import { networkCases } from "./badConfig/network";
import { nodesCases } from "./badConfig/nodes";
import { pathsTextCases } from "./badConfig/pathsText";
import { stackCases } from "./badConfig/stack";
import { swarmCases } from "./badConfig/swarm";

// Every bad config is refused by the program itself (index.ts, under Pulumi's mocks), with one
// problem naming the key, before it registers any resource or asks the provider anything.

const cases: BadConfig[] = [
  ...nodesCases,
  ...networkCases,
  ...gatewayCases,
  ...stackCases,
  ...swarmCases,
  ...pathsTextCases,
];

/** What the program asked of Pulumi: resources registered and provider functions invoked. */
const seen = { resources: 0, invokes: 0 };
const mocks: pulumi.runtime.Mocks = {
  newResource: (args) => {
    seen.resources++;
    return { id: `${args.name}-id`, state: args.inputs };
  },
  call: (args) => {
    seen.invokes++;
    return args.inputs;
  },
};

/** The stack's config as the language host hands it over: strings, objects and lists as JSON. */
function setConfig(raw: Record<string, unknown>): void {
  const config: Record<string, string> = { "aws:region": "us-east-1" };
  for (const [key, value] of Object.entries(raw)) {
    if (value !== undefined) {
      config[`aws-swarm:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  pulumi.runtime.setAllConfig(config);
}

/** Lets anything the program started but did not await reach the mocks. */
const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

beforeAll(() => pulumi.runtime.setMocks(mocks, "aws-swarm", "dev", false));

it(`has at least 130 cases, each with its own name and a problem starting with the key`, () => {
  expect(cases.length).toBeGreaterThanOrEqual(130);
  expect(new Set(cases.map(([what]) => what)).size).toBe(cases.length);
  expect(cases.filter(([, , problem]) => !problem.source.startsWith("^aws-swarm:"))).toEqual([]);
});

it.each(cases)("refuses %s, before any resource or invoke", async (_what, raw, problem) => {
  seen.resources = 0;
  seen.invokes = 0;
  setConfig({ adminCidrs: ADMIN, ...raw });
  const error = await program().then(
    () => undefined,
    (e: unknown) => e,
  );
  await ticks(3);
  expect(error).toBeInstanceOf(ConfigError);
  const { problems, message } = error as ConfigError;
  expect(problems).toEqual([expect.stringMatching(problem)]);
  expect(message).toContain(`\n  - ${problems[0]}`);
  expect(seen).toEqual({ resources: 0, invokes: 0 });
});

it("counts what the program asks for: with a valid config it invokes the provider (a control)", async () => {
  seen.resources = 0;
  seen.invokes = 0;
  setConfig({ adminCidrs: ADMIN });
  await program().catch(() => undefined);
  await ticks(3);
  expect(seen.invokes).toBeGreaterThan(0);
});
