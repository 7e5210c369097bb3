/**
 * The logger every package writes to: the part of pino's `Logger` they use, so a pino logger (or a
 * child of one, e.g. `initTelemetry(...).logger`) can be passed as is. Fields first, then the
 * message, as pino takes them. Messages never carry key material or secrets.
 */
export interface ServiceLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const ignore = (): void => undefined;

/** A logger that drops everything (the default where none is given). */
export const silentLogger: ServiceLogger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});
