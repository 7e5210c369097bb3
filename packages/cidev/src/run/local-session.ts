import { EXIT_INTERRUPTED, type TerminalStyle } from "@solstice/cli-kit";
import type { ImageEntry, ImageMap } from "@solstice/common";
import {
  EventReorderer,
  inSpan,
  type JobConclusion,
  type JobEvent,
  type JobOwner,
  type JobRequest,
  newCancelRequest,
  SPAN_ATTRIBUTES,
} from "@solstice/common";
import type { RunningOrchestrator, VmRecord } from "@solstice/orchestrator";
import { DEBUG_KEY_FILE } from "@solstice/orchestrator";
import { WORKSPACE_DIR_NAME } from "@solstice/vm-engine";
import type { Logger } from "pino";
import { startEmbeddedOrchestrator } from "./embedded-orchestrator.ts";
import type { Interrupts } from "./interrupts.ts";

/** What the session of one `cidev run` needs (one embedded orchestrator for all its jobs). */
export interface LocalSessionOptions {
  readonly imageMap: ImageMap;
  readonly imageMapPath: string;
  readonly stateDir: string;
  readonly keepForSecs: number;
  readonly logger: Logger;
  readonly interrupts: Interrupts;
  /** Writes Solstice's own notes (stderr). */
  readonly note: (line: string) => void;
  readonly sshTimeoutMs?: number | undefined;
}

/** One job to run; the request is complete (repository, commit, steps, owner). */
export interface LocalJob {
  readonly request: JobRequest;
  readonly image: ImageEntry;
  /** Keep a failed job's VM and wait (Ctrl-C or the TTL) with the SSH command printed. */
  readonly keepOnFailure: boolean;
  /** Each event of the job, in order. */
  readonly onEvent: (event: JobEvent) => void;
  /** Writes the kept VM's SSH banner. */
  readonly onKeptVm: (vm: Pick<VmRecord, "workDir" | "sshPort" | "debugUntil">, user: string) => void;
}

/** How a job ended, with what its steps left for the job's `outputs:`. */
export interface LocalJobResult {
  readonly conclusion: JobConclusion;
  readonly reason: string | undefined;
  /** `outputs` of each finished step, by step index. */
  readonly stepOutputs: ReadonlyMap<number, Readonly<Record<string, string>>>;
  /** Each step's conclusion, by step index. */
  readonly stepConclusions: ReadonlyMap<number, string>;
  /** True when Ctrl-C ended it. */
  readonly interrupted: boolean;
}

/** The owner of a local run's events: this cidev process. */
export function cidevOwner(hostname: string): JobOwner {
  return { kind: "cidev", instance: `cidev@${hostname}:${process.pid}` };
}

/**
 * The embedded orchestrator of one `cidev run`, started once for all its jobs, which run one at
 * a time: events streamed as they come, Ctrl-C honoured (first: cancel the job; second: stop at
 * once), a failed job's VM kept with `keepOnFailure` until Ctrl-C or the TTL.
 */
export class LocalSession {
  readonly #orch: RunningOrchestrator;
  readonly #options: LocalSessionOptions;
  #stopped = false;

  private constructor(orch: RunningOrchestrator, options: LocalSessionOptions) {
    this.#orch = orch;
    this.#options = options;
  }

  /**
   * Starts the embedded orchestrator, serving every label of the map one job at a time. A Ctrl-C
   * while it starts is honoured once it has: it is stopped again and undefined returned.
   */
  static async start(options: LocalSessionOptions): Promise<LocalSession | undefined> {
    options.note(`Starting the embedded orchestrator (state in ${options.stateDir})`);
    const stopOnInterrupt = options.interrupts.handle((count) => {
      if (count === 1)
        options.note("Ctrl-C: stopping as soon as the orchestrator has started (again: at once)");
      else process.exit(EXIT_INTERRUPTED);
    });
    try {
      const orch = await startEmbeddedOrchestrator({
        imageMapPath: options.imageMapPath,
        imageMap: options.imageMap,
        stateDir: options.stateDir,
        labels: [...options.imageMap.images.keys()],
        keepForSecs: options.keepForSecs,
        logger: options.logger,
        sshTimeoutMs: options.sshTimeoutMs,
      });
      const session = new LocalSession(orch, options);
      if (options.interrupts.count > 0) {
        await session.stop();
        return undefined;
      }
      return session;
    } finally {
      stopOnInterrupt();
    }
  }

  /** Runs one job to its end (and the kept VM's wait, with `keepOnFailure`). */
  async run(job: LocalJob): Promise<LocalJobResult> {
    const orch = this.#orch;
    const { request } = job;
    const owner = request.owner!;
    const { interrupts, note } = this.#options;
    const reorderer = new EventReorderer();
    const stepOutputs = new Map<number, Readonly<Record<string, string>>>();
    const stepConclusions = new Map<number, string>();
    let interrupted = false;
    let finish: (event: JobEvent & { type: "job_finished" }) => void = () => undefined;
    const finished = new Promise<JobEvent & { type: "job_finished" }>((resolve) => {
      finish = resolve;
    });
    const subscription = await orch.queue.consumeEvents(owner, async (event) => {
      if (event.request_id !== request.request_id) return;
      for (const e of reorderer.push(event).events) {
        if (e.type === "step_finished") {
          stepConclusions.set(e.step, e.conclusion);
          if (e.outputs !== undefined) stepOutputs.set(e.step, e.outputs);
        }
        job.onEvent(e);
        if (e.type === "job_finished") finish(e);
      }
    });
    let presses = 0;
    const restore = interrupts.handle(() => {
      interrupted = true;
      presses++;
      if (presses === 1) {
        note("Ctrl-C: cancelling the job (press it again to stop at once)");
        void orch.queue
          .publishCancel(
            newCancelRequest({
              request_id: request.request_id,
              reason: "cancelled with Ctrl-C",
              requested_by: owner.instance,
            }),
          )
          .catch(() => orch.skipDrain());
      } else {
        orch.skipDrain();
        void orch.stop({ drainTimeoutMs: 0 });
        finish({
          type: "job_finished",
          schema_version: "jobevent.v1",
          request_id: request.request_id,
          seq: -1,
          timestamp: new Date().toISOString(),
          conclusion: "cancelled",
          reason: "stopped with a second Ctrl-C",
        });
      }
    });
    try {
      // With an OTLP endpoint in the environment, the job's trace is rooted here (docs/telemetry.md).
      const end = await inSpan(
        "cidev run",
        {
          [SPAN_ATTRIBUTES.requestId]: request.request_id,
          [SPAN_ATTRIBUTES.label]: request.runs_on ?? undefined,
        },
        async () => {
          await orch.queue.publishJob(request);
          return finished;
        },
        { requestId: request.request_id },
      );
      await subscription.cancel({ timeoutMs: 1000 }).catch(() => undefined);
      if (end.conclusion === "failure" && job.keepOnFailure && !interrupted) {
        await this.#holdForDebugging(job, () => interrupted);
      }
      return {
        conclusion: end.conclusion,
        reason: end.reason ?? undefined,
        stepOutputs,
        stepConclusions,
        interrupted,
      };
    } finally {
      restore();
    }
  }

  /** Stops the orchestrator: a job still running is cancelled, its VM destroyed. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const restore = this.#options.interrupts.handle(() => this.#orch.skipDrain());
    try {
      await this.#orch.stop({ drainTimeoutMs: 0 }).catch(() => undefined);
    } finally {
      restore();
    }
  }

  /** Prints how to get into the kept VM and waits for Ctrl-C or the end of its time. */
  async #holdForDebugging(job: LocalJob, interrupted: () => boolean): Promise<void> {
    const { note, keepForSecs } = this.#options;
    const id = job.request.request_id;
    const vm = (await this.#orch.store.vmsForJob(id)).find((v) => v.state === "debug_hold");
    if (vm === undefined || vm.sshPort === null) {
      note("The VM was not kept (see the job's log above for why).");
      return;
    }
    job.onKeptVm(vm, job.image.sshUser);
    let wake: () => void = () => undefined;
    const restore = this.#options.interrupts.handle(() => wake());
    try {
      const until = vm.debugUntil?.getTime() ?? Date.now() + keepForSecs * 1000;
      while (!interrupted() && this.#options.interrupts.count === 0 && Date.now() < until) {
        const current = (await this.#orch.store.vmsForJob(id)).find((v) => v.vmName === vm.vmName);
        if (current === undefined || current.state === "destroyed") break;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(2000, Math.max(0, until - Date.now()))).unref();
        });
      }
    } finally {
      restore();
    }
    note("Destroying the kept VM");
  }
}

/**
 * The SSH command into a kept VM, pasteable in a script: no host key prompt, nothing written to
 * known_hosts (each VM has a new host key), no warning about it.
 */
export function debugSshCommand(vm: Pick<VmRecord, "workDir" | "sshPort">, user: string): string {
  return (
    `ssh -i ${vm.workDir}/${DEBUG_KEY_FILE} -p ${vm.sshPort} -o StrictHostKeyChecking=no ` +
    `-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR ${user}@127.0.0.1`
  );
}

/** The lines telling how to SSH into a kept VM (the key file lives in the VM's 0700 work directory). */
export function debugBanner(
  vm: Pick<VmRecord, "workDir" | "sshPort" | "debugUntil">,
  user: string,
  style: TerminalStyle,
): string {
  const until = vm.debugUntil === null ? "" : ` until ${vm.debugUntil.toISOString()}`;
  const command = debugSshCommand(vm, user);
  return (
    `${style.bold(style.yellow(`The failed job's VM is kept${until}. Get in with:`))}\n` +
    `  ${command}\n` +
    `${style.dim(`(the job's checkout is ~/${WORKSPACE_DIR_NAME}) — press Ctrl-C to destroy the VM and exit`)}\n`
  );
}
