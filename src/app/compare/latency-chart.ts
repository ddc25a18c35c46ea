import { percentile } from "../../engine/benchmark.js";

export interface LatencySeries {
  name: string;
  samples_ms: readonly number[];
}

/** Text safe inside XML and HTML elements and attributes. */
export const escapeXml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

/** About five round tick values (1, 2 or 5 × 10^k apart) from 0 to at least `max`. */
function linearTicks(max: number): number[] {
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power) || 1;
  return Array.from({ length: Math.ceil(max / step) + 1 }, (_, i) => i * step);
}

/** 1, 2 and 5 × 10^k from below `min` to above `max`, for a logarithmic axis. */
function logTicks(min: number, max: number): number[] {
  const values: number[] = [];
  for (let power = Math.floor(Math.log10(min)); power <= Math.ceil(Math.log10(max)); power++) {
    for (const m of [1, 2, 5]) values.push(m * 10 ** power);
  }
  const first = values.findLastIndex((v) => v <= min);
  const last = values.findIndex((v) => v >= max);
  return values.slice(Math.max(first, 0), last < 0 ? undefined : last + 1);
}

/**
 * The axis: linear from 0, or logarithmic when the slowest run is over 20 times the fastest (a busy machine's
 * stalls would otherwise squeeze every typical run into the first few pixels).
 */
function scale(samples: readonly number[], width: number) {
  const min = Math.max(Math.min(...samples), 1e-3);
  const max = Math.max(...samples, 1e-3);
  if (max / min <= 20) {
    const ticks = linearTicks(max);
    const end = ticks[ticks.length - 1] as number;
    return { ticks, log: false, position: (ms: number) => (ms / end) * width };
  }
  const ticks = logTicks(min, max);
  const [low, high] = [Math.log10(ticks[0] as number), Math.log10(ticks[ticks.length - 1] as number)];
  return {
    ticks,
    log: true,
    position: (ms: number) => ((Math.log10(Math.max(ms, 1e-3)) - low) / (high - low)) * width,
  };
}

const layout = { width: 760, label: 200, right: 24, row: 64, top: 16, axis: 40 };
const round = (value: number) => Number(value.toFixed(2));

/**
 * A box-and-strip plot of each model's latency samples on one millisecond axis, as inline SVG: every sample
 * a dot (spread vertically so they do not hide each other), the box from p25 to p75 with the median, the
 * whisker from the fastest to the slowest run.
 */
export function latencyChartSvg(
  series: readonly LatencySeries[],
  axisTitle = "latency at batch 1, ms, end to end",
): string {
  const plotWidth = layout.width - layout.label - layout.right;
  const axis = scale(
    series.flatMap((s) => s.samples_ms),
    plotWidth,
  );
  const x = (ms: number) => round(layout.label + axis.position(ms));
  const height = layout.top + series.length * layout.row + layout.axis;
  const axisY = layout.top + series.length * layout.row;
  const parts: string[] = [];
  series.forEach((s, index) => {
    const mid = layout.top + index * layout.row + layout.row / 2;
    const sorted = [...s.samples_ms].sort((a, b) => a - b);
    const [p25, p50, p75] = [25, 50, 75].map((p) => percentile(sorted, p)) as [number, number, number];
    const dots = s.samples_ms
      .map(
        (ms, i) =>
          `<circle class="sample" cx="${x(ms)}" cy="${round(mid + (((i * 7) % 17) - 8) * 2.2)}" r="2"/>`,
      )
      .join("");
    parts.push(
      `<g class="model-latency" data-model="${escapeXml(s.name)}">` +
        `<text class="model-name" x="${layout.label - 10}" y="${mid + 4}" text-anchor="end">${escapeXml(s.name)}</text>` +
        `<line class="whisker" x1="${x(sorted[0] ?? 0)}" x2="${x(sorted[sorted.length - 1] ?? 0)}" y1="${mid}" y2="${mid}"/>` +
        `<rect class="box" x="${x(p25)}" y="${mid - 16}" width="${round(Math.max(x(p75) - x(p25), 1))}" height="32"/>` +
        `<line class="median" x1="${x(p50)}" x2="${x(p50)}" y1="${mid - 16}" y2="${mid + 16}"/>` +
        `${dots}</g>`,
    );
  });
  const tickMarks = axis.ticks
    .map(
      (ms) =>
        `<line class="tick" x1="${x(ms)}" x2="${x(ms)}" y1="${axisY}" y2="${axisY + 5}"/>` +
        `<text class="tick-label" x="${x(ms)}" y="${axisY + 18}" text-anchor="middle">${Number(ms.toPrecision(3))}</text>`,
    )
    .join("");
  return (
    `<svg id="latency-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${layout.width} ${height}" width="${layout.width}" height="${height}" role="img" aria-label="${escapeXml(axisTitle)}">` +
    parts.join("") +
    `<g class="axis"><line x1="${layout.label}" x2="${layout.width - layout.right}" y1="${axisY}" y2="${axisY}"/>${tickMarks}` +
    `<text x="${layout.label + plotWidth / 2}" y="${axisY + 34}" text-anchor="middle">${escapeXml(axisTitle)}${axis.log ? " (log scale)" : ""}</text></g></svg>`
  );
}
