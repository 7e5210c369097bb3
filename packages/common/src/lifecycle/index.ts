export { type ReadinessProbe, readinessAnswer } from "./readiness-probe.ts";
export { onStopSignals, type StopSignalHandlers } from "./stop-signals.ts";
