import type { Endpoint } from "./endpoints.ts";

// Every HTTP call the server answers is recorded (tests check what a runner called and how it
// fared), and tests may make the next calls of an endpoint fail, wait, or lose their connection,
// as a flaky network or server would.

/** One call as the server saw it. */
export interface CallRecord {
  readonly endpoint: Endpoint | "unknown";
  readonly method: string;
  /** The path, without the query (blob URLs carry their signature there). */
  readonly path: string;
  /** When it arrived. */
  readonly at: Date;
  /** The status answered; 0 when the connection was dropped or is still open. */
  readonly status: number;
  /** How long the answer took, in milliseconds (long polls are long). */
  readonly durationMs: number;
  /** Whether a fault injected with failNext/delayNext/dropNext shaped it. */
  readonly injected: boolean;
}

/** A fault to inject into the next call of an endpoint. */
export type Fault =
  | { readonly kind: "fail"; readonly status: number; readonly body: unknown }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "drop" };

interface MutableCall {
  endpoint: Endpoint | "unknown";
  method: string;
  path: string;
  at: Date;
  status: number;
  durationMs: number;
  injected: boolean;
}

/** The calls recorded and the faults waiting to be injected. */
export class CallLog {
  readonly calls: MutableCall[] = [];
  readonly #faults = new Map<Endpoint, Fault[]>();
  /** Told of each call as it arrives, before it is handled (tests act at that exact moment). */
  readonly #observers = new Set<(call: CallRecord) => void>();
  /** Endpoints down until a time (epoch ms), each with the fault every call meets meanwhile. */
  readonly #outages = new Map<Endpoint, { readonly until: number; readonly fault: Fault }>();

  /** Queues `count` faults for the next calls of `endpoint`. */
  inject(endpoint: Endpoint, fault: Fault, count: number): void {
    const queue = this.#faults.get(endpoint) ?? [];
    for (let i = 0; i < count; i++) queue.push(fault);
    this.#faults.set(endpoint, queue);
  }

  /** Every call of `endpoint` meets `fault` for the next `ms` milliseconds. */
  outage(endpoint: Endpoint, fault: Fault, ms: number): void {
    this.#outages.set(endpoint, { until: Date.now() + ms, fault });
  }

  /** The fault for this call: an outage's, else a queued one (taken off the queue). */
  takeFault(endpoint: Endpoint): Fault | undefined {
    const outage = this.#outages.get(endpoint);
    if (outage !== undefined) {
      if (Date.now() < outage.until) return outage.fault;
      this.#outages.delete(endpoint);
    }
    return this.#faults.get(endpoint)?.shift();
  }

  /** Calls `observer` with each call as it arrives; returns the function that stops it. */
  observe(observer: (call: CallRecord) => void): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  /** Starts recording a call; the returned function records how it ended. */
  start(
    endpoint: Endpoint | "unknown",
    method: string,
    path: string,
  ): (status: number, injected: boolean) => void {
    const call: MutableCall = {
      endpoint,
      method,
      path,
      at: new Date(),
      status: 0,
      durationMs: 0,
      injected: false,
    };
    this.calls.push(call);
    for (const observer of this.#observers) observer(call);
    return (status, injected) => {
      call.status = status;
      call.durationMs = Date.now() - call.at.getTime();
      call.injected = injected;
    };
  }
}
