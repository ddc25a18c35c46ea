import type { CompareReport } from "./compare-models.js";
import { escapeXml, latencyChartSvg } from "./latency-chart.js";

/** The report as the terminal shows it: a header row and one row of cells per figure. */
export interface ReportTable {
  header: readonly string[];
  rows: ReadonlyArray<readonly string[]>;
}

const style = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; } th, td { padding: .3rem .8rem; border-bottom: 1px solid #ddd; text-align: left; }
th:first-child, td:first-child { color: #555; font-weight: normal; }
#latency-chart .sample { fill: #2f6fdf; fill-opacity: .45; }
#latency-chart .box { fill: #2f6fdf; fill-opacity: .12; stroke: #2f6fdf; }
#latency-chart .median { stroke: #d33; stroke-width: 2; }
#latency-chart .whisker, #latency-chart .axis line, #latency-chart .tick { stroke: #777; }
#latency-chart text { font: 12px system-ui, sans-serif; fill: #333; }
`;

/** A self-contained page (no script, no external file): the comparison table and the latency chart. */
export function renderReportHtml(report: CompareReport, table: ReportTable): string {
  const cell = (tag: string, text: string) => `<${tag}>${escapeXml(text)}</${tag}>`;
  const head = `<tr>${table.header.map((h) => cell("th", h)).join("")}</tr>`;
  const body = table.rows.map((row) => `<tr>${row.map((c) => cell("td", c)).join("")}</tr>`).join("\n");
  const generation = report.kind === "generation";
  const chart = latencyChartSvg(
    report.models.map((m, i) => ({
      name: table.header[i + 1] ?? m.model,
      samples_ms: "latency_samples_ms" in m ? m.latency_samples_ms : m.time_to_first_token_samples_ms,
    })),
    generation ? "time to first token, ms" : undefined,
  );
  const labelled = report.labelled_rows > 0 ? `, ${report.labelled_rows} labelled` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gpux compare</title><style>${style}</style></head>
<body>
<h1>gpux compare: ${escapeXml(report.models.map((m, i) => table.header[i + 1] ?? m.model).join(" vs "))}</h1>
<p>${report.requests} request(s)${labelled}; the first model is the baseline, the others are shown with their ratio to it.</p>
<table id="compare-table">${head}
${body}</table>
<h2>${generation ? "Time to first token" : "Latency at batch 1"}</h2>
<p>Each dot is one timed ${generation ? "answer to the first prompt" : "run of the first request"}; the box spans p25 to p75, the red line is the median, the whisker runs from the fastest to the slowest run.</p>
${chart}
</body></html>
`;
}
