export { Counter } from "./counter.ts";
export { Histogram, type HistogramSeries } from "./histogram.ts";
export {
  type MetricFamily,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
  type Sample,
} from "./prometheus-text.ts";
