import { onHost } from "../program/harnessRun";

/** A row of `docker node ls --format '{{json .}}'`. */
export interface NodeRow {
  ID: string;
  Hostname: string;
  Status: string;
  Availability: string;
  ManagerStatus: string;
}

/** The swarm's nodes as manager `host` of harness `id` lists them. */
export async function nodeList(id: number, host: string): Promise<NodeRow[]> {
  const out = await onHost(id, host, "docker node ls --format '{{json .}}'");
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}
