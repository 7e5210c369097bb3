export { type ReadinessProbe, readinessAnswer } from "./readiness-probe.ts";
export { type Settled, settleWithin } from "./settle-within.ts";
export { onStopSignals, type StopSignalHandlers } from "./stop-signals.ts";
