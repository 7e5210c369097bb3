/** The part of a pino logger the queue uses; pass `initTelemetry(...).logger` (or a child). */
export interface MqLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const ignore = (): void => {};

/** Logs nothing: the default when no logger is given. */
export const silentLogger: MqLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** An error as log fields, without its stack (which says nothing useful about broker errors). */
export function errorFields(error: unknown): { err: { message: string; code?: unknown; name?: string } } {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return { err: { name: error.name, message: error.message, ...(code === undefined ? {} : { code }) } };
  }
  return { err: { message: String(error) } };
}
