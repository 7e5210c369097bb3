import type { TerminalStyle } from "@solstice/cli-kit";
import type { ImageEntry, ImageMap } from "@solstice/common";
import {
  EventReorderer,
  type JobConclusion,
  type JobEvent,
  type JobOwner,
  type JobRequest,
  newCancelRequest,
} from "@solstice/common";
import type { RunningOrchestrator, VmRecord } from "@solstice/orchestrator";
import { DEBUG_KEY_FILE } from "@solstice/orchestrator";
import { WORKSPACE_DIR_NAME } from "@solstice/vm-engine";
import type { Logger } from "pino";
import { startEmbeddedOrchestrator } from "./embedded-orchestrator.ts";
import { JobLogPrinter } from "./job-log-printer.ts";

/** What one local run needs; the request is complete (repository, commit, steps, owner). */
export interface LocalRunInput {
  readonly request: JobRequest;
  readonly image: ImageEntry;
  readonly imageMap: ImageMap;
  readonly imageMapPath: string;
  readonly stateDir: string;
  /** Keep a failed job's VM and wait (Ctrl-C or the TTL) with the SSH command printed. */
  readonly keepOnFailure: boolean;
  readonly keepForSecs: number;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly style: TerminalStyle;
  readonly logger: Logger;
  readonly sshTimeoutMs?: number | undefined;
}

/** The owner of a local run's events: this cidev process. */
export function cidevOwner(hostname: string): JobOwner {
  return { kind: "cidev", instance: `cidev@${hostname}:${process.pid}` };
}

/**
 * Runs the job through the embedded orchestrator: streams its events as they come (step headers,
 * output, results), honours Ctrl-C (first: cancel the job; second: stop at once), and, with
 * `keepOnFailure`, keeps a failed job's VM up with the SSH command printed until Ctrl-C or the
 * TTL. Resolves to the job's conclusion once everything it started is stopped.
 */
export async function runLocally(input: LocalRunInput): Promise<JobConclusion> {
  const { request, style } = input;
  const write = (line: string) => input.stdout.write(`${line}\n`);
  const note = (line: string) => input.stderr.write(`${style.dim(line)}\n`);
  const owner = request.owner!;

  let interrupts = 0;
  let onInterrupt: (() => void) | undefined;
  const sigint = () => {
    interrupts++;
    onInterrupt?.();
  };
  process.on("SIGINT", sigint);
  process.on("SIGTERM", sigint);
  let orchestrator: RunningOrchestrator | undefined;
  try {
    note(`Starting the embedded orchestrator (state in ${input.stateDir})`);
    orchestrator = await startEmbeddedOrchestrator({
      imageMapPath: input.imageMapPath,
      imageMap: input.imageMap,
      stateDir: input.stateDir,
      label: input.image.label,
      keepForSecs: input.keepForSecs,
      logger: input.logger,
      sshTimeoutMs: input.sshTimeoutMs,
    });
    const orch = orchestrator;
    const printer = new JobLogPrinter({ steps: request.steps ?? [], style });
    const reorderer = new EventReorderer();
    let finish: (event: JobEvent & { type: "job_finished" }) => void = () => undefined;
    const finished = new Promise<JobEvent & { type: "job_finished" }>((resolve) => {
      finish = resolve;
    });
    const subscription = await orch.queue.consumeEvents(owner, async (event) => {
      if (event.request_id !== request.request_id) return;
      for (const e of reorderer.push(event).events) {
        for (const line of printer.lines(e)) write(line);
        if (e.type === "job_finished") finish(e);
      }
    });
    onInterrupt = () => {
      if (interrupts === 1) {
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
    };
    await orch.queue.publishJob(request);
    const end = await finished;
    await subscription.cancel({ timeoutMs: 1000 }).catch(() => undefined);
    if (end.conclusion === "failure" && input.keepOnFailure && interrupts === 0) {
      await holdForDebugging(
        orch,
        input,
        () => interrupts > 0,
        (fn) => {
          onInterrupt = fn;
        },
      );
    }
    return end.conclusion;
  } finally {
    onInterrupt = () => orchestrator?.skipDrain();
    await orchestrator?.stop({ drainTimeoutMs: 0 }).catch(() => undefined);
    process.off("SIGINT", sigint);
    process.off("SIGTERM", sigint);
  }
}

/** Prints how to get into the kept VM and waits for Ctrl-C or the end of its time. */
async function holdForDebugging(
  orch: RunningOrchestrator,
  input: LocalRunInput,
  interrupted: () => boolean,
  setInterrupt: (fn: () => void) => void,
): Promise<void> {
  const { style } = input;
  const vm = (await orch.store.vmsForJob(input.request.request_id)).find((v) => v.state === "debug_hold");
  if (vm === undefined || vm.sshPort === null) {
    input.stderr.write(`${style.yellow("The VM was not kept (see the job's log above for why).")}\n`);
    return;
  }
  input.stdout.write(`\n${debugBanner(vm, input.image.sshUser, style)}`);
  let wake: () => void = () => undefined;
  setInterrupt(() => wake());
  const until = vm.debugUntil?.getTime() ?? Date.now() + input.keepForSecs * 1000;
  while (!interrupted() && Date.now() < until) {
    const current = (await orch.store.vmsForJob(input.request.request_id)).find(
      (v) => v.vmName === vm.vmName,
    );
    if (current === undefined || current.state === "destroyed") break;
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, Math.min(2000, Math.max(0, until - Date.now()))).unref();
    });
  }
  input.stderr.write(`${style.dim("Destroying the kept VM")}\n`);
}

/** The lines telling how to SSH into a kept VM (the key file lives in the VM's 0700 work directory). */
export function debugBanner(
  vm: Pick<VmRecord, "workDir" | "sshPort" | "debugUntil">,
  user: string,
  style: TerminalStyle,
): string {
  const key = `${vm.workDir}/${DEBUG_KEY_FILE}`;
  const until = vm.debugUntil === null ? "" : ` until ${vm.debugUntil.toISOString()}`;
  const command =
    `ssh -i ${key} -p ${vm.sshPort} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ` +
    `${user}@127.0.0.1`;
  return (
    `${style.bold(style.yellow(`The failed job's VM is kept${until}. Get in with:`))}\n` +
    `  ${command}\n` +
    `${style.dim(`(the job's checkout is ~/${WORKSPACE_DIR_NAME}) — press Ctrl-C to destroy the VM and exit`)}\n`
  );
}
