/** Where an HTTP port listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port` (`[::1]:8081` for IPv6), or undefined when it is not one. The host is
 * required, so that a port is never opened on every interface by accident: `0.0.0.0:8081` says
 * it. Port 0: any free port. Callers throw their own error, naming their setting.
 *
 * @example
 *   parseListenAddress("127.0.0.1:9465") // { host: "127.0.0.1", port: 9465 }
 */
export function parseListenAddress(value: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (match === null || host === undefined || !Number.isInteger(port) || port > 65_535) return undefined;
  return { host, port };
}
