import { type ListenAddress, parseListenAddress } from "@solstice/common";
import { RunnerHttpAddrError } from "../errors.ts";

/** Where a runner's health and metrics port listens. */
export type HttpAddr = ListenAddress;

/**
 * Parses `host:port` (`[::1]:9465` for IPv6); the host is required (`0.0.0.0:9465` to mean every
 * interface). Port 0: any free port.
 *
 * @throws RunnerHttpAddrError when it is not `host:port`
 * @example
 *   parseHttpAddr("127.0.0.1:9465") // { host: "127.0.0.1", port: 9465 }
 */
export function parseHttpAddr(value: string): HttpAddr {
  const addr = parseListenAddress(value);
  if (addr === undefined) throw new RunnerHttpAddrError(value);
  return addr;
}
