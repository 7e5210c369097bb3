export { onStopSignals, type StopSignalHandlers } from "./stop-signals.ts";
