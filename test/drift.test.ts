import { instanceTypeWarning } from "../lib/drift";

describe("instanceTypeWarning (an instance type is never changed in place)", () => {
  const urn = "urn:pulumi:prod::aws-swarm::aws-swarm:nodes:NodeGroup$aws:ec2/instance:Instance::prod-manager-1";

  it("says nothing when the node runs the configured type", () => {
    expect(
      instanceTypeWarning({ nodeKey: "app-0", role: "worker", actual: "t3.small", configured: "t3.small", urn }),
    ).toBeUndefined();
  });

  it("gives a worker the one-at-a-time --replace procedure with its URN", () => {
    const text = instanceTypeWarning({
      nodeKey: "app-0",
      role: "worker",
      actual: "t3.small",
      configured: "m6i.large",
      urn,
    });
    expect(text).toBe(
      `app-0 runs t3.small, the config says m6i.large: the instance type is not changed in place (every node of the pool would stop at once). Roll the nodes one node at a time: pulumi up --replace '${urn}', wait until 'docker node ls' shows the new node Ready, then the next.`,
    );
  });

  it("tells a manager why: the raft quorum, and one manager at a time", () => {
    const text = instanceTypeWarning({
      nodeKey: "manager-1",
      role: "manager",
      actual: "t3.small",
      configured: "t3.large",
      urn,
    });
    expect(text).toContain("every manager would stop at once and the swarm would lose its raft quorum");
    expect(text).toContain("managers strictly one by one");
  });
});
