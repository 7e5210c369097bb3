// Ctrl-C (SIGINT) and SIGTERM for `cidev run`, honoured from the first moment: installed before
// anything slow starts. Until a job runs, the first one aborts `signal` (nothing more is
// started; what was started is stopped) and a second one exits at once; while a job runs, its
// handler decides (first: cancel the job; second: stop at once).

import { EXIT_INTERRUPTED } from "@solstice/cli-kit";

export { EXIT_INTERRUPTED };

/** What a handler is told: how many interrupts so far (1 for the first). */
export type InterruptHandler = (count: number) => void;

/** The process's interrupts for one command; `dispose()` removes the signal listeners. */
export class Interrupts {
  readonly #controller = new AbortController();
  readonly #listener = () => this.#fire();
  readonly #hardExit: () => void;
  #count = 0;
  #handler: InterruptHandler | undefined;

  private constructor(hardExit: () => void) {
    this.#hardExit = hardExit;
  }

  /**
   * Listens for SIGINT and SIGTERM. `hardExit` runs on a second interrupt with no handler set
   * (default: exit 130 now; children were started so that they do not outlive it).
   */
  static install(hardExit: () => void = () => process.exit(EXIT_INTERRUPTED)): Interrupts {
    const interrupts = new Interrupts(hardExit);
    process.on("SIGINT", interrupts.#listener);
    process.on("SIGTERM", interrupts.#listener);
    return interrupts;
  }

  /** Aborted at the first interrupt. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** How many interrupts came. */
  get count(): number {
    return this.#count;
  }

  /** Routes interrupts to `handler` until the returned function is called. */
  handle(handler: InterruptHandler): () => void {
    const previous = this.#handler;
    this.#handler = handler;
    return () => {
      this.#handler = previous;
    };
  }

  /** Counts an interrupt as a signal would (also for tests). */
  #fire(): void {
    this.#count++;
    if (!this.#controller.signal.aborted) this.#controller.abort(new Error("interrupted"));
    if (this.#handler !== undefined) this.#handler(this.#count);
    else if (this.#count >= 2) this.#hardExit();
  }

  /** For tests: as if Ctrl-C was pressed. */
  interrupt(): void {
    this.#fire();
  }

  dispose(): void {
    process.off("SIGINT", this.#listener);
    process.off("SIGTERM", this.#listener);
  }
}

/**
 * `work`, unless an interrupt comes first: then resolves to undefined at once, and whatever
 * `work` resolves to later is handed to `cleanup` (e.g. a service that finished starting).
 */
export async function unlessInterrupted<T>(
  signal: AbortSignal,
  work: Promise<T>,
  cleanup: (late: T) => Promise<unknown>,
): Promise<T | undefined> {
  if (signal.aborted) {
    void work.then(cleanup, () => undefined);
    return undefined;
  }
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const result = await Promise.race([work.then((value) => ({ value })), aborted]);
    if (result === undefined) {
      void work.then(cleanup, () => undefined);
      return undefined;
    }
    return result.value;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
