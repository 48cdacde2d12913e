import { ProgramResult, RecordedResource } from "./types";

/** The smallest config that describes the dev cluster of the user's notes. */
export function devConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    adminCidrs: ["81.2.69.160/32"],
    workerPools: [
      { name: "infra", count: 1, labels: { type: "low-memory" } },
      { name: "app", count: 2 },
    ],
    gateway: { routes: [{ path: "/hello", service: "hello", port: 8080 }] },
    images: [{ name: "echo", context: "services/echo" }],
    ...extra,
  };
}

export function ofType(result: ProgramResult, type: string): RecordedResource[] {
  return result.resources.filter((r) => r.type === type);
}

export function named(result: ProgramResult, name: string): RecordedResource {
  const found = result.resources.find((r) => r.name === name);
  if (!found) {
    throw new Error(`no resource named ${name}; have ${result.resources.map((r) => r.name).join(", ")}`);
  }
  return found;
}
