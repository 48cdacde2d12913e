/**
 * Instances are machines: the engine creates, stops/starts and deletes instances through this
 * interface only, so moving from the fixed host pool to hosts made on demand (the hosts
 * helper's addHost/powerOff/powerOn/removeHost/applyFirewall) changes this file alone.
 *
 * Today (fixed pool from `upHosts(n)`): a created instance takes the first host that no instance
 * holds and that was never powered off; private = public = the host's one address; a deleted
 * instance's host loses its link (its processes can no longer be reached, as after termination)
 * and is never handed out again; a stop/start keeps the address (the pool can't give a new one).
 */
import { execFileSync } from "child_process";
import { findHost, HarnessInfo } from "../harness/hosts";
import { FirewallRule } from "./engine/firewall";

export interface Machine {
  host: string;
  privateIp: string;
  publicIp: string;
}

export interface Machines {
  create(label: string): Promise<Machine>;
  /** Stop, modify, start: on AWS the public address changes. */
  stopStart(host: string): Promise<Machine>;
  destroy(host: string): Promise<void>;
  applyFirewall(host: string, rules: FirewallRule[]): Promise<void>;
}

export type FaultVerb = "poweroff" | "poweron" | "partition" | "heal" | "restart-docker" | "reboot";

function setLink(info: HarnessInfo, host: string, state: "up" | "down"): void {
  execFileSync("ip", ["-n", findHost(info, host).netns, "link", "set", "eth0", state]);
}

export function poolMachines(info: HarnessInfo, inUse: () => string[], retired: () => string[]): Machines {
  const machineOf = (host: string): Machine => {
    const ip = findHost(info, host).ip;
    return { host, privateIp: ip, publicIp: ip };
  };
  return {
    async create(label) {
      const taken = new Set([...inUse(), ...retired()]);
      const free = info.hosts.find((h) => !taken.has(h.name));
      if (!free) {
        throw new Error(`no free harness host for ${label}: all ${info.hosts.length} are in use or powered off`);
      }
      return machineOf(free.name);
    },
    async stopStart(host) {
      return machineOf(host);
    },
    async destroy(host) {
      setLink(info, host, "down");
    },
    async applyFirewall() {
      // Needs the hosts helper's packet filters; the pool's hosts share one open bridge.
    },
  };
}

/** Faults on demand; the fixed pool can only cut and restore a host's link. */
export function fault(info: HarnessInfo, host: string, verb: FaultVerb): void {
  if (verb === "poweroff" || verb === "partition") {
    setLink(info, host, "down");
  } else if (verb === "poweron" || verb === "heal") {
    setLink(info, host, "up");
  } else {
    throw new Error(`fault ${verb} needs the hosts helper's fault verbs (not merged yet)`);
  }
}
