/** What to do on SIGTERM/SIGINT. */
export interface StopSignalHandlers {
  /** The first signal: start the two-phase shutdown. */
  readonly stop: (signal: NodeJS.Signals) => void;
  /** The second: end the drain at once (cancel what runs). */
  readonly hurry: (signal: NodeJS.Signals) => void;
  /** The third: give up on a clean shutdown. */
  readonly abandon: (signal: NodeJS.Signals) => void;
}

/**
 * Routes SIGTERM and SIGINT: the first starts a graceful stop, the second skips the rest of the
 * drain, the third abandons. Returns a function that removes the handlers.
 */
export function onStopSignals(
  handlers: StopSignalHandlers,
  target: Pick<NodeJS.EventEmitter, "on" | "off"> = process,
): () => void {
  let count = 0;
  const listener = (signal: NodeJS.Signals): void => {
    count += 1;
    if (count === 1) handlers.stop(signal);
    else if (count === 2) handlers.hurry(signal);
    else handlers.abandon(signal);
  };
  target.on("SIGTERM", listener);
  target.on("SIGINT", listener);
  return () => {
    target.off("SIGTERM", listener);
    target.off("SIGINT", listener);
  };
}
