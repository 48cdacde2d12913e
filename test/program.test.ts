import { NODE_SOFTWARE } from "../lib/clusterPlan";
import { devConfig, named, ofType } from "./program/fixtures";
import { runProgram } from "./program/runner";
import { isSecretValue, ProgramResult, unwrapSecrets } from "./program/types";

const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const INSTANCE = "aws:ec2/instance:Instance";
const COMMAND = "command:remote:Command";
/** Swarm-wide steps: local commands that run scripts/any-manager.sh. */
const CONTROL = "command:local:Command";
const onAnyManager = (verb: string) => `bash -c "$AWS_SWARM_ANY_MANAGER" any-manager ${verb}`;

describe("the dev cluster, offline", () => {
  let dev: ProgramResult;
  beforeAll(async () => {
    dev = await runProgram({ stack: "dev", config: devConfig() });
    if (!dev.ok) throw new Error(dev.error);
  });

  it("opens swarm ports only inside the cluster group, SSH only to admins, the gateway port only to the load balancer", () => {
    const groups = ["cluster", "gateway", "loadBalancer"];
    const groupOf = (id: string) => groups.find((g) => named(dev, `dev-${g}`).state.id === id) ?? "?";
    const table = ofType(dev, INGRESS)
      .map((r) => {
        const i = r.inputs;
        const source = i.cidrIpv4 ?? groupOf(i.referencedSecurityGroupId);
        return `${groupOf(i.securityGroupId)} ${i.ipProtocol}/${i.fromPort ?? "-"}-${i.toPort ?? "-"} from ${source}`;
      })
      .sort();
    expect(table).toEqual([
      "cluster tcp/22-22 from 81.2.69.160/32",
      "cluster tcp/2377-2377 from cluster",
      "cluster tcp/7946-7946 from cluster",
      "cluster udp/4789-4789 from cluster",
      "cluster udp/7946-7946 from cluster",
      "gateway tcp/80-80 from loadBalancer",
      "loadBalancer tcp/80-80 from 0.0.0.0/0",
    ]);
    for (const rule of ofType(dev, INGRESS)) {
      expect(rule.inputs.description.length).toBeGreaterThan(20);
    }
  });

  it("records Docker and containerd versions on each instance as created: later pins don't rewrite them", () => {
    expect(NODE_SOFTWARE).toEqual({ "docker-version": "29.8.1", "containerd-version": "2.3.6" });
    for (const { options } of ofType(dev, INSTANCE)) {
      expect(options?.ignoreChanges).toEqual(
        expect.arrayContaining(["userData", 'tags["docker-version"]', 'tags["containerd-version"]']),
      );
    }
  });

  it("attaches the gateway group only to the nodes that run the gateway (the managers by default)", () => {
    const gatewayGroup = named(dev, "dev-gateway").state.id;
    const withGateway = ofType(dev, INSTANCE)
      .filter((r) => r.inputs.vpcSecurityGroupIds.includes(gatewayGroup))
      .map((r) => r.name);
    expect(withGateway).toEqual(["dev-manager-0"]);
  });

  it("builds hardened instances: IMDSv2, encrypted gp3 root, key pair, profile, tags, basic monitoring", () => {
    const instances = ofType(dev, INSTANCE);
    expect(instances.map((r) => r.name).sort()).toEqual(["dev-app-0", "dev-app-1", "dev-infra-0", "dev-manager-0"]);
    for (const { inputs, name } of instances) {
      expect(inputs.metadataOptions).toMatchObject({ httpTokens: "required", httpEndpoint: "enabled" });
      expect(inputs.rootBlockDevice).toMatchObject({ encrypted: true, volumeType: "gp3", volumeSize: 20 });
      expect(inputs.keyName).toBeTruthy();
      expect(inputs.iamInstanceProfile).toBeTruthy();
      expect(inputs.monitoring).toBe(false);
      expect(inputs.tags).toMatchObject({ Name: name, cluster: "dev", ...NODE_SOFTWARE });
      expect(inputs.tags.role).toBe(name === "dev-manager-0" ? "manager" : "worker");
    }
    expect(named(dev, "dev-app-1").inputs.tags.pool).toBe("app");
  });

  it("keeps secrets out of user data", () => {
    for (const { inputs } of ofType(dev, INSTANCE)) {
      expect(inputs.userData).toMatch(/^#!/);
      expect(inputs.userData).not.toMatch(/SWMTKN|PRIVATE KEY|SWMKEY/);
    }
  });

  it("spreads each pool round-robin over the AZs that offer its types (us-east-1b, use1-az3, has no t3)", () => {
    const subnetOf = (name: string) => named(dev, name).inputs.subnetId;
    expect(subnetOf("dev-app-0")).not.toEqual(subnetOf("dev-app-1"));
    expect(subnetOf("dev-manager-0")).toEqual(subnetOf("dev-app-0"));
    const azs = ofType(dev, "aws:ec2/subnet:Subnet").map((s) => s.inputs.availabilityZone);
    expect(azs).toEqual(["us-east-1a", "us-east-1c"]);
  });

  it("gives the managers an Elastic IP and dials them, and only them, by it", () => {
    const eips = ofType(dev, "aws:ec2/eip:Eip");
    expect(eips.map((e) => e.name)).toEqual(["dev-manager-0-eip"]);
    expect(eips[0].inputs).toMatchObject({ domain: "vpc", instance: named(dev, "dev-manager-0").state.id });
    const managerIp = eips[0].state.publicIp;
    expect(managerIp).not.toBe(named(dev, "dev-manager-0").state.publicIp);
    const hostOf = (name: string) => unwrapSecrets(named(dev, name).inputs).connection.host;
    expect(hostOf("dev-ready-manager-0")).toBe(managerIp);
    expect(hostOf("dev-ready-app-0")).toBe(named(dev, "dev-app-0").state.publicIp);
    expect(unwrapSecrets(named(dev, "dev-authorize-manager-0").inputs).environment.HOST).toBe(managerIp);
    expect(unwrapSecrets(named(dev, "dev-init").inputs).environment.MANAGERS).toBe(
      `${managerIp}=${named(dev, "dev-manager-0").state.privateIp}`,
    );
    expect(dev.outputs.managerPublicIps).toEqual([managerIp]);
    expect(dev.outputs.ssh).toContain(`@${managerIp}`);
    expect(dev.outputs.gatewayUrls).toBeUndefined();
  });

  it("exports IPs, ssh and DOCKER_HOST lines, and the generated private key only as a secret", () => {
    expect(dev.outputs).toMatchObject({
      managerPublicIps: [expect.any(String)],
      workerIps: {
        infra: { public: [expect.any(String)] },
        app: { private: [expect.any(String), expect.any(String)] },
      },
      vpcId: expect.any(String),
    });
    expect(dev.outputs.dockerHost).toMatch(/^DOCKER_HOST=ssh:\/\/ubuntu@[\d.]+$/);
    expect(dev.outputs.ssh).toMatch(/^ssh -i ~\/\.ssh\/dev\.pem ubuntu@[\d.]+$/);
    expect(dev.secretOutputs).toContain("sshPrivateKey");
    const plain = JSON.stringify(
      Object.fromEntries(Object.entries(dev.outputs).filter(([k]) => !dev.secretOutputs.includes(k))),
    );
    expect(plain).not.toMatch(/SWMTKN|PRIVATE KEY/);
  });

  it("fetches join tokens without logging them and passes them only inside secret inputs", () => {
    for (const role of ["worker", "manager"]) {
      expect(named(dev, `dev-token-${role}`).inputs).toMatchObject({ logging: "none", create: onAnyManager(role) });
    }
    const joins = ofType(dev, COMMAND).filter((r) => r.name.includes("-join-"));
    expect(joins).toHaveLength(4);
    for (const join of joins) {
      expect(isSecretValue(join.inputs.stdin)).toBe(true);
      expect(unwrapSecrets(join.inputs.stdin)).toMatch(/SWARM_JOIN_TOKEN='SWMTKN-1-offline-(worker|manager)'/);
      expect(join.inputs.create).toBe("sudo bash -s");
    }
  });

  it("labels every node from its pool plus the automatic labels, and can remove every node", () => {
    const member = unwrapSecrets(named(dev, "dev-member-infra-0").inputs);
    expect(member.create).toBe(onAnyManager("apply"));
    expect(member.delete).toBe(onAnyManager("--or-skip remove"));
    expect(member.stdin).toContain("export NODE_ID='node-infra-0'");
    expect(member.stdin).toContain(
      "export LABELS='az=us-east-1a\ninstance-type=t3.small\npool=infra\nrole=worker\ntype=low-memory'",
    );
    const managerLabels = unwrapSecrets(named(dev, "dev-member-manager-0").inputs).stdin;
    expect(managerLabels).toContain("aws-swarm.gateway=true");
    const members = ofType(dev, CONTROL).filter((r) => r.name.includes("-member-"));
    expect(members.map((m) => m.inputs.delete)).toEqual(members.map(() => onAnyManager("--or-skip remove")));
  });

  it("ties node commands to their instance so a replaced instance rejoins", () => {
    const instanceId = named(dev, "dev-app-0").state.id;
    expect(named(dev, "dev-ready-app-0").inputs.triggers).toEqual([instanceId]);
    expect(named(dev, "dev-join-app-0").inputs.triggers).toEqual([instanceId]);
    expect(named(dev, "dev-member-app-0").inputs.triggers).toEqual(["node-app-0"]);
  });
});

describe("command ordering, with commands that take time", () => {
  let prod: ProgramResult;
  beforeAll(async () => {
    prod = await runProgram({
      stack: "prod",
      config: devConfig({
        managers: { count: 3 },
        availabilityZones: 3,
        workerPools: [{ name: "app", count: 4 }],
        detailedMonitoring: true,
      }),
      commandDelayMs: 300,
    });
    if (!prod.ok) throw new Error(prod.error);
  });
  const commands = () => [...ofType(prod, COMMAND), ...ofType(prod, CONTROL)];

  it("initialises once, after every node is ready and before any join", () => {
    const init = named(prod, "prod-init");
    expect(commands().filter((c) => c.name.endsWith("-init"))).toHaveLength(1);
    for (const ready of commands().filter((c) => c.name.includes("-ready-"))) {
      expect(ready.finishedAt!).toBeLessThanOrEqual(init.startedAt);
    }
    for (const join of commands().filter((c) => c.name.includes("-join-"))) {
      expect(join.startedAt).toBeGreaterThanOrEqual(init.finishedAt!);
    }
  });

  it("joins managers one at a time and workers all at once", () => {
    const joins = (prefix: string) =>
      [0, 1, 2, 3]
        .map((i) => prod.resources.find((r) => r.name === `prod-join-${prefix}-${i}`))
        .filter(Boolean) as typeof prod.resources;
    const managers = joins("manager");
    expect(managers).toHaveLength(3);
    expect(managers[1].startedAt).toBeGreaterThanOrEqual(managers[0].finishedAt!);
    expect(managers[2].startedAt).toBeGreaterThanOrEqual(managers[1].finishedAt!);
    const workers = joins("app");
    const lastStart = Math.max(...workers.map((w) => w.startedAt));
    const firstEnd = Math.min(...workers.map((w) => w.finishedAt!));
    expect(lastStart).toBeLessThan(firstEnd);
  });

  it("turns on detailed monitoring of every instance when configured", () => {
    const instances = ofType(prod, INSTANCE);
    expect(instances).toHaveLength(7);
    expect(instances.every((r) => r.inputs.monitoring === true)).toBe(true);
  });

  it("labels a node only after it joined", () => {
    for (const member of commands().filter((c) => c.name.includes("-member-"))) {
      const join = named(prod, member.name.replace("-member-", "-join-"));
      expect(member.startedAt).toBeGreaterThanOrEqual(join.finishedAt!);
    }
  });

  it("deploys the gateway only after every node joined and was labelled, then infra, then app, each after the one before", () => {
    const [gateway, infra, app] = ["prod-gateway-deploy", "prod-stack-infra-deploy", "prod-stack-app-deploy"].map(
      (name) => named(prod, name),
    );
    for (const member of commands().filter((c) => c.name.includes("-member-"))) {
      expect(gateway.startedAt).toBeGreaterThanOrEqual(member.finishedAt!);
    }
    expect(infra.startedAt).toBeGreaterThanOrEqual(gateway.finishedAt!);
    expect(app.startedAt).toBeGreaterThanOrEqual(infra.finishedAt!);
  });

  it("hands the built image by digest only to the stack whose file names it", () => {
    const stdinOf = (name: string) => String(unwrapSecrets(named(prod, name).inputs.stdin));
    expect(stdinOf("prod-stack-app-deploy")).toMatch(/ECHO_IMAGE=[^\n]*\/prod\/echo@sha256:[0-9a-f]{64}/);
    expect(stdinOf("prod-stack-infra-deploy")).not.toMatch(/ECHO_IMAGE/);
    expect(unwrapSecrets(named(prod, "prod-stack-app-deploy").inputs.triggers)).toHaveLength(3);
  });

  it("registers each gateway node with the load balancer only after every node joined and was labelled", () => {
    const targets = ofType(prod, "aws:lb/targetGroupAttachment:TargetGroupAttachment");
    expect(targets.map((t) => t.name).sort()).toEqual([
      "prod-target-manager-0",
      "prod-target-manager-1",
      "prod-target-manager-2",
    ]);
    for (const target of targets) {
      for (const member of commands().filter((c) => c.name.includes("-member-"))) {
        expect(target.startedAt).toBeGreaterThanOrEqual(member.finishedAt!);
      }
    }
  });

  it("boots every instance only after every security-group rule and route-table association exists", () => {
    const reachability = prod.resources.filter((r) =>
      [
        INGRESS,
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
      ].includes(r.type),
    );
    expect(reachability.map((r) => r.type)).toEqual(
      expect.arrayContaining([INGRESS, "aws:ec2/routeTableAssociation:RouteTableAssociation"]),
    );
    for (const instance of ofType(prod, INSTANCE)) {
      expect(instance.dependencies).toEqual(expect.arrayContaining(reachability.map((r) => r.urn)));
    }
  });

  it("puts three managers in three AZs", () => {
    const subnets = ["prod-manager-0", "prod-manager-1", "prod-manager-2"].map((n) => named(prod, n).inputs.subnetId);
    expect(new Set(subnets).size).toBe(3);
  });
});

describe("command ordering without built images (no registry-auth step to wait behind)", () => {
  it("deploys the gateway only after every node joined and was labelled", async () => {
    const result = await runProgram({
      stack: "dev",
      config: devConfig({ images: [], workerPools: [{ name: "app", count: 2 }], stacks: [] }),
      commandDelayMs: 300,
    });
    if (!result.ok) throw new Error(result.error);
    const members = result.resources.filter((r) => r.name.includes("-member-"));
    expect(members).toHaveLength(3);
    const gateway = named(result, "dev-gateway-deploy");
    for (const member of members) {
      expect(gateway.startedAt).toBeGreaterThanOrEqual(member.finishedAt!);
    }
  });
});

describe("scale", () => {
  it("adds a constant number of resources per worker", async () => {
    const count = async (workers: number) => {
      const result = await runProgram({
        stack: "dev",
        config: devConfig({ workerPools: [{ name: "app", count: workers }] }),
      });
      if (!result.ok) throw new Error(result.error);
      return result.resources.length;
    };
    const [three, thirty] = [await count(3), await count(30)];
    // An instance and four commands (authorize, ready, join, member) per worker, nothing else.
    expect((thirty - three) / 27).toBe(5);
  });
});

describe("autolock", () => {
  it("exports the unlock key only as a secret, fetched without logging", async () => {
    const result = await runProgram({ stack: "dev", config: devConfig({ swarm: { autolock: true } }) });
    if (!result.ok) throw new Error(result.error);
    expect(result.secretOutputs).toContain("swarmUnlockKey");
    expect(result.outputs.swarmUnlockKey).toBe("SWMKEY-1-offline");
    expect(named(result, "dev-unlock-key").inputs).toMatchObject({
      logging: "none",
      create: onAnyManager("unlock-key"),
    });
    expect(unwrapSecrets(named(result, "dev-init").inputs.stdin)).toContain("export AUTOLOCK='true'");
  });
});

describe("a bad config", () => {
  it("fails before any resource is registered, naming every bad key", async () => {
    const result = await runProgram({
      stack: "dev",
      config: devConfig({ managers: { count: 2 }, vpcCidr: "10.0.0.0/33" }),
    });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/aws-swarm:managers\.count/);
    expect(result.error).toMatch(/aws-swarm:vpcCidr/);
    expect(result.resources).toEqual([]);
  });
});
