import { Code, ConnectError } from "@connectrpc/connect";

// Every RPC the server answers is recorded (tests check what a runner called, and how it fared),
// and tests may make the next calls of a procedure fail, as a flaky network or server would.

/** The procedures of Forgejo's runner API. */
export type Procedure = "Ping" | "Register" | "Declare" | "FetchTask" | "UpdateTask" | "UpdateLog";

/** The procedures whose failure tests can inject. */
export type FaultableProcedure = Exclude<Procedure, "Ping">;

/** One RPC as the server saw it. */
export interface CallRecord {
  readonly procedure: Procedure;
  /** When it arrived. */
  readonly at: Date;
  /** The error code's name when it failed (`Unauthenticated`, `AlreadyExists`...; `Code` keys). */
  readonly code?: string;
  /** The `x-runner-uuid` header, when sent. */
  readonly runnerUuid?: string;
  /** Whether the failure was injected with failNext. */
  readonly injected?: boolean;
}

interface MutableCall {
  procedure: Procedure;
  at: Date;
  code?: string;
  runnerUuid?: string;
  injected?: boolean;
}

/** The calls recorded and the failures waiting to be injected. */
export class CallLog {
  readonly calls: MutableCall[] = [];
  readonly #faults = new Map<Procedure, Code[]>();

  /** Makes the next `count` calls of `procedure` fail with `code`. */
  failNext(procedure: FaultableProcedure, count: number, code: Code): void {
    const queue = this.#faults.get(procedure) ?? [];
    for (let i = 0; i < count; i++) queue.push(code);
    this.#faults.set(procedure, queue);
  }

  /**
   * Runs one call's handler and records it: an injected failure first (before authentication,
   * as a network fault would), then the handler; its error's code is recorded.
   */
  async record<T>(
    procedure: Procedure,
    runnerUuid: string | null,
    handler: () => Promise<T> | T,
  ): Promise<T> {
    const call: MutableCall = { procedure, at: new Date() };
    if (runnerUuid !== null && runnerUuid !== "") call.runnerUuid = runnerUuid;
    this.calls.push(call);
    const fault = this.#faults.get(procedure)?.shift();
    if (fault !== undefined) {
      call.code = Code[fault];
      call.injected = true;
      throw new ConnectError(`injected ${Code[fault]} fault (failNext)`, fault);
    }
    try {
      return await handler();
    } catch (error) {
      call.code = Code[ConnectError.from(error).code];
      throw error;
    }
  }
}
