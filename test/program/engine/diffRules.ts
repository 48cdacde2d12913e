/**
 * What a changed input does, per resource type the program uses: replace (the provider must make
 * a new resource: ForceNew in the Terraform schema, `replaceOnChanges` in a native schema) or
 * update in place. Anything not listed under `replace` updates in place. Sources per row:
 * - terraform-provider-aws (the schema pulumi-aws 7.x bridges): internal/service/<svc>/<file>.go,
 *   `ForceNew: true` / `RequiresReplace()`; the Pulumi registry pages say "Changing this forces a
 *   new resource" for the same properties.
 * - pulumi-command v1.2.1: provider/cmd/pulumi-resource-command/schema.json (only `triggers` has
 *   replaceOnChanges; the SDK adds `replaceOnChanges: ["triggers[*]"]`, remote/command.js), and
 *   commandController.go (Update runs `update`, else `create`).
 * - pulumi-docker 5.x provider.go Diff/diffUpdates (registry user/password ignored; build → update,
 *   a new build gives a new repoDigest).
 * - terraform-provider-tls internal/provider/resource_private_key.go (every input RequiresReplace).
 */
import { isUnknown } from "@pulumi/pulumi/output";
import { unwrapSecrets } from "../types";

export interface DiffRule {
  /** Input paths (top level, or dotted into a nested block) whose change forces replacement. */
  replace: string[];
  /** Inputs the provider ignores when diffing. */
  ignore?: string[];
  /** Replaced only when another input says so, e.g. userData with userDataReplaceOnChange. */
  replaceIf?: Record<string, (inputs: Record<string, any>) => boolean>;
  source: string;
}

export const DIFF_RULES: Record<string, DiffRule> = {
  "command:remote:Command": {
    replace: ["triggers"],
    source: "pulumi-command schema.json (triggers: replaceOnChanges); commandController.go Update → update ?? create",
  },
  "command:local:Command": {
    replace: ["triggers"],
    source:
      "pulumi-command schema.json (triggers: replaceOnChanges); local/commandController.go Update → update ?? create, run with PULUMI_COMMAND_STDOUT",
  },
  "aws:ec2/instance:Instance": {
    // instanceType, vpcSecurityGroupIds, tags, iamInstanceProfile, metadataOptions, rootBlockDevice
    // size/type: in place (instanceType = stop, ModifyInstanceAttribute, start: a new public IP).
    replace: [
      "ami",
      "keyName",
      "subnetId",
      "availabilityZone",
      "privateIp",
      "associatePublicIpAddress",
      "securityGroups",
      "tenancy",
      "rootBlockDevice.encrypted",
      "rootBlockDevice.kmsKeyId",
      "region",
    ],
    replaceIf: { userData: (inputs) => inputs.userDataReplaceOnChange === true },
    source:
      "terraform-provider-aws internal/service/ec2/ec2_instance.go; pulumi-aws docs (userData: stop/start unless userDataReplaceOnChange)",
  },
  "aws:ec2/eip:Eip": {
    // `instance` is no ForceNew argument: a new instance gets the same address (AssociateAddress).
    replace: ["domain", "address", "publicIpv4Pool", "networkBorderGroup", "customerOwnedIpv4Pool", "ipamPoolId"],
    source: "terraform-provider-aws internal/service/ec2/vpc_eip.go (ForceNew arguments; instance updates in place)",
  },
  "aws:ec2/keyPair:KeyPair": {
    replace: ["publicKey", "keyName", "keyNamePrefix", "region"],
    source: "terraform-provider-aws internal/service/ec2/ec2_key_pair.go",
  },
  "aws:ec2/vpc:Vpc": {
    replace: ["cidrBlock", "instanceTenancy", "region"],
    source: "terraform-provider-aws internal/service/ec2/vpc_.go (cidr_block ForceNew)",
  },
  "aws:ec2/subnet:Subnet": {
    replace: ["vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "region"],
    source: "terraform-provider-aws internal/service/ec2/vpc_subnet.go",
  },
  "aws:ec2/internetGateway:InternetGateway": {
    replace: ["region"],
    source: "terraform-provider-aws internal/service/ec2/vpc_internet_gateway.go (vpc_id: detach/attach in place)",
  },
  "aws:ec2/routeTable:RouteTable": {
    replace: ["vpcId", "region"],
    source: "terraform-provider-aws internal/service/ec2/vpc_route_table.go (routes in place)",
  },
  "aws:ec2/routeTableAssociation:RouteTableAssociation": {
    replace: ["subnetId", "gatewayId", "region"],
    source:
      "terraform-provider-aws internal/service/ec2/vpc_route_table_association.go (route_table_id: ReplaceRouteTableAssociation)",
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    replace: ["name", "namePrefix", "description", "vpcId", "region"],
    source: "terraform-provider-aws internal/service/ec2/vpc_security_group.go (no API to change a description)",
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
    replace: ["securityGroupId", "region"],
    source:
      "terraform-provider-aws internal/service/ec2/vpc_security_group_ingress_rule.go (others: ModifySecurityGroupRules)",
  },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
    replace: ["securityGroupId", "region"],
    source: "terraform-provider-aws internal/service/ec2/vpc_security_group_egress_rule.go",
  },
  "aws:iam/role:Role": {
    replace: ["name", "namePrefix", "path"],
    source: "terraform-provider-aws internal/service/iam/role.go (assume_role_policy, tags in place)",
  },
  "aws:iam/instanceProfile:InstanceProfile": {
    replace: ["name", "namePrefix", "path"],
    source: "terraform-provider-aws internal/service/iam/instance_profile.go (role in place)",
  },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
    replace: ["role", "policyArn"],
    source: "terraform-provider-aws internal/service/iam/role_policy_attachment.go",
  },
  "aws:ecr/repository:Repository": {
    replace: ["name", "encryptionConfigurations", "region"],
    source: "terraform-provider-aws internal/service/ecr/repository.go",
  },
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": {
    replace: ["repository", "region"],
    source: "terraform-provider-aws internal/service/ecr/lifecycle_policy.go (policy in place)",
  },
  "docker:index/image:Image": {
    replace: [],
    ignore: ["registry.username", "registry.password"],
    source: "pulumi-docker provider.go Diff/diffUpdates (build/imageName → update: rebuild and push)",
  },
  "tls:index/privateKey:PrivateKey": {
    replace: ["algorithm", "rsaBits", "ecdsaCurve"],
    source: "terraform-provider-tls internal/provider/resource_private_key.go (RequiresReplace on all)",
  },
};

export interface InputDiff {
  /** Top-level inputs that changed (after ignoreChanges), sorted. */
  changed: string[];
  /** The subset (as paths) that forces replacement. */
  replaceBecause: string[];
  /** The inputs the provider gets: ignored properties keep their old value. */
  inputs: Record<string, any>;
}

function stable(value: any): string {
  if (isUnknown(value)) {
    return "\u0000unknown";
  }
  if (Array.isArray(value)) {
    return `[${value.map(stable).join(",")}]`;
  }
  if (value && typeof value === "object") {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stable(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

function containsUnknown(value: any): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

function at(value: any, path: string): any {
  return path.split(".").reduce((v, key) => (v === undefined || v === null ? undefined : v[key]), value);
}

function without(value: Record<string, any>, paths: string[]): Record<string, any> {
  const copy = JSON.parse(JSON.stringify(value ?? {}));
  for (const path of paths) {
    const keys = path.split(".");
    const holder = at(copy, keys.slice(0, -1).join(".")) ?? (keys.length === 1 ? copy : undefined);
    if (holder && typeof holder === "object") delete holder[keys[keys.length - 1]];
  }
  return copy;
}

/**
 * A property path's keys, as the engine reads them: `tags["docker-version"]` → tags, docker-version;
 * `rootBlockDevice.encrypted` → rootBlockDevice, encrypted; a `[*]` ends it (the whole value).
 */
function propertyPath(path: string): string[] {
  const keys: string[] = [];
  for (const [, dotted, quoted, index] of path.matchAll(/([^.[\]]+)|\["([^"]*)"\]|\[([^\]]*)\]/g)) {
    if (index === "*") break;
    keys.push(dotted ?? quoted ?? index);
  }
  return keys;
}

/** ignoreChanges: the value at `keys` in `inputs` becomes the old one (or goes, if there was none). */
function keepOld(inputs: Record<string, any>, oldInputs: Record<string, any>, keys: string[]): void {
  const [top, ...rest] = keys;
  if (rest.length === 0 || !(top in inputs) || !(top in oldInputs)) {
    if (top in oldInputs) inputs[top] = oldInputs[top];
    else delete inputs[top];
    return;
  }
  inputs[top] = JSON.parse(JSON.stringify(inputs[top]));
  let holder = inputs[top];
  for (const key of rest.slice(0, -1)) {
    if (holder?.[key] === undefined || typeof holder[key] !== "object") return;
    holder = holder[key];
  }
  const leaf = rest[rest.length - 1];
  const old = at(oldInputs[top], rest.join("."));
  if (old === undefined) delete holder[leaf];
  else holder[leaf] = old;
}

/** `triggers[*]` → `triggers`, `rootBlockDevice.encrypted` stays dotted. */
function normalisePath(path: string): string {
  return path.replace(/\[[^\]]*\]/g, "").replace(/\.$/, "");
}

function differs(oldValue: any, newValue: any): boolean {
  return containsUnknown(newValue) || stable(unwrapSecrets(oldValue)) !== stable(unwrapSecrets(newValue));
}

/**
 * The provider's diff plus the engine's options: `ignoreChanges` keeps the old value,
 * `replaceOnChanges` adds replacement paths. An unknown new value (preview) counts as a change.
 */
export function diffInputs(
  type: string,
  oldInputs: Record<string, any>,
  newInputs: Record<string, any>,
  options: { ignoreChanges?: string[]; replaceOnChanges?: string[] } = {},
): InputDiff {
  const rule = DIFF_RULES[type] ?? { replace: [], source: "" };
  const inputs = { ...newInputs };
  for (const path of options.ignoreChanges ?? []) {
    keepOld(inputs, oldInputs, propertyPath(path));
  }
  const ignored = rule.ignore ?? [];
  const oldCompared = without(unwrapSecrets(oldInputs), ignored);
  const newCompared = { ...without(unwrapSecrets(inputs), ignored) };
  for (const key of Object.keys(inputs)) {
    if (containsUnknown(inputs[key])) newCompared[key] = inputs[key];
  }
  const keys = new Set([...Object.keys(oldCompared), ...Object.keys(newCompared)]);
  const changed = [...keys].filter((key) => differs(oldCompared[key], newCompared[key])).sort();
  const replacePaths = [
    ...rule.replace,
    ...Object.entries(rule.replaceIf ?? {})
      .filter(([, when]) => when(newCompared))
      .map(([path]) => path),
    ...(options.replaceOnChanges ?? []).map(normalisePath),
  ];
  const replaceBecause = replacePaths
    .filter((path) =>
      path === "*"
        ? changed.length > 0
        : changed.includes(path.split(".")[0]) && differs(at(oldCompared, path), at(newCompared, path)),
    )
    .sort();
  return { changed, replaceBecause: [...new Set(replaceBecause)], inputs };
}
