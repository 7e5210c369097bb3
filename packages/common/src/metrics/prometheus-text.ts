import type { HistogramSeries } from "./histogram.ts";

/** A metric sample: labels and a value. */
export interface Sample {
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly value: number;
}

/** A metric family, as the Prometheus text format (version 0.0.4) groups it. */
export type MetricFamily =
  | {
      readonly type: "gauge" | "counter";
      readonly name: string;
      readonly help: string;
      readonly samples: readonly Sample[];
    }
  | {
      readonly type: "histogram";
      readonly name: string;
      readonly help: string;
      readonly buckets: readonly number[];
      readonly series: readonly HistogramSeries[];
    };

/** The content type of the Prometheus text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Renders metric families in the Prometheus text exposition format.
 *
 * @example
 *   renderPrometheus([{ type: "gauge", name: "solstice_vms", help: "VMs", samples: [{ labels: { state: "running" }, value: 2 }] }])
 *   // # HELP solstice_vms VMs\n# TYPE solstice_vms gauge\nsolstice_vms{state="running"} 2\n
 */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type === "histogram") {
      for (const s of f.series) {
        f.buckets.forEach((le, i) => {
          out.push(
            `${f.name}_bucket${labelSet({ ...s.labels, le: formatNumber(le) })} ${s.cumulative[i] ?? 0}`,
          );
        });
        out.push(`${f.name}_bucket${labelSet({ ...s.labels, le: "+Inf" })} ${s.count}`);
        out.push(`${f.name}_sum${labelSet(s.labels)} ${formatNumber(s.sum)}`);
        out.push(`${f.name}_count${labelSet(s.labels)} ${s.count}`);
      }
    } else {
      for (const s of f.samples) out.push(`${f.name}${labelSet(s.labels ?? {})} ${formatNumber(s.value)}`);
    }
  }
  return `${out.join("\n")}\n`;
}

function labelSet(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(n);
}
