/**
 * Instances are machines: the engine creates, stops/starts and deletes instances through this
 * interface only, on top of the harness's machine verbs (test/harness/hosts.ts).
 *
 * - create: a host no instance holds yet, if the harness was brought up with spare ones
 *   (`upHosts(n)`), else a fresh one (`addHost`); private and public address as on AWS.
 * - stop/start (instance type change): `powerOff`, then `powerOn` with a new public address.
 * - delete (terminate): `powerOff` (every process ends, the link goes), then `removeHost`.
 * - security groups: `applyFirewalls` replaces the ingress filters of the hosts given, in one call.
 * - Elastic IPs: `associateAddress` makes an address the host's public one and moves it with a
 *   replaced instance; a stop and a start keep it.
 */
import {
  addHost,
  applyFirewalls,
  associateAddress,
  fault as hostFault,
  FaultKind,
  FirewallRule as HostFirewallRule,
  HarnessInfo,
  powerOff,
  powerOn,
  readHarnessInfo,
  releaseAddress,
  removeHost,
  sshExec,
} from "../harness/hosts";
import { FirewallRule } from "./engine/firewall";

export interface Machine {
  host: string;
  privateIp: string;
  publicIp: string;
}

export interface Machines {
  /** With `authorizedKey`, the host trusts it as EC2 installs the key pair at first boot. */
  create(label: string, authorizedKey?: string): Promise<Machine>;
  /** Stop, modify, start: on AWS the public address changes (no Elastic IP). */
  stopStart(host: string): Promise<Machine>;
  destroy(host: string): Promise<void>;
  /** Each host's ingress filter becomes its rules, all in one go. */
  applyFirewalls(rulesByHost: Map<string, FirewallRule[]>): Promise<void>;
  /** An Elastic IP associated with the host: `ip`, moved from where it was, or a new one. */
  associateAddress(host: string, ip?: string): Promise<Machine>;
  /** The Elastic IP released: the host gets a new auto-assigned address. */
  releaseAddress(host: string): Promise<void>;
}

export type FaultVerb = FaultKind;

/** The hosts API wants numbers; a rule without ports (all traffic, ESP) means any (-1). */
export function toHostRules(rules: FirewallRule[]): HostFirewallRule[] {
  return rules.map((r) => ({
    protocol: r.protocol,
    fromPort: r.fromPort ?? -1,
    toPort: r.toPort ?? -1,
    sources: r.sources,
  }));
}

/**
 * @param inUse hosts held by instances in the state (live or waiting for their delete)
 * @param retired hosts of deleted instances, never handed out again
 */
export function harnessMachines(id: number, inUse: () => string[], retired: () => string[]): Machines {
  const info = (): HarnessInfo => {
    const found = readHarnessInfo(id);
    if (!found) throw new Error(`harness ${id} is not up`);
    return found;
  };
  // Instances are created in parallel: a spare host is claimed before anything is awaited.
  const claimed = new Set<string>();
  return {
    async create(_label, authorizedKey) {
      const taken = new Set([...inUse(), ...retired(), ...claimed]);
      const spare = info().hosts.find((h) => !taken.has(h.name) && h.state === "running");
      if (spare) claimed.add(spare.name);
      const host = spare ?? (await addHost(id));
      if (authorizedKey) {
        // Next to the harness's own key, which its tooling keeps using.
        const add =
          'k=$(cat); grep -qxF -- "$k" ~/.ssh/authorized_keys || printf "%s\\n" "$k" >>~/.ssh/authorized_keys';
        const result = await sshExec(info(), host.name, add, `${authorizedKey.trim()}\n`);
        if (result.code !== 0) throw new Error(`${host.name}: could not install the key pair: ${result.stderr}`);
      }
      return { host: host.name, privateIp: host.privateIp, publicIp: host.publicIp };
    },
    async stopStart(name) {
      await powerOff(id, name);
      const host = await powerOn(id, name, { newPublicIp: true });
      return { host: host.name, privateIp: host.privateIp, publicIp: host.publicIp };
    },
    async destroy(name) {
      if (!info().hosts.some((h) => h.name === name)) return; // already terminated
      await powerOff(id, name).catch(() => undefined); // a stopped instance terminates too
      await removeHost(id, name);
    },
    async applyFirewalls(rulesByHost) {
      await applyFirewalls(id, Object.fromEntries([...rulesByHost].map(([host, rules]) => [host, toHostRules(rules)])));
    },
    async associateAddress(name, ip) {
      const host = await associateAddress(id, name, ip);
      return { host: host.name, privateIp: host.privateIp, publicIp: host.publicIp };
    },
    async releaseAddress(name) {
      if (!info().hosts.some((h) => h.name === name)) return; // terminated with its instance
      await releaseAddress(id, name);
    },
  };
}

/** A fault on demand on the host that plays a node. */
export function fault(id: number, host: string, verb: FaultVerb): Promise<void> {
  return hostFault(id, host, verb);
}
