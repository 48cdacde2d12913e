import { instanceTypeWarning } from "../lib/drift";

describe("instanceTypeWarning (an instance type is never changed by pulumi up)", () => {
  const node = { instanceId: "i-0abc", actual: "t3.small" };

  it("says nothing when the node runs the configured type", () => {
    expect(instanceTypeWarning({ ...node, nodeKey: "app-0", role: "worker", configured: "t3.small" })).toBeUndefined();
  });

  it("names the worker, its instance and the README procedure, one node at a time", () => {
    const text = instanceTypeWarning({ ...node, nodeKey: "app-0", role: "worker", configured: "m6i.large" });
    expect(text).toBe(
      `app-0 (i-0abc) runs t3.small, the config says m6i.large: the instance type is not changed by pulumi up (every node of the pool would stop at once). Roll the nodes one node at a time as the README says ("Changing an instance type": drain, stop, modify, start, activate), then pulumi refresh.`,
    );
  });

  it("tells a manager why: the raft quorum, and one manager at a time", () => {
    const text = instanceTypeWarning({ ...node, nodeKey: "manager-1", role: "manager", configured: "t3.large" });
    expect(text).toContain("every manager would stop at once and the swarm would lose its raft quorum");
    expect(text).toContain("managers strictly one by one");
  });
});
