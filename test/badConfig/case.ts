/**
 * One bad configuration: what is wrong, the `aws-swarm:*` values (keys without the namespace;
 * `adminCidrs` is added unless the case sets it) and the one problem expected, which starts with
 * the key it names.
 */
export type BadConfig = [what: string, raw: Record<string, unknown>, problem: RegExp];

/** An admin address outside the documentation ranges. */
export const ADMIN = ["81.2.69.160/32"];

export const pool = (extra: object) => ({ name: "app", count: 1, ...extra });
export const route = (extra: object) => ({ path: "/hello", service: "hello", port: 8080, ...extra });

/** The one-stack shorthand with the sample's name and file: a case changes one key of it. */
export const stack = (extra: object) => ({ name: "app", file: "stacks/app.yml", ...extra });
