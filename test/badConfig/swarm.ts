/** Swarm settings: durations, counts and flags. */
import { BadConfig } from "./case";

export const swarmCases: BadConfig[] = [
  [
    "task history too long",
    { swarm: { taskHistoryLimit: 101 } },
    /^aws-swarm:swarm\.taskHistoryLimit must be between 0 and 100, got 101$/,
  ],
  ["autolock as text", { swarm: { autolock: "yes" } }, /^aws-swarm:swarm\.autolock must be true or false, got "yes"$/],
  [
    "token generation negative",
    { swarm: { tokenGeneration: -1 } },
    /^aws-swarm:swarm\.tokenGeneration must be at least 0, got -1$/,
  ],
  [
    "token generation not a whole number",
    { swarm: { tokenGeneration: 1.5 } },
    /^aws-swarm:swarm\.tokenGeneration must be an integer, got 1\.5$/,
  ],
  [
    "report-down time above a day",
    { swarm: { reportDownAfter: 86401 } },
    /^aws-swarm:swarm\.reportDownAfter must be between 0 and 86400, got 86401$/,
  ],
  [
    "report-down time as text",
    { swarm: { reportDownAfter: "5m" } },
    /^aws-swarm:swarm\.reportDownAfter must be an integer/,
  ],
  [
    "cert expiry not a Go duration",
    { swarm: { certExpiry: "90d" } },
    /^aws-swarm:swarm\.certExpiry must be a Go duration such as 2160h/,
  ],
  [
    "cert expiry under an hour",
    { swarm: { certExpiry: "59m59s" } },
    /^aws-swarm:swarm\.certExpiry must be at least 1h/,
  ],
  [
    "cert expiry with a fraction, which swarm-init.sh can't read",
    { swarm: { certExpiry: "1.5h" } },
    /^aws-swarm:swarm\.certExpiry must be a Go duration such as 2160h or 720h30m, in whole hours \(h\), minutes \(m\) and seconds \(s\), got "1\.5h"$/,
  ],
  [
    "cert expiry in milliseconds, which swarm-init.sh can't read",
    { swarm: { certExpiry: "3600000ms" } },
    /^aws-swarm:swarm\.certExpiry must be a Go duration such as 2160h/,
  ],
  [
    "cert expiry with fractional seconds",
    { swarm: { certExpiry: "90m0.5s" } },
    /^aws-swarm:swarm\.certExpiry must be a Go duration such as 2160h/,
  ],
  [
    "cert expiry without a unit at the end",
    { swarm: { certExpiry: "1h30" } },
    /^aws-swarm:swarm\.certExpiry must be a Go duration/,
  ],
  [
    "empty cert expiry",
    { swarm: { certExpiry: "" } },
    /^aws-swarm:swarm\.certExpiry must be a Go duration .*, got ""$/,
  ],
  [
    "cert expiry as a number",
    { swarm: { certExpiry: 2160 } },
    /^aws-swarm:swarm\.certExpiry must be a Go duration such as 2160h, got 2160$/,
  ],
  [
    "cert expiry of 59 minutes",
    { swarm: { certExpiry: "59m" } },
    /^aws-swarm:swarm\.certExpiry must be at least 1h \(Docker's minimum\), got "59m"$/,
  ],
  ["cert expiry of zero", { swarm: { certExpiry: "0s" } }, /^aws-swarm:swarm\.certExpiry must be at least 1h/],
  [
    "cert expiry one second above Docker's 64-bit limit",
    { swarm: { certExpiry: "9223368437s" } },
    /^aws-swarm:swarm\.certExpiry must be at most 2562046h47m16s \(Docker holds it in 64-bit nanoseconds and adds a 1h backdate\), got "9223368437s"$/,
  ],
  [
    "cert expiry at Go's own limit, which the backdate would wrap",
    { swarm: { certExpiry: "2562047h" } },
    /^aws-swarm:swarm\.certExpiry must be at most 2562046h47m16s/,
  ],
  [
    "cert expiry beyond 64-bit nanoseconds",
    { swarm: { certExpiry: "99999999999999999999h" } },
    /^aws-swarm:swarm\.certExpiry must be at most 2562046h47m16s/,
  ],
  [
    "typo in a swarm key",
    { swarm: { autoLock: true } },
    /^aws-swarm:swarm\.autoLock is not a known key; did you mean autolock\?$/,
  ],
  [
    "encrypted overlay as text",
    { swarm: { encryptOverlay: "true" } },
    /^aws-swarm:swarm\.encryptOverlay must be true or false, got "true"$/,
  ],
  [
    "negative task history",
    { swarm: { taskHistoryLimit: -1 } },
    /^aws-swarm:swarm\.taskHistoryLimit must be between 0 and 100, got -1$/,
  ],
  ["swarm settings as a list", { swarm: [] }, /^aws-swarm:swarm must be an object with the keys taskHistoryLimit/],
];
