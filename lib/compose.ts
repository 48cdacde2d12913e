// TEMPORARY: replaced by the compose branch (helper) at merge.
import { parseDocument } from "yaml";

function resolved(text: string): Record<string, unknown> {
  const doc = parseDocument(text, { version: "1.1" });
  if (doc.errors.length > 0) throw new Error(`compose file: ${doc.errors[0].message}`);
  return (doc.toJS() ?? {}) as Record<string, unknown>;
}

export function composeServices(text: string): string[] {
  return Object.keys((resolved(text).services ?? {}) as object);
}

export function composeNetworks(text: string): string[] {
  return Object.keys((resolved(text).networks ?? {}) as object);
}

export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.replace(/\$\$/g, "").matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(match[1]);
  return [...names].sort();
}

export function attachServices(
  text: string,
  services: readonly string[],
  network: { key: string; name: string },
): string {
  if (services.length === 0) return text;
  const doc = parseDocument(text, { version: "1.1" });
  const js = doc.toJS() as { services: Record<string, { networks?: unknown }> };
  for (const service of services) {
    const nets = js.services[service].networks;
    const list = Array.isArray(nets) ? [...nets] : nets && typeof nets === "object" ? Object.keys(nets) : ["default"];
    if (!list.includes(network.key)) list.push(network.key);
    if (nets && typeof nets === "object" && !Array.isArray(nets)) {
      doc.setIn(["services", service, "networks", network.key], null);
    } else {
      doc.setIn(["services", service, "networks"], doc.createNode(list));
    }
  }
  if (doc.has("networks") && doc.get("networks")) {
    doc.setIn(["networks", network.key], doc.createNode({ external: true, name: network.name }));
  } else {
    doc.set("networks", doc.createNode({ [network.key]: { external: true, name: network.name } }));
  }
  return doc.toString({ lineWidth: 0 });
}

/** Appended to the name of every network `encryptOverlayNetworks` encrypts. */
export const ENCRYPTED_NETWORK_SUFFIX = "-encrypted";
