/**
 * A small SVG line chart renderer: no dependencies, deterministic output (same input, same bytes),
 * so docs/benchmarks.svg diffs only when a figure changes.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  name: string;
  points: readonly Point[];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Log scale on x (all x must be > 0): useful for 3, 30, 300. @default false */
  logX?: boolean;
  width?: number;
  height?: number;
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"];
const MARGIN = { left: 64, right: 16, top: 36, bottom: 48 };
/** Height of one legend row; the legend sits between the title and the plot, never over a line. */
const LEGEND_ROW = 16;

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Number formatting for axis ticks: no trailing zeros, at most 3 decimals. */
export function formatTick(value: number): string {
  return String(Number(value.toFixed(3)));
}

/** "Nice" tick values covering [0, max]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step - 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  return ticks;
}

/** Renders the chart as a standalone SVG document. Throws on a chart with no points. */
export function renderLineChart(chart: LineChart): string {
  const width = chart.width ?? 640;
  const height = chart.height ?? 360;
  const points = chart.series.flatMap((s) => s.points);
  if (points.length === 0) throw new Error(`chart ${JSON.stringify(chart.title)} has no points`);
  if (chart.logX && points.some((p) => p.x <= 0)) throw new Error("log x scale needs every x > 0");

  const xs = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
  const yTicks = niceTicks(Math.max(...points.map((p) => p.y)));
  const yMax = yTicks[yTicks.length - 1];
  const fx = (x: number) => (chart.logX ? Math.log10(x) : x);
  const [x0, x1] = [fx(xs[0]), fx(xs[xs.length - 1])];
  const top = MARGIN.top + LEGEND_ROW * chart.series.length;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + (x1 === x0 ? plotW / 2 : ((fx(x) - x0) / (x1 - x0)) * plotW);
  const py = (y: number) => top + plotH - (y / yMax) * plotH;
  const f = (n: number) => n.toFixed(1);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${f(width / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(chart.title)}</text>`,
  ];
  for (const t of yTicks) {
    out.push(
      `<line x1="${MARGIN.left}" y1="${f(py(t))}" x2="${width - MARGIN.right}" y2="${f(py(t))}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${f(py(t) + 4)}" text-anchor="end">${formatTick(t)}</text>`,
    );
  }
  for (const x of xs) {
    out.push(
      `<line x1="${f(px(x))}" y1="${top + plotH}" x2="${f(px(x))}" y2="${top + plotH + 4}" stroke="#000"/>`,
      `<text x="${f(px(x))}" y="${top + plotH + 18}" text-anchor="middle">${formatTick(x)}</text>`,
    );
  }
  out.push(
    `<line x1="${MARGIN.left}" y1="${top}" x2="${MARGIN.left}" y2="${top + plotH}" stroke="#000"/>`,
    `<line x1="${MARGIN.left}" y1="${top + plotH}" x2="${width - MARGIN.right}" y2="${top + plotH}" stroke="#000"/>`,
    `<text x="${f(MARGIN.left + plotW / 2)}" y="${height - 10}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text transform="translate(16 ${f(top + plotH / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
  );
  chart.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const sorted = [...series.points].sort((a, b) => a.x - b.x);
    if (sorted.length > 1) {
      const d = sorted.map((p) => `${f(px(p.x))},${f(py(p.y))}`).join(" ");
      out.push(`<polyline points="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    }
    for (const p of sorted) {
      out.push(`<circle cx="${f(px(p.x))}" cy="${f(py(p.y))}" r="3.5" fill="${colour}"/>`);
    }
    const ly = MARGIN.top + 4 + i * LEGEND_ROW;
    out.push(
      `<line x1="${MARGIN.left + 10}" y1="${ly}" x2="${MARGIN.left + 28}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${MARGIN.left + 34}" y="${ly + 4}">${escapeXml(series.name)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
