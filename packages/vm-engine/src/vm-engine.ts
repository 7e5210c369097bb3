import { hostname } from "node:os";
import { join } from "node:path";
import type { ImageEntry, JobConclusion, JobRequest, ServiceLogger } from "@solstice/common";
import { SPAN_ATTRIBUTES as ATTR, inSpan, SolsticeError, silentLogger, startSpan } from "@solstice/common";
import { isJobTimeout } from "./errors.ts";
import type { GuestShell } from "./exec/guest-shell.ts";
import { armJobTimeout, jobDeadline } from "./exec/job-deadline.ts";
import { JobEventEmitter, type JobEventSink } from "./exec/job-events.ts";
import { abortReason, executeJob, type StepResult } from "./exec/job-executor.ts";
import { maskError } from "./exec/masked-error.ts";
import { ReconnectingGuestShell } from "./exec/reconnecting-guest-shell.ts";
import { consoleMilestone } from "./vm/console-milestones.ts";
import { QemuHypervisor, type QemuHypervisorOptions } from "./vm/qemu-vm.ts";
import { type VmResources, vmSpecFor } from "./vm/vm-spec.ts";
import type { GuestConsole, Hypervisor, VmHandle } from "./vm/vm-types.ts";
import { WarmTemplates, type WarmTemplatesOptions } from "./warm/warm-templates.ts";

// The VM engine's front door: one call runs one job in a fresh VM, from prepare to destroy, and
// reports everything as job events. It drives any Hypervisor (QEMU unless told otherwise) and
// runs the job through the GuestShell the hypervisor connects. The orchestrator service
// (scheduling, persistence, the queue) and `cidev run` sit on top of this; nothing here knows
// about them.

/** Options of {@link VmEngine}: the QEMU options make the default hypervisor. */
export interface VmEngineOptions extends QemuHypervisorOptions {
  /** Use this hypervisor instead of making a {@link QemuHypervisor} from the options. */
  readonly hypervisor?: Hypervisor;
  /** This host's name in `job_started`. Default: the OS host name. */
  readonly host?: string;
  /** How long a guest may take to answer on SSH. Default 300 s (slow guests under TCG). */
  readonly sshTimeoutMs?: number;
  /** Graceful shutdown budget after the job (ACPI power-off), before QMP quit and SIGKILL. Default 10 s. */
  readonly stopGraceMs?: number;
  /** History depth of the workspace checkout (0: all). Default 1. */
  readonly checkoutDepth?: number;
  /** Between TERM and KILL of a step that timed out or was cancelled. Default 5 s. */
  readonly killGraceMs?: number;
  /**
   * When the SSH connection drops during a job, the budget to make a new one (steps go on in the
   * guest meanwhile; see docs/vm-engine.md). Default 60 s.
   */
  readonly sshReconnectTimeoutMs?: number;
  /**
   * Warm starts (QEMU only): jobs resume a saved, booted VM of their image instead of booting it
   * (see src/warm and docs/vm-engine.md). Off unless given.
   */
  readonly warm?: Omit<WarmTemplatesOptions, "logger">;
}

/** What {@link RunJobOptions.keepVm} is asked with. */
export interface KeepVmContext {
  readonly request: JobRequest;
  readonly vm: VmHandle;
  readonly conclusion: JobConclusion;
  readonly reason: string | undefined;
  /** Write a `system` line into the job's log (before `job_finished`), e.g. the SSH connection line. */
  readonly log: (line: string) => void;
}

/**
 * Where a job's events go: a sink (the engine numbers them from 0), or an emitter the caller
 * opened (numbering from where the job's sequence stands, e.g. after a restart).
 */
export type JobEventTarget =
  | { readonly sink: JobEventSink; readonly events?: undefined }
  | { readonly events: JobEventEmitter; readonly sink?: undefined };

/** Options of {@link VmEngine.runJob}. */
export type RunJobOptions = JobEventTarget & RunJobSettings;

/** What {@link RunJobOptions} holds beside the event target. */
export interface RunJobSettings {
  /** Cancels the job: the running step is killed, the VM stopped, the job reported `cancelled`. */
  readonly signal?: AbortSignal | undefined;
  /** Override the image's resources. */
  readonly resources?: VmResources;
  /** Default `job-<request id>`. */
  readonly vmName?: string;
  /**
   * Asked when a job failed and its VM still runs: true keeps the VM (not stopped, not destroyed;
   * the caller destroys it later with {@link VmEngine.discard}). Debug SSH (ADR-003) hooks in here.
   */
  readonly keepVm?: (context: KeepVmContext) => boolean | Promise<boolean>;
  /** Called with every new handle (prepared, running, stopped, destroyed), e.g. to record the VM. */
  readonly onVm?: (vm: VmHandle) => void | Promise<void>;
  /**
   * The longest the job may run on this host, boot included (the orchestrator's JOB_TIMEOUT_SECS);
   * the request's own `timeout_seconds` applies when it is shorter. Past it the job fails.
   */
  readonly timeoutSeconds?: number | undefined;
  /** Test hook: the job's guest shell once connected (e.g. to drop its connection mid-step). */
  readonly onGuestShell?: (shell: ReconnectingGuestShell) => void;
}

/** How a job went, once its VM is gone (or kept). */
export interface JobRunResult {
  readonly conclusion: JobConclusion;
  readonly reason: string | undefined;
  readonly steps: readonly StepResult[];
  /** The last handle: `destroyed`, or `running` when kept. Undefined when prepare failed. */
  readonly vm: VmHandle | undefined;
  readonly kept: boolean;
  /** Milliseconds from the start of prepare to the guest's shell answering (undefined if never). */
  readonly bootToSshMs: number | undefined;
  /** The error that ended the job early, if any (also reported in the log). */
  readonly error: Error | undefined;
}

/**
 * Runs jobs in VMs (QEMU by default).
 *
 * @example
 *   const engine = new VmEngine({ logger });
 *   const result = await engine.runJob(request, image, { sink: (event) => publish(event), signal });
 *   result.conclusion; // "success" | "failure" | "cancelled"
 */
export class VmEngine {
  readonly hypervisor: Hypervisor;
  /** The warm templates, when warm starts are on (`options.warm` and a QEMU hypervisor). */
  readonly warm: WarmTemplates | undefined;
  readonly #options: VmEngineOptions;
  readonly #logger: ServiceLogger;

  constructor(options: VmEngineOptions = {}) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.hypervisor = options.hypervisor ?? new QemuHypervisor(options);
    this.warm =
      options.warm !== undefined && this.hypervisor instanceof QemuHypervisor
        ? new WarmTemplates(this.hypervisor, {
            ...options.warm,
            logger: this.#logger,
            builder: new QemuHypervisor({
              ...options,
              stateDir: join(options.warm.dir, "boot"),
              portAllocator: this.hypervisor.ports,
              qemuBinary: this.hypervisor.qemuBinary,
            }),
          })
        : undefined;
  }

  /**
   * Run `request` on `image`: prepare, start, wait for SSH, check out, run the steps, stop,
   * destroy — the VM is destroyed in every case unless `keepVm` keeps it. Never rejects for a
   * job failure: errors (a missing image, a guest without SSH, a failed checkout) end the job as
   * `failure` with the error in the log and in `reason`. `job_finished` is the last event and
   * is sent after the VM is gone.
   *
   * Everything about the job leaves masked, once, here: the events, the result's `reason` and
   * `error`, what `keepVm` is told and the engine's own log lines have the request's `mask` values
   * (and those a step registered) and credentials in URLs replaced by `***`
   * (see {@link JobEventEmitter.mask}).
   */
  async runJob(request: JobRequest, image: ImageEntry, options: RunJobOptions): Promise<JobRunResult> {
    const logger = this.#logger;
    const hv = this.hypervisor;
    const events =
      options.events ?? new JobEventEmitter(request.request_id, options.sink, { mask: request.mask, logger });
    events.jobStarted({ host: this.#options.host ?? hostname(), label: image.label });

    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal?.reason ?? new Error("cancelled"));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    // A timeout aborts the job as a cancel does, with a JobTimeoutError: the job then fails.
    const jobTimer = armJobTimeout(controller, jobDeadline(request.timeout_seconds, options.timeoutSeconds));
    const signal = controller.signal;

    const notify = async (vm: VmHandle): Promise<void> => {
      try {
        await options.onVm?.(vm);
      } catch (error) {
        logger.warn({ vm: vm.name, err: error }, "onVm hook failed");
      }
    };

    const started = Date.now();
    let vm: VmHandle | undefined;
    let guestConsole: GuestConsole | undefined;
    let shell: GuestShell | undefined;
    let conclusion: JobConclusion = "failure";
    let reason: string | undefined;
    let steps: readonly StepResult[] = [];
    let bootToSshMs: number | undefined;
    let failure: Error | undefined;
    let kept = false;
    let timedOut = false;
    const mask = (text: string): string => events.mask(text);
    try {
      const spec = vmSpecFor(image, request, {
        ...(options.vmName === undefined ? {} : { name: options.vmName }),
        ...(options.resources === undefined ? {} : { resources: options.resources }),
      });
      events.system(
        `Preparing VM ${spec.name} (${image.label}: ${spec.cpu} vCPU, ${spec.ramMb} MB RAM, ${spec.diskGb} GB disk)`,
      );
      const warm = this.warm;
      const vmFields = { [ATTR.vmName]: spec.name, [ATTR.label]: image.label };
      if (warm !== undefined) {
        vm = await inSpan("warm restore", vmFields, async (span) => {
          const restored = await warm.startVm(image, spec, {
            signal,
            onVm: notify,
            log: (line) => events.system(line),
          });
          span.setAttributes({ [ATTR.warm]: restored !== undefined });
          return restored?.vm;
        });
      }
      if (vm === undefined) {
        const prepared = await inSpan("vm prepare", vmFields, () => hv.prepare(spec));
        vm = prepared;
        await notify(prepared);
        signal.throwIfAborted();
        vm = await inSpan("qemu start", vmFields, async (span) => {
          const running = await hv.start(prepared);
          span.setAttributes({ [ATTR.accel]: running.accel });
          return running;
        });
        await notify(vm);
      }
      events.system(
        `VM started (${vm.accel === "kvm" ? "KVM" : "TCG, no hardware acceleration"}); waiting for SSH`,
      );
      guestConsole = hv.console(vm);
      const booting = vm;
      shell = await inSpan("boot to ssh", { [ATTR.accel]: vm.accel }, (span) => {
        guestConsole?.forwardTo((line) => {
          events.system(line);
          const milestone = consoleMilestone(line);
          if (milestone !== undefined)
            span.addEvent("console", { "solstice.console.milestone": mask(milestone) });
        });
        return hv.connectGuest(booting, { timeoutMs: this.#options.sshTimeoutMs ?? 300_000, signal });
      });
      // A dropped connection is made anew; steps run detached from it (docs/vm-engine.md).
      const connected = vm;
      const reconnecting = new ReconnectingGuestShell(
        shell,
        ({ timeoutMs }) => hv.connectGuest(connected, { timeoutMs, signal }),
        { timeoutMs: this.#options.sshReconnectTimeoutMs ?? 60_000 },
      );
      shell = reconnecting;
      options.onGuestShell?.(reconnecting);
      // ADR-002: from here the job log carries the SSH output only; the console would repeat it.
      guestConsole?.stopForwarding();
      bootToSshMs = Date.now() - started;
      events.system(`SSH is up after ${(bootToSshMs / 1000).toFixed(1)} s`);
      const execution = await executeJob(shell, request, {
        events,
        signal,
        logger,
        ...(this.#options.checkoutDepth === undefined ? {} : { checkoutDepth: this.#options.checkoutDepth }),
        ...(this.#options.killGraceMs === undefined ? {} : { killGraceMs: this.#options.killGraceMs }),
      });
      ({ conclusion, steps } = execution);
      reason = execution.reason === undefined ? undefined : mask(execution.reason);
      timedOut = execution.timedOut === true;
    } catch (error) {
      failure = maskError(error instanceof Error ? error : new Error(String(error)), mask);
      if (signal.aborted) {
        timedOut = isJobTimeout(signal);
        conclusion = timedOut ? "failure" : "cancelled";
        reason = mask(abortReason(signal));
      } else {
        conclusion = "failure";
        reason = failure.message.split("\n")[0];
        for (const line of failure.message.split("\n")) events.system(line);
        if (failure instanceof SolsticeError && failure.hint !== undefined)
          events.system(`hint: ${failure.hint}`);
        logger.warn({ requestId: request.request_id, err: failure }, "job failed before its steps completed");
      }
    } finally {
      guestConsole?.stopForwarding();
      if (jobTimer !== undefined) clearTimeout(jobTimer);
      options.signal?.removeEventListener("abort", onAbort);
      await shell?.close().catch(() => undefined);
      const teardown = vm === undefined ? undefined : startSpan("teardown", { [ATTR.vmName]: vm.name });
      if (vm !== undefined) {
        // A job that ran out of time gives its VM back: never kept for debug SSH.
        kept = !timedOut && (await this.#decideKeep(request, vm, conclusion, reason, events, options));
        if (!kept) {
          try {
            // A cancelled or timed-out job's VM is destroyed next: waiting for its guest to shut
            // down (10 s while it still boots and ignores ACPI) would only delay the cancel.
            const grace = signal.aborted ? 0 : (this.#options.stopGraceMs ?? 10_000);
            vm = await hv.stop(vm, { gracefulTimeoutMs: grace });
            await notify(vm);
          } catch (error) {
            logger.warn({ vm: vm.name, err: error }, "stopping the VM failed; destroying it anyway");
          }
          vm = await hv.destroy(vm).catch((error: unknown) => {
            teardown?.end(error);
            throw error;
          });
          await notify(vm);
        }
      }
      teardown?.setAttributes({ "solstice.vm.kept": kept });
      teardown?.end();
    }
    if (conclusion === "cancelled") events.system(`Job cancelled: ${reason ?? "cancelled"}`);
    if (timedOut) events.system(`Job failed: ${reason ?? "it ran out of time"}; its VM was destroyed`);
    events.jobFinished(conclusion, reason);
    await events.flush();
    logger.info({ requestId: request.request_id, conclusion, reason, kept }, "job finished");
    return { conclusion, reason, steps, vm, kept, bootToSshMs, error: failure };
  }

  /** Stop and destroy a VM that `keepVm` kept (idempotent). */
  async discard(vm: VmHandle, options: { gracefulTimeoutMs?: number } = {}): Promise<VmHandle> {
    let handle = vm;
    if (this.hypervisor.state(handle) === "running") {
      handle = await this.hypervisor.stop(handle, {
        gracefulTimeoutMs: options.gracefulTimeoutMs ?? this.#options.stopGraceMs ?? 10_000,
      });
    }
    return this.hypervisor.destroy(handle);
  }

  async #decideKeep(
    request: JobRequest,
    vm: VmHandle,
    conclusion: JobConclusion,
    reason: string | undefined,
    events: JobEventEmitter,
    options: RunJobOptions,
  ): Promise<boolean> {
    if (options.keepVm === undefined || conclusion !== "failure" || this.hypervisor.state(vm) !== "running") {
      return false;
    }
    try {
      return await options.keepVm({ request, vm, conclusion, reason, log: (line) => events.system(line) });
    } catch (error) {
      this.#logger.warn({ vm: vm.name, err: error }, "keepVm hook failed; the VM is destroyed");
      return false;
    }
  }
}
