/**
 * The cluster's front door in `gateway`: the load balancer switch, the domain served over HTTPS
 * and its Route 53 zone. Checked here, before anything exists: a wrong domain would otherwise
 * surface as an ACM validation that never finishes, half an hour into `pulumi up`.
 */
import { DEFAULT_GATEWAY_LOAD_BALANCER } from "./defaults";
import { isZoneId } from "./loadBalancer";
import { Validator } from "./validator";

export interface FrontDoor {
  loadBalancer: boolean;
  domain?: string;
  hostedZone?: string;
}

/** Lower-case DNS labels of 1–63 letters, digits and inner '-', at least two of them. */
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** RFC 2606's example domains: the shipped prod stack's placeholder, which no one can own. */
const PLACEHOLDER = /(^|\.)example\.(com|net|org)$/;

/** The zone a domain is looked up in when `hostedZone` is not given: the domain minus its first label. */
export function defaultHostedZone(domain: string): string {
  const labels = domain.split(".");
  return labels.length > 2 ? labels.slice(1).join(".") : domain;
}

function parseDomain(v: Validator, value: unknown, key: string): string | undefined {
  const domain = v.pattern(value, key, DNS_NAME, "a lower-case DNS name such as app.mycompany.com");
  if (domain !== undefined && PLACEHOLDER.test(domain)) {
    v.report(
      key,
      `(${domain}) is a placeholder (RFC 2606 reserves example.com, .net and .org): set the name you serve, ` +
        `in a Route 53 zone of this account — pulumi config set --path gateway.domain app.yourcompany.com — ` +
        "or remove it to serve plain HTTP on the load balancer's own name",
    );
    return undefined;
  }
  return domain;
}

function parseHostedZone(v: Validator, value: unknown, key: string, domain: string | undefined): string | undefined {
  const zone = v.string(value, key, "a Route 53 hosted zone id (Z…) or name");
  if (zone === undefined || isZoneId(zone)) {
    return zone;
  }
  if (!DNS_NAME.test(zone) && !/^[a-z0-9-]+$/.test(zone)) {
    v.report(key, `(${JSON.stringify(zone)}) is neither a hosted zone id (Z…) nor a DNS name`);
    return undefined;
  }
  if (domain !== undefined && domain !== zone && !domain.endsWith(`.${zone}`)) {
    v.report(key, `(${zone}) can't hold gateway.domain ${domain}: the domain must be the zone's name or under it`);
    return undefined;
  }
  return zone;
}

export function parseFrontDoor(v: Validator, obj: Record<string, unknown>, key: string): FrontDoor | undefined {
  const loadBalancer = v.optional(obj.loadBalancer, `${key}.loadBalancer`, DEFAULT_GATEWAY_LOAD_BALANCER, (x, p) =>
    v.boolean(x, p),
  );
  const domain = obj.domain === undefined ? undefined : parseDomain(v, obj.domain, `${key}.domain`);
  const hostedZone =
    obj.hostedZone === undefined ? undefined : parseHostedZone(v, obj.hostedZone, `${key}.hostedZone`, domain);
  if (obj.domain !== undefined && loadBalancer === false) {
    v.report(
      `${key}.domain`,
      `needs ${key}.loadBalancer: true — the certificate and the HTTPS listener live on the load balancer`,
    );
    return undefined;
  }
  if (obj.hostedZone !== undefined && obj.domain === undefined) {
    v.report(`${key}.hostedZone`, `is only used with ${key}.domain; set the domain or remove it`);
    return undefined;
  }
  // A key that was set but read as undefined was reported above.
  const refused =
    (obj.domain !== undefined && domain === undefined) || (obj.hostedZone !== undefined && hostedZone === undefined);
  if (loadBalancer === undefined || refused) {
    return undefined;
  }
  return {
    loadBalancer,
    ...(domain !== undefined && { domain, hostedZone: hostedZone ?? defaultHostedZone(domain) }),
  };
}
