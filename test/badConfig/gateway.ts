/** The gateway: port, public CIDRs, placement and routes. */
import { BadConfig, pool, route } from "./case";

export const gatewayCases: BadConfig[] = [
  [
    "gateway port used by swarm",
    { gateway: { port: 2377 } },
    /^aws-swarm:gateway\.port must not be 2377: the nodes use it for swarm cluster management$/,
  ],
  [
    "gateway port out of range",
    { gateway: { port: 0 } },
    /^aws-swarm:gateway\.port must be between 1 and 65535, got 0$/,
  ],
  [
    "bad public CIDR",
    { gateway: { publicCidrs: ["everyone"] } },
    /^aws-swarm:gateway\.publicCidrs\[0\] must be an IPv4 CIDR/,
  ],
  [
    "gateway access log neither errors nor all",
    { gateway: { accessLog: "none" } },
    /^aws-swarm:gateway\.accessLog must be "errors" or "all", got "none"$/,
  ],
  [
    "route with no service",
    { gateway: { routes: [{ path: "/hello", port: 8080 }] } },
    /^aws-swarm:gateway\.routes\[0\]\.service is required$/,
  ],
  [
    "route port above 65535",
    { gateway: { routes: [route({ port: 70000 })] } },
    /^aws-swarm:gateway\.routes\[0\]\.port must be between 1 and 65535, got 70000$/,
  ],
  [
    "route port 0",
    { gateway: { routes: [route({ port: 0 })] } },
    /^aws-swarm:gateway\.routes\[0\]\.port must be between 1 and 65535, got 0$/,
  ],
  [
    "route path without a slash",
    { gateway: { routes: [route({ path: "hello" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path \("hello"\) is not a plain URL path prefix: '\/' then letters/,
  ],
  [
    "route path with whitespace",
    { gateway: { routes: [route({ path: "/a b" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path \("\/a b"\) is not a plain URL path prefix/,
  ],
  [
    "route path with a quote (HAProxy's config syntax)",
    { gateway: { routes: [route({ path: '/a"b' })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path \("\/a\\"b"\) is not a plain URL path prefix/,
  ],
  [
    "route path with a backslash",
    { gateway: { routes: [route({ path: "/a\\b" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path \("\/a\\\\b"\) is not a plain URL path prefix/,
  ],
  [
    "route paths that differ by a trailing slash",
    { gateway: { routes: [route({ path: "/api" }), route({ path: "/api/", service: "world" })] } },
    /^aws-swarm:gateway\.routes\[1\]\.path \(\/api\/\) is the same prefix as aws-swarm:gateway\.routes\[0\]\.path \(\/api\)/,
  ],
  [
    "a route to the gateway itself",
    { gateway: { routes: [route({ service: "aws-swarm/gateway" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.service must not name the stack "aws-swarm": the gateway would route requests to itself$/,
  ],
  [
    "routes that no client may reach",
    { gateway: { publicCidrs: [], routes: [route({})] } },
    /^aws-swarm:gateway\.publicCidrs is empty, so no client could reach the routes/,
  ],
  [
    "duplicate route paths",
    { gateway: { routes: [route({}), route({ service: "world" })] } },
    /^aws-swarm:gateway\.routes\[1\]\.path must be unique: "\/hello" is already used by aws-swarm:gateway\.routes\[0\]$/,
  ],
  [
    "placement naming a missing pool",
    { workerPools: [pool({})], gateway: { placement: "edge" } },
    /^aws-swarm:gateway\.placement names worker pool "edge", which does not exist; use one of: managers, app$/,
  ],
  [
    "placement on an empty pool",
    { workerPools: [pool({ count: 0 })], gateway: { placement: "app" } },
    /^aws-swarm:gateway\.placement names worker pool "app", which has count 0/,
  ],
  [
    "a route to the gateway's own health path",
    { gateway: { routes: [route({ path: "/healthz" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path \("\/healthz"\) is the gateway's own health path \(\/healthz, for load-balancer checks\): requests to it never reach a service; use another path$/,
  ],
  [
    "a route to the health path with a trailing slash",
    { gateway: { routes: [route({ path: "/healthz/" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path \("\/healthz\/"\) is the gateway's own health path/,
  ],
  [
    "route paths / and // (the same prefix)",
    { gateway: { routes: [route({ path: "/" }), route({ path: "//", service: "world" })] } },
    /^aws-swarm:gateway\.routes\[1\]\.path \(\/\/\) is the same prefix as aws-swarm:gateway\.routes\[0\]\.path \(\/\)/,
  ],
  [
    "route path with a fragment",
    { gateway: { routes: [route({ path: "/a#b" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path \("\/a#b"\) is not a plain URL path prefix/,
  ],
  [
    "route path with a query",
    { gateway: { routes: [route({ path: "/a?b=1" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path \("\/a\?b=1"\) is not a plain URL path prefix/,
  ],
  [
    "empty route path",
    { gateway: { routes: [route({ path: "" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path \(""\) is not a plain URL path prefix/,
  ],
  [
    "route path as a number",
    { gateway: { routes: [route({ path: 5 })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path must be a URL path prefix starting with "\/", e\.g\. \/hello, got 5$/,
  ],
  [
    "route service in upper case",
    { gateway: { routes: [route({ service: "Hello" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.service must be a service name/,
  ],
  [
    "typo in a route key",
    { gateway: { routes: [route({ prot: 80 })] } },
    /^aws-swarm:gateway\.routes\[0\]\.prot is not a known key; did you mean port\?$/,
  ],
  [
    "routes not a list",
    { gateway: { routes: { path: "/" } } },
    /^aws-swarm:gateway\.routes must be a list, got an object$/,
  ],
  [
    "gateway on the SSH port",
    { gateway: { port: 22 } },
    /^aws-swarm:gateway\.port must not be 22: the nodes use it for SSH$/,
  ],
  [
    "gateway on the VXLAN port",
    { gateway: { port: 4789 } },
    /^aws-swarm:gateway\.port must not be 4789: the nodes use it for swarm overlay \(VXLAN\) traffic$/,
  ],
  [
    "gateway on the gossip port",
    { gateway: { port: 7946 } },
    /^aws-swarm:gateway\.port must not be 7946: the nodes use it for swarm node gossip$/,
  ],
  [
    "placement as a number",
    { gateway: { placement: 1 } },
    /^aws-swarm:gateway\.placement must be "managers" or a worker pool name, got 1$/,
  ],
  [
    "unaligned public CIDR",
    { gateway: { publicCidrs: ["10.1.2.3/8"] } },
    /^aws-swarm:gateway\.publicCidrs\[0\] is not aligned: 10\.1\.2\.3\/8 has host bits set; did you mean 10\.0\.0\.0\/8\?$/,
  ],
  [
    "typo in a gateway key",
    { gateway: { placment: "managers" } },
    /^aws-swarm:gateway\.placment is not a known key; did you mean placement\?$/,
  ],
  [
    "route path with a single quote (a strongly quoted string in haproxy.cfg)",
    { gateway: { routes: [route({ path: "/it's" })] } },
    /^aws-swarm:gateway\.routes\[0\]\.path \("\/it's"\) is not a plain URL path prefix: '\/' then letters, digits and - \. _ ~ ! \$ & \( \)/,
  ],
  [
    "load balancer switch not a boolean",
    { gateway: { loadBalancer: "yes" } },
    /^aws-swarm:gateway\.loadBalancer must be true or false/,
  ],
  [
    "domain with upper-case letters",
    { gateway: { domain: "App.MyCompany.org" } },
    /^aws-swarm:gateway\.domain must be a lower-case DNS name such as app\.mycompany\.com/,
  ],
  [
    "domain without a dot",
    { gateway: { domain: "localhost" } },
    /^aws-swarm:gateway\.domain must be a lower-case DNS name/,
  ],
  [
    "domain with a URL scheme",
    { gateway: { domain: "https://app.mycompany.org" } },
    /^aws-swarm:gateway\.domain must be a lower-case DNS name/,
  ],
  [
    "domain label over 63 characters",
    { gateway: { domain: `${"a".repeat(64)}.mycompany.org` } },
    /^aws-swarm:gateway\.domain must be a lower-case DNS name/,
  ],
  [
    "the prod stack's placeholder domain",
    { gateway: { domain: "app.example.com" } },
    /^aws-swarm:gateway\.domain \(app\.example\.com\) is a placeholder \(RFC 2606 .*pulumi config set --path gateway\.domain/,
  ],
  [
    "an RFC 2606 example domain itself",
    { gateway: { domain: "example.org" } },
    /^aws-swarm:gateway\.domain \(example\.org\) is a placeholder/,
  ],
  [
    "domain without the load balancer that would carry its certificate",
    { gateway: { loadBalancer: false, domain: "app.mycompany.org" } },
    /^aws-swarm:gateway\.domain needs aws-swarm:gateway\.loadBalancer: true/,
  ],
  [
    "hosted zone without a domain",
    { gateway: { hostedZone: "mycompany.org" } },
    /^aws-swarm:gateway\.hostedZone is only used with aws-swarm:gateway\.domain/,
  ],
  [
    "hosted zone that can't hold the domain",
    { gateway: { domain: "app.mycompany.org", hostedZone: "othercompany.org" } },
    /^aws-swarm:gateway\.hostedZone \(othercompany\.org\) can't hold gateway\.domain app\.mycompany\.org/,
  ],
  [
    "hosted zone that is neither an id nor a name",
    { gateway: { domain: "app.mycompany.org", hostedZone: "zone #1" } },
    /^aws-swarm:gateway\.hostedZone \("zone #1"\) is neither a hosted zone id \(Z…\) nor a DNS name/,
  ],
];
