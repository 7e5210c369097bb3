import { RunnerHttpAddrError } from "../errors.ts";

/** Where a runner's health and metrics port listens. */
export interface HttpAddr {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port` (`[::1]:9465` for IPv6). The host is required, so that the port is never
 * opened on every interface by accident: say `0.0.0.0:9465` to mean it. Port 0: any free port.
 *
 * @example
 *   parseHttpAddr("127.0.0.1:9465") // { host: "127.0.0.1", port: 9465 }
 */
export function parseHttpAddr(value: string): HttpAddr {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (match === null || host === undefined || !Number.isInteger(port) || port > 65_535) {
    throw new RunnerHttpAddrError(value);
  }
  return { host, port };
}
