import { unknown } from "@pulumi/pulumi/output";
import { DIFF_RULES, diffInputs } from "../program/engine/diffRules";
import { SECRET_SIG } from "../program/types";

const COMMAND = "command:remote:Command";
const INSTANCE = "aws:ec2/instance:Instance";
const secret = (value: unknown) => ({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value });

describe("the diff table", () => {
  it("cites a source for every resource type", () => {
    for (const [type, rule] of Object.entries(DIFF_RULES)) {
      expect(`${type}: ${rule.source}`).toMatch(/: .*(\.go|schema\.json)/);
    }
  });

  it("replaces a command on a triggers change and updates it on any other input change", () => {
    const old = { create: "a", stdin: "x", triggers: ["i-1"] };
    expect(diffInputs(COMMAND, old, { ...old, triggers: ["i-2"] }).replaceBecause).toEqual(["triggers"]);
    const stdin = diffInputs(COMMAND, old, { ...old, stdin: "y" });
    expect(stdin).toMatchObject({ changed: ["stdin"], replaceBecause: [] });
    expect(diffInputs(COMMAND, old, { ...old }).changed).toEqual([]);
  });

  it("compares secret inputs by value, not by envelope", () => {
    const old = { connection: secret({ host: "10.0.0.1" }) };
    expect(diffInputs(COMMAND, old, { connection: secret({ host: "10.0.0.1" }) }).changed).toEqual([]);
    expect(diffInputs(COMMAND, old, { connection: secret({ host: "10.0.0.2" }) }).changed).toEqual(["connection"]);
  });

  it("replaces an instance on ami, keyName, subnetId or an encrypted root volume, and stops/starts it for instanceType", () => {
    const old = {
      ami: "ami-1",
      keyName: "k1",
      subnetId: "s1",
      instanceType: "t3.small",
      tags: { a: "1" },
      rootBlockDevice: { encrypted: true, volumeSize: 20 },
    };
    for (const key of ["ami", "keyName", "subnetId"]) {
      expect(diffInputs(INSTANCE, old, { ...old, [key]: "other" }).replaceBecause).toEqual([key]);
    }
    expect(
      diffInputs(INSTANCE, old, { ...old, rootBlockDevice: { encrypted: false, volumeSize: 20 } }).replaceBecause,
    ).toEqual(["rootBlockDevice.encrypted"]);
    expect(diffInputs(INSTANCE, old, { ...old, rootBlockDevice: { encrypted: true, volumeSize: 30 } })).toMatchObject({
      changed: ["rootBlockDevice"],
      replaceBecause: [],
    });
    expect(diffInputs(INSTANCE, old, { ...old, instanceType: "t3.large", tags: { a: "2" } })).toMatchObject({
      changed: ["instanceType", "tags"],
      replaceBecause: [],
    });
  });

  it("replaces an instance on userData only with userDataReplaceOnChange", () => {
    const old = { userData: "a" };
    expect(diffInputs(INSTANCE, old, { userData: "b" }).replaceBecause).toEqual([]);
    expect(
      diffInputs(INSTANCE, { ...old, userDataReplaceOnChange: true }, { userData: "b", userDataReplaceOnChange: true })
        .replaceBecause,
    ).toEqual(["userData"]);
  });

  it("keeps the old value of an ignoreChanges property and honours replaceOnChanges", () => {
    const diff = diffInputs(
      INSTANCE,
      { ami: "ami-1", tags: {} },
      { ami: "ami-2", tags: {} },
      { ignoreChanges: ["ami"] },
    );
    expect(diff).toMatchObject({ changed: [], replaceBecause: [], inputs: { ami: "ami-1" } });
    expect(
      diffInputs(INSTANCE, { tags: { a: "1" } }, { tags: { a: "2" } }, { replaceOnChanges: ["tags"] }).replaceBecause,
    ).toEqual(["tags"]);
  });

  it("ignores one key of a map by property path, keeping the old value or leaving a new key out", () => {
    const ignoreChanges = ['tags["docker-version"]', "tags.containerd"];
    const diff = diffInputs(
      INSTANCE,
      { tags: { Name: "a", "docker-version": "29.8.1" } },
      { tags: { Name: "b", "docker-version": "29.9.0", containerd: "2.3.7" } },
      { ignoreChanges },
    );
    expect(diff.inputs.tags).toEqual({ Name: "b", "docker-version": "29.8.1" });
    expect(diff.changed).toEqual(["tags"]);
    const same = diffInputs(
      INSTANCE,
      { tags: { Name: "a", "docker-version": "29.8.1" } },
      { tags: { Name: "a", "docker-version": "29.9.0" } },
      { ignoreChanges },
    );
    expect(same.changed).toEqual([]);
  });

  it("replaces on key pair publicKey, subnet cidr/AZ, VPC cidr; updates security group rules in place", () => {
    expect(diffInputs("aws:ec2/keyPair:KeyPair", { publicKey: "a" }, { publicKey: "b" }).replaceBecause).toEqual([
      "publicKey",
    ]);
    expect(
      diffInputs(
        "aws:ec2/subnet:Subnet",
        { cidrBlock: "a", availabilityZone: "x" },
        { cidrBlock: "b", availabilityZone: "y" },
      ).replaceBecause,
    ).toEqual(["availabilityZone", "cidrBlock"]);
    expect(diffInputs("aws:ec2/vpc:Vpc", { cidrBlock: "a" }, { cidrBlock: "b" }).replaceBecause).toEqual(["cidrBlock"]);
    const rule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
    expect(
      diffInputs(rule, { fromPort: 1, securityGroupId: "g" }, { fromPort: 2, securityGroupId: "g" }),
    ).toMatchObject({ changed: ["fromPort"], replaceBecause: [] });
    expect(diffInputs(rule, { securityGroupId: "g" }, { securityGroupId: "h" }).replaceBecause).toEqual([
      "securityGroupId",
    ]);
  });

  it("rebuilds an image on a build change but ignores fresh registry credentials", () => {
    const image = "docker:index/image:Image";
    const old = { build: { context: "a" }, registry: { server: "r", password: secret("p1") } };
    expect(diffInputs(image, old, { ...old, registry: { server: "r", password: secret("p2") } }).changed).toEqual([]);
    expect(diffInputs(image, old, { ...old, build: { context: "b" } })).toMatchObject({
      changed: ["build"],
      replaceBecause: [],
    });
  });

  it("counts an unknown value (preview) as a change, and as a replacement on a replace path", () => {
    const old = { triggers: ["i-1"], stdin: "x" };
    expect(diffInputs(COMMAND, old, { triggers: [unknown], stdin: "x" }).replaceBecause).toEqual(["triggers"]);
    expect(diffInputs(COMMAND, old, { triggers: ["i-1"], stdin: unknown })).toMatchObject({
      changed: ["stdin"],
      replaceBecause: [],
    });
  });
});
