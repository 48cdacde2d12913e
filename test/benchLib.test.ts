import { fmt, renderBenchmarksPage, renderRollingUpdate, renderTable, signed } from "../bench/lib/markdown";
import {
  BenchResults,
  FormationRun,
  GatewayRun,
  joinsSpeedup,
  perReplica,
  resourcesPerAddedWorker,
  RollingUpdateRun,
  splitWorkers,
  summariseGateway,
} from "../bench/lib/results";
import {
  cpuMsFromProcStat,
  median,
  medianWrk,
  parseWrkDuration,
  parseWrkOutput,
  percentile,
  ratio,
} from "../bench/lib/stats";
import { escapeXml, niceTicks, renderLineChart } from "../bench/lib/svg";
import { planChanges, replacedTasks, serviceUpdates } from "../bench/lib/rolling";
import { callStats, phaseOf, phaseTimeline } from "../bench/lib/timeline";

const WRK = `Running 3s test @ http://127.0.0.1:40001/echo/x
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.00us  200.00us   5.00ms   90.00%
    Req/Sec     4.90k   300.00     5.50k    70.00%
  Latency Distribution
     50%  780.00us
     75%    0.90ms
     90%    1.10ms
     99%    2.00s
  29400 requests in 3.00s, 4.00MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   9800.12
Transfer/sec:      1.33MB
`;

const wrkResult = (rps: number, p50: number, p99: number, requests: number) => ({
  requests,
  requestsPerSec: rps,
  p50Ms: p50,
  p75Ms: p50,
  p90Ms: p99,
  p99Ms: p99,
  errors: 0,
});

const GATEWAY_RUN: GatewayRun = {
  backend: "echo",
  connections: 8,
  durationS: 3,
  rounds: 1,
  direct: wrkResult(10000, 0.5, 1.0, 30000),
  gateway: wrkResult(9000, 0.75, 1.25, 27000),
  gatewayCpuMs: 1350,
};

/** The machine every page test prints. */
const MACHINE: BenchResults["machine"] = {
  cpus: 2,
  cpuModel: "Test CPU",
  memoryMb: 4096,
  kernel: "6.1.0",
  node: "v20.0.0",
  haproxy: "2.6.12",
  docker: "26.1.5",
  wrk: "4.1.0",
  python: "3.11.2",
};
describe("percentile", () => {
  test("interpolates linearly between closest ranks", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 90)).toBe(46);
  });
  test("is order-independent and returns the extremes at 0 and 100", () => {
    expect(percentile([3, 1, 2], 0)).toBe(1);
    expect(percentile([3, 1, 2], 100)).toBe(3);
    expect(median([5, 1, 3])).toBe(3);
  });
  test("throws on no values and on p outside 0-100", () => {
    expect(() => percentile([], 50)).toThrow(/no values/);
    expect(() => percentile([1], 101)).toThrow(/0-100/);
  });
});

describe("ratio", () => {
  test("divides, and is undefined for a zero or missing base", () => {
    expect(ratio(3, 4)).toBe(0.75);
    expect(ratio(3, 0)).toBeUndefined();
    expect(ratio(undefined, 4)).toBeUndefined();
  });
});

describe("wrk output", () => {
  test("durations in us, ms and s read as milliseconds", () => {
    expect(parseWrkDuration("812.00us")).toBeCloseTo(0.812);
    expect(parseWrkDuration("1.10ms")).toBeCloseTo(1.1);
    expect(parseWrkDuration("2.00s")).toBe(2000);
    expect(() => parseWrkDuration("fast")).toThrow(/not a wrk duration/);
  });
  test("the --latency summary gives requests, req/s, percentiles and socket plus non-2xx errors", () => {
    const result = parseWrkOutput(WRK);
    expect(result).toEqual({
      requests: 29400,
      requestsPerSec: 9800.12,
      p50Ms: 0.78,
      p75Ms: 0.9,
      p90Ms: 1.1,
      p99Ms: 2000,
      errors: 10,
    });
  });
  test("output without a latency distribution (no --latency) throws, naming what is missing", () => {
    expect(() => parseWrkOutput(WRK.replace(/ {5}50%.*\n/, ""))).toThrow(/50% latency/);
  });
});

describe("several wrk runs", () => {
  test("each figure is its own median; requests and errors are totals", () => {
    const runs = [wrkResult(100, 1, 9, 300), wrkResult(300, 3, 5, 900), wrkResult(200, 2, 7, 600)];
    runs[0].errors = 2;
    expect(medianWrk(runs)).toEqual({
      requests: 1800,
      requestsPerSec: 200,
      p50Ms: 2,
      p75Ms: 2,
      p90Ms: 7,
      p99Ms: 7,
      errors: 2,
    });
  });
});

describe("/proc/<pid>/stat", () => {
  test("user + system time in ms, with spaces and parentheses in the command name", () => {
    const stat = "4242 (ha (proxy) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 2 0 1000";
    expect(cpuMsFromProcStat(stat, 100)).toBe(3000);
  });
});

describe("gateway summary", () => {
  test("every request logged and the load balancer path: CPU µs per request and req/s vs direct", () => {
    const s = summariseGateway({
      ...GATEWAY_RUN,
      gatewayAllLogs: wrkResult(8000, 0.8, 1.3, 20000),
      gatewayAllLogsCpuMs: 1200,
      viaLoadBalancer: wrkResult(7500, 0.9, 1.5, 22500),
    });
    expect(s.cpuUsPerRequestAllLogs).toBeCloseTo(60);
    expect(s.loadBalancerRatio).toBeCloseTo(0.75);
    expect(summariseGateway(GATEWAY_RUN).cpuUsPerRequestAllLogs).toBeUndefined();
  });

  test("the page shows the logged-requests and load balancer table only for runs that measured them", () => {
    const page = (gateway: GatewayRun[]) =>
      renderBenchmarksPage(
        {
          generatedAt: "2026-01-01T00:00:00.000Z",
          quick: false,
          machine: MACHINE,
          programEval: [],
          gateway,
          formation: [],
        },
        "chart.svg",
      );
    expect(page([GATEWAY_RUN])).not.toContain("### Every request logged");
    const text = page([
      GATEWAY_RUN,
      {
        ...GATEWAY_RUN,
        gatewayAllLogs: wrkResult(8000, 0.8, 1.3, 20000),
        gatewayAllLogsCpuMs: 1200,
        viaLoadBalancer: wrkResult(7500, 0.9, 1.5, 22500),
      },
    ]);
    expect(text).toContain("### Every request logged");
    // 50 µs with errors logged, 60 with every request: +20 %; 7500 of 10000 req/s through the stand-in.
    expect(text).toContain("| echo | 8 | 50.0 | 60.0 | +20 % | 7500 | 0.75× | 1.50 | 0 / 0 |");
    expect(text.match(/\| echo \| 8 \| 50\.0 \|/g)).toHaveLength(1);
  });

  test("ratio of req/s, added p50 and p99, and gateway CPU µs per gateway request", () => {
    const s = summariseGateway(GATEWAY_RUN);
    expect(s.rpsRatio).toBeCloseTo(0.9);
    expect(s.p50AddedMs).toBeCloseTo(0.25);
    expect(s.p99AddedMs).toBeCloseTo(0.25);
    expect(s.cpuUsPerRequest).toBeCloseTo(50);
  });
});

describe("program evaluation figures", () => {
  test("resources per added worker between consecutive sizes, whatever the input order", () => {
    const run = (workers: number, resources: number) => ({
      workers,
      resources,
      wallMs: 0,
      programMs: 0,
      maxRssMb: 0,
      commands: 0,
    });
    expect(resourcesPerAddedWorker([run(30, 210), run(3, 75), run(199, 1055)])).toEqual([
      { from: 3, to: 30, perWorker: 5 },
      { from: 30, to: 199, perWorker: 5 },
    ]);
  });
  test("workers split over a fixed number of pools, earlier pools taking the remainder", () => {
    expect(splitWorkers(3, 4).map((p) => p.count)).toEqual([1, 1, 1, 0]);
    expect(splitWorkers(199, 4).map((p) => p.count)).toEqual([50, 50, 50, 49]);
    expect(splitWorkers(30, 4).map((p) => p.name)).toEqual(["app-1", "app-2", "app-3", "app-4"]);
    expect(() => splitWorkers(3, 0)).toThrow(/cannot split/);
  });
});

describe("markdown", () => {
  test("a table has a header, a separator and one line per row, with | escaped", () => {
    expect(renderTable(["a", "b"], [["1", "x|y"]])).toBe("| a | b |\n| --- | --- |\n| 1 | x\\|y |");
  });
  test("missing figures show as a dash, differences with their sign", () => {
    expect(fmt(undefined)).toBe("–");
    expect(fmt(1.234)).toBe("1.23");
    expect(signed(0.17)).toBe("+0.17");
    expect(signed(-0.5)).toBe("-0.50");
    expect(signed(-0.001)).toBe("+0.00");
  });
  test("the page names the machine, shows every program size and gateway run, links the chart, and ends with the notes", () => {
    const results: BenchResults = {
      generatedAt: "2026-01-01T00:00:00.000Z",
      quick: true,
      machine: MACHINE,
      programEval: [
        { workers: 3, wallMs: 11000, programMs: 6000, maxRssMb: 240, resources: 75, commands: 23 },
        { workers: 30, wallMs: 12000, programMs: 9000, maxRssMb: 250, resources: 210, commands: 131 },
      ],
      gateway: [GATEWAY_RUN],
      formation: [],
    };
    const page = renderBenchmarksPage(results, "benchmarks.svg");
    expect(page).toContain("| 2 | 4.0 GiB | Test CPU | 6.1.0 | v20.0.0 | 2.6.12 | 26.1.5 | 4.1.0 | 3.11.2 |");
    expect(page).toContain("| 30 | 12.00 | 9.00 | 250 | 210 | 131 |");
    expect(page).toContain("Resources per added worker: 5.00 (3→30)");
    expect(page).toContain(
      "| echo | 8 | 10000 | 9000 | 0.90× | 0.50 | 0.75 | +0.25 | 1.00 | 1.25 | +0.25 | 50.0 | 0 / 0 |",
    );
    expect(page).toContain("(benchmarks.svg)");
    expect(page).toContain("**--quick**");
    expect(renderBenchmarksPage(results, "b.svg", "## Notes\n\nfound it\n").endsWith("## Notes\n\nfound it\n")).toBe(
      true,
    );
  });
});

describe("svg line chart", () => {
  const chart = {
    title: "t <&>",
    xLabel: "workers",
    yLabel: "s",
    logX: true,
    series: [
      {
        name: "wall",
        points: [
          { x: 3, y: 10 },
          { x: 300, y: 40 },
        ],
      },
    ],
  };
  test("nice ticks are 1, 2 or 5 × 10^k steps from 0 past the maximum", () => {
    expect(niceTicks(37)).toEqual([0, 10, 20, 30, 40]);
    expect(niceTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
  test("text is XML-escaped", () => {
    expect(escapeXml(`a<b>&"c"`)).toBe("a&lt;b&gt;&amp;&quot;c&quot;");
    expect(renderLineChart(chart)).toContain("t &lt;&amp;&gt;");
  });
  test("one polyline per series from the left to the right edge of the plot, lowest x first", () => {
    const svg = renderLineChart(chart);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    // 640 wide, margins 64 and 16; the plot starts below the title and a one-row legend (y 52) and
    // is 260 pixels high: y 10 of 40 is a quarter of it above the axis (y 312).
    expect(svg).toContain('<polyline points="64.0,247.0 624.0,52.0"');
  });
  test("the same input renders the same bytes", () => {
    expect(renderLineChart(chart)).toBe(renderLineChart(chart));
  });
  test("a chart without points, or with x ≤ 0 on a log scale, throws", () => {
    expect(() => renderLineChart({ ...chart, series: [] })).toThrow(/no points/);
    expect(() => renderLineChart({ ...chart, series: [{ name: "z", points: [{ x: 0, y: 1 }] }] })).toThrow(/log x/);
  });
});

describe("formation timeline", () => {
  const r = (type: string, name: string, startedAt: number, finishedAt?: number) => ({
    type,
    name,
    startedAt,
    finishedAt,
  });
  test("resources fall into phases by type and by command name without the cluster prefix", () => {
    expect(phaseOf(r("aws:ec2/vpc:Vpc", "dev-vpc", 0), "dev")).toBe("infrastructure");
    expect(phaseOf(r("aws:ec2/instance:Instance", "dev-app-0", 0), "dev")).toBe("hosts");
    expect(phaseOf(r("command:remote:Command", "dev-ready-app-0", 0), "dev")).toBe("hosts ready");
    expect(phaseOf(r("command:local:Command", "dev-init", 0), "dev")).toBe("init");
    expect(phaseOf(r("command:local:Command", "dev-token-worker", 0), "dev")).toBe("tokens");
    expect(phaseOf(r("command:remote:Command", "dev-join-app-1", 0), "dev")).toBe("joins");
    expect(phaseOf(r("command:local:Command", "dev-member-app-1", 0), "dev")).toBe("labels");
    expect(phaseOf(r("docker:index/image:Image", "dev-echo-image", 0), "dev")).toBe("image build and push");
    expect(phaseOf(r("command:local:Command", "dev-deploy", 0), "dev")).toBe("deploy and converge");
    expect(phaseOf(r("aws-swarm:swarm:SwarmCluster", "dev", 0), "dev")).toBeUndefined();
  });
  test("a phase spans its first start to its last end; busy time sums overlapping resources", () => {
    const spans = phaseTimeline(
      [
        r("command:remote:Command", "dev-join-app-0", 100, 400),
        r("command:remote:Command", "dev-join-app-1", 200, 900),
        r("command:local:Command", "dev-init", 10, 50),
        r("command:local:Command", "dev-member-app-0", 950),
      ],
      "dev",
    );
    expect(spans).toEqual([
      { phase: "init", resources: 1, startMs: 10, endMs: 50, busyMs: 40, longestMs: 40, longest: "dev-init" },
      {
        phase: "joins",
        resources: 2,
        startMs: 100,
        endMs: 900,
        busyMs: 1000,
        longestMs: 700,
        longest: "dev-join-app-1",
      },
    ]);
  });
  test("calls are counted with their total time and the clock time they cover together", () => {
    expect(
      callStats([
        { start: 0, end: 10 },
        { start: 5, end: 15 },
        { start: 20, end: 30 },
        { start: 21, end: 22 },
      ]),
    ).toEqual({ calls: 4, totalMs: 31, wallMs: 25 });
  });
});

describe("parallel joins vs joins one at a time", () => {
  const run = (workers: number, upMs: number, joins: [number, number], oneAtATime?: string): FormationRun => ({
    workers,
    nodes: workers + 2,
    hostsUpMs: 1000,
    upMs,
    resources: 100,
    commands: 50,
    phases: [
      { phase: "init", resources: 1, startMs: 0, endMs: 1000, busyMs: 1000, longestMs: 1000, longest: "dev-init" },
      {
        phase: "joins",
        resources: workers + 2,
        startMs: joins[0],
        endMs: joins[1],
        busyMs: 0,
        longestMs: 0,
        longest: "dev-join-app-0",
      },
    ],
    hostsCalls: {},
    ...(oneAtATime ? { oneAtATime } : {}),
  });
  const parallel = run(14, 40_000, [10_000, 14_000]);
  const serial = run(14, 60_000, [10_000, 30_000], "-join-");

  test("the ratio of the joins phases and of the whole up, same size only", () => {
    expect(joinsSpeedup(parallel, serial)).toEqual({
      parallelJoinsMs: 4000,
      serialJoinsMs: 20000,
      joinsRatio: 5,
      upRatio: 1.5,
    });
    expect(joinsSpeedup(run(8, 1, [0, 1]), serial)).toBeUndefined();
  });

  test("the page shows the serial run in the timeline and the ratio", () => {
    const results: BenchResults = {
      generatedAt: "2026-01-01T00:00:00.000Z",
      quick: false,
      machine: MACHINE,
      programEval: [],
      gateway: [],
      formation: [run(2, 20_000, [10_000, 12_000]), parallel],
      formationSerialJoins: serial,
    };
    const page = renderBenchmarksPage(results, "benchmarks.svg");
    expect(page).toContain("| phase | 2 workers | 14 workers | 14 workers, joins one at a time |");
    expect(page).toContain("| joins | 10.0 → 12.0 | 10.0 → 14.0 | 10.0 → 30.0 |");
    expect(page).toContain("| 14 | 4.0 | 20.0 | 5.00× | 40.0 | 60.0 | 1.50× |");
    // Without the serial run, neither.
    const plain = renderBenchmarksPage({ ...results, formationSerialJoins: undefined }, "benchmarks.svg");
    expect(plain).not.toContain("one at a time");
  });
});

describe("rolling update", () => {
  const ROLL: RollingUpdateRun = {
    ranAt: "2026-01-01T10:00:00.000Z",
    workers: 2,
    nodes: 4,
    change: "a new build of the echo image (ECHO_VERSION 1 → 2)",
    plan: ["replace dev-stack-app-deploy", "update dev-echo-image"],
    firstUpMs: 50_000,
    upMs: 75_000,
    replicas: 5,
    services: [
      { service: "app_hello", replicas: 2, state: "completed", startMs: 10_000, endMs: 50_000 },
      { service: "app_world", replicas: 3, state: "completed", startMs: 10_000, endMs: 70_000 },
    ],
    load: {
      concurrency: 8,
      tailMs: 2000,
      sent: 4000,
      failed: 2,
      errors: { "502 Bad Gateway": 2 },
      versions: { "1": 1500, "2": 2498 },
    },
  };

  test("the plan's changes, sorted, unchanged resources left out", () => {
    const line = (op: string, name: string) => ({ op, name });
    expect(
      planChanges([line("update", "dev-echo-image"), line("same", "dev-ssh"), line("replace", "dev-stack-app-deploy")]),
    ).toEqual(["replace dev-stack-app-deploy", "update dev-echo-image"]);
  });

  test("tasks replaced per service: running after, not before", () => {
    const before = "t1 app_hello.1\nt2 app_hello.2\nt3 app_world.1\n";
    const after = "t4 app_hello.1\nt2 app_hello.2\nt5 app_world.1\nt6 app_world.10\n";
    expect(replacedTasks(before, after)).toEqual({ app_hello: 1, app_world: 2 });
    expect(replacedTasks(before, before)).toEqual({ app_hello: 0, app_world: 0 });
  });

  test("each service's update times from UpdateStatus, in ms since the up began; zero times and no update are missing", () => {
    const since = Date.parse("2026-01-01T10:00:00Z");
    const inspect = [
      'app_hello {"State":"completed","StartedAt":"2026-01-01T10:00:10.123456789Z","CompletedAt":"2026-01-01T10:00:50.5Z","Message":"update completed"}',
      'app_world {"State":"updating","StartedAt":"2026-01-01T10:00:11Z","CompletedAt":"0001-01-01T00:00:00Z"}',
      "app_other null",
    ].join("\n");
    expect(serviceUpdates(inspect, { app_hello: 2, app_world: 3 }, since)).toEqual([
      { service: "app_hello", replicas: 2, state: "completed", startMs: 10_123, endMs: 50_500 },
      { service: "app_world", replicas: 3, state: "updating", startMs: 11_000, endMs: undefined },
      { service: "app_other", replicas: 0, state: "none", startMs: undefined, endMs: undefined },
    ]);
  });

  test("per replica: the whole up and each service's update over the tasks it replaced", () => {
    expect(perReplica(ROLL)).toEqual({
      upMsPerReplica: 15_000,
      services: [
        { service: "app_hello", updateMs: 40_000, msPerReplica: 20_000 },
        { service: "app_world", updateMs: 60_000, msPerReplica: 20_000 },
      ],
    });
    const none = perReplica({ ...ROLL, replicas: 0, services: [{ service: "app_hello", replicas: 0, state: "none" }] });
    expect(none).toEqual({ upMsPerReplica: undefined, services: [{ service: "app_hello" }] });
  });

  test("the section says what changed and through what, with the run's and each service's figures", () => {
    const section = renderRollingUpdate(ROLL).join("\n");
    expect(section).toContain("## Rolling update under load (harness)");
    expect(section).toContain("a new build of the echo image (ECHO_VERSION 1 → 2)");
    expect(section).toContain("8 request loops");
    expect(section).toContain(
      "| 2026-01-01 10:00 | replace dev-stack-app-deploy, update dev-echo-image | 75.0 | 5 | 15.0 | 4000 | 2 | 0.05 |",
    );
    expect(section).toContain("| app_world | completed | 3 | 10.0 → 70.0 | 60.0 | 20.0 |");
    expect(section).toContain("Failures: 502 Bad Gateway ×2. Versions answered: 1 ×1500, 2 ×2498.");
  });

  test("the page has the section only when the results have a run (older results.json files have none)", () => {
    const results: BenchResults = {
      generatedAt: "2026-01-01T00:00:00.000Z",
      quick: true,
      machine: MACHINE,
      programEval: [],
      gateway: [],
      formation: [],
    };
    expect(renderBenchmarksPage(results, "benchmarks.svg")).not.toContain("Rolling update");
    const page = renderBenchmarksPage({ ...results, rollingUpdate: ROLL }, "benchmarks.svg");
    expect(page).toContain("## Rolling update under load (harness)");
    expect(page).toContain("Failures: 502 Bad Gateway ×2.");
  });
});
