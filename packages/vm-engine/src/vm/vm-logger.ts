/**
 * The logger the VM engine writes to: a subset of pino's `Logger`, so a pino logger (or a child
 * of one) can be passed as is. Messages never carry key material or secrets.
 */
export interface EngineLogger {
  debug(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

/** A logger that drops everything (the default when none is given). */
export const silentLogger: EngineLogger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});
