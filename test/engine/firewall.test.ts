import { firewallRules, INGRESS_RULE, INSTANCE } from "../program/engine/firewall";

describe("packet filters from security groups", () => {
  it("gives each instance its groups' rules, a referenced group as its members' private addresses", () => {
    const rules = firewallRules([
      { type: INSTANCE, machine: "h1", outputs: { privateIp: "10.0.1.10", vpcSecurityGroupIds: ["sg-c", "sg-g"] } },
      { type: INSTANCE, machine: "h2", outputs: { privateIp: "10.0.1.11", vpcSecurityGroupIds: ["sg-c"] } },
      { type: INSTANCE, outputs: { privateIp: "10.0.1.12", vpcSecurityGroupIds: ["sg-c"] } },
      {
        type: INGRESS_RULE,
        outputs: {
          securityGroupId: "sg-c",
          ipProtocol: "tcp",
          fromPort: 2377,
          toPort: 2377,
          referencedSecurityGroupId: "sg-c",
        },
      },
      {
        type: INGRESS_RULE,
        outputs: { securityGroupId: "sg-c", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "203.0.113.10/32" },
      },
      {
        type: INGRESS_RULE,
        outputs: { securityGroupId: "sg-g", ipProtocol: "tcp", fromPort: 80, toPort: 80, cidrIpv4: "0.0.0.0/0" },
      },
      { type: INGRESS_RULE, outputs: { securityGroupId: "sg-c", ipProtocol: "50", referencedSecurityGroupId: "sg-c" } },
    ]);
    expect([...rules.keys()]).toEqual(["h1", "h2"]);
    expect(rules.get("h2")).toEqual([
      { protocol: "tcp", fromPort: 2377, toPort: 2377, sources: ["10.0.1.10/32", "10.0.1.11/32", "10.0.1.12/32"] },
      { protocol: "tcp", fromPort: 22, toPort: 22, sources: ["203.0.113.10/32"] },
      {
        protocol: "50",
        fromPort: undefined,
        toPort: undefined,
        sources: ["10.0.1.10/32", "10.0.1.11/32", "10.0.1.12/32"],
      },
    ]);
    expect(rules.get("h1")).toContainEqual({ protocol: "tcp", fromPort: 80, toPort: 80, sources: ["0.0.0.0/0"] });
  });
});
