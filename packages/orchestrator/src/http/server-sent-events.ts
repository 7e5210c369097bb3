/** One server-sent event. `data` may span lines (each becomes its own `data:` line). */
export interface ServerSentEvent {
  readonly id?: string | number | undefined;
  readonly event?: string | undefined;
  readonly data: string;
}

/**
 * Formats an event in the `text/event-stream` format (WHATWG HTML, "Server-sent events").
 *
 * @example
 *   formatSse({ id: 7, event: "log", data: '{"seq":7}' }) // "id: 7\nevent: log\ndata: {\"seq\":7}\n\n"
 */
export function formatSse(e: ServerSentEvent): string {
  let out = "";
  if (e.id !== undefined) out += `id: ${String(e.id).replace(/[\r\n]/g, "")}\n`;
  if (e.event !== undefined) out += `event: ${e.event.replace(/[\r\n]/g, "")}\n`;
  for (const line of e.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line: ignored by clients, keeps proxies from closing an idle stream. */
export const SSE_KEEPALIVE = ": keepalive\n\n";
