import { createServer } from "node:net";
import { SshPortExhaustedError } from "../errors.ts";
import {
  DEFAULT_SSH_PORT_RANGE,
  type SshPortRange,
  sshPortCandidates,
  validateSshPortRange,
} from "./ssh-port.ts";

/** Is `port` free on 127.0.0.1? Probed by binding it for a moment. */
export function isLoopbackPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** Ports reserved by any allocator of this process, and the queue that serialises allocation. */
interface Reservations {
  readonly ports: Set<number>;
  queue: Promise<unknown>;
}

const processReservations: Reservations = { ports: new Set(), queue: Promise.resolve() };

/**
 * Hands out SSH forward ports: the VM's preferred port (see {@link preferredSshPort}) or the next
 * free one, skipping ports reserved in this process and ports something else listens on.
 * Reservations last until {@link release}. By default every allocator of the process shares one
 * set of reservations, so concurrent VMs of one orchestrator never share a port, whatever their
 * ranges.
 */
export class SshPortAllocator {
  readonly range: SshPortRange;
  readonly #reservations: Reservations;

  constructor(range: SshPortRange = DEFAULT_SSH_PORT_RANGE, options: { isolated?: boolean } = {}) {
    this.range = validateSshPortRange(range);
    this.#reservations = options.isolated
      ? { ports: new Set(), queue: Promise.resolve() }
      : processReservations;
  }

  /** Reserve a free port for `vmName`. Throws {@link SshPortExhaustedError} when none is left. */
  allocate(vmName: string, options: { exclude?: Iterable<number> } = {}): Promise<number> {
    const exclude = new Set(options.exclude ?? []);
    // Serialised: two VMs allocating at once must not both probe the same free port.
    const reservations = this.#reservations;
    const result = reservations.queue.then(async () => {
      for (const port of sshPortCandidates(vmName, this.range)) {
        if (reservations.ports.has(port) || exclude.has(port)) continue;
        if (!(await isLoopbackPortFree(port))) continue;
        reservations.ports.add(port);
        return port;
      }
      throw new SshPortExhaustedError(this.range);
    });
    reservations.queue = result.catch(() => undefined);
    return result;
  }

  /** Give a port back (idempotent). */
  release(port: number): void {
    this.#reservations.ports.delete(port);
  }

  /** Ports currently reserved (by this process, unless isolated), ascending. */
  reserved(): number[] {
    return [...this.#reservations.ports].sort((a, b) => a - b);
  }
}
