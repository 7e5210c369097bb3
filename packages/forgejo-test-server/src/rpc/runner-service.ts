import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  DeclareResponseSchema,
  FetchTaskResponseSchema,
  RegisterResponseSchema,
  Result,
  RUNNER_TOKEN_HEADER,
  RUNNER_UUID_HEADER,
  RunnerSchema,
  type RunnerService,
  type Task,
  TaskNeedSchema,
  TaskSchema,
  type TaskState,
  UpdateLogResponseSchema,
  UpdateTaskResponseSchema,
} from "@solstice/forgejo-protocol";
import type { RunnerRecord, RunnerRegistry } from "../runners/runner-registry.ts";
import { decideLogWrite } from "../tasks/log-ack.ts";
import { storeOutputs } from "../tasks/task-outputs.ts";
import type { TaskEntry } from "../tasks/task-record.ts";
import { applyReportedState, type ReportedState } from "../tasks/task-state.ts";
import type { TaskStore } from "../tasks/task-store.ts";
import type { CallLog, Procedure } from "./call-log.ts";

// runner.v1.RunnerService as Forgejo serves it (routers/api/actions/runner/runner.go, with the
// withRunner interceptor of interceptor.go): the same checks, the same error codes and messages.

/** What the service works on. */
export interface RunnerServiceDeps {
  readonly registry: RunnerRegistry;
  readonly tasks: TaskStore;
  readonly calls: CallLog;
  /** How long FetchTask may wait for a task before answering without one (0: answer at once). */
  readonly fetchHoldMs: number;
  /** Aborted when the server closes: held FetchTask calls answer at once. */
  readonly closing: AbortSignal;
}

/** The RunnerService implementation. */
export function runnerServiceImpl(deps: RunnerServiceDeps): ServiceImpl<typeof RunnerService> {
  const { registry, tasks, calls } = deps;

  /** Forgejo's withRunner: every method but Register needs a known runner and its token. */
  const authenticate = (context: HandlerContext, procedure: Procedure): RunnerRecord => {
    const runner = registry.authenticate(
      context.requestHeader.get(RUNNER_UUID_HEADER),
      context.requestHeader.get(RUNNER_TOKEN_HEADER),
      new Date(),
      procedure === "UpdateTask" || procedure === "UpdateLog",
    );
    if (runner === undefined) throw new ConnectError("unregistered runner", Code.Unauthenticated);
    return runner;
  };
  const uuidOf = (context: HandlerContext): string | null => context.requestHeader.get(RUNNER_UUID_HEADER);

  return {
    // Mirrors Register in runner.go: InvalidArgument for a missing name or token, for an unknown
    // token and for an invalidated one, each with Forgejo's message.
    register: (request, context) =>
      calls.record("Register", uuidOf(context), () => {
        const outcome = registry.register({
          name: request.name,
          token: request.token,
          version: request.version,
          labels: request.labels,
          ephemeral: request.ephemeral,
        });
        if ("refused" in outcome) {
          const message = {
            "missing-name-or-token": "missing runner token, name",
            "token-not-found": "runner registration token not found",
            "token-invalidated": "runner registration token has been invalidated, please use the latest one",
          }[outcome.refused];
          throw new ConnectError(message, Code.InvalidArgument);
        }
        return create(RegisterResponseSchema, { runner: runnerMessage(outcome.runner) });
      }),

    declare: (request, context) =>
      calls.record("Declare", uuidOf(context), () => {
        const runner = authenticate(context, "Declare");
        const declared = registry.declare(runner.uuid, request.version, request.labels) ?? runner;
        return create(DeclareResponseSchema, { runner: runnerMessage(declared) });
      }),

    fetchTask: (request, context) =>
      calls.record("FetchTask", uuidOf(context), async () => {
        const runner = authenticate(context, "FetchTask");
        let latest = tasks.latestVersion();
        let task = request.tasksVersion !== latest ? tasks.pick(runner, new Date()) : undefined;
        if (task === undefined && deps.fetchHoldMs > 0) {
          // A long poll: wait for the version to move, then look again, until the hold ends.
          const deadline = Date.now() + deps.fetchHoldMs;
          while (
            task === undefined &&
            Date.now() < deadline &&
            !context.signal.aborted &&
            !deps.closing.aborted
          ) {
            await nextChange(tasks, deadline - Date.now(), [context.signal, deps.closing]);
            const now = tasks.latestVersion();
            if (now !== latest) {
              latest = now;
              task = tasks.pick(runner, new Date());
            }
          }
          latest = tasks.latestVersion();
        }
        return create(FetchTaskResponseSchema, {
          tasksVersion: latest,
          ...(task === undefined ? {} : { task: taskMessage(task) }),
        });
      }),

    // Mirrors UpdateTask in runner.go and UpdateTaskByState in services/actions/task.go.
    updateTask: (request, context) =>
      calls.record("UpdateTask", uuidOf(context), () => {
        const runner = authenticate(context, "UpdateTask");
        const id = request.state?.id ?? 0n;
        const task = tasks.get(id);
        if (task === undefined) {
          throw new ConnectError(
            `update task: failed to get task ${id}: task with id ${id}: resource does not exist`,
            Code.Internal,
          );
        }
        if (task.runnerId !== runner.id)
          throw new ConnectError("update task: invalid runner for task", Code.Internal);
        task.updateCount++;
        task.lastReportedResult = request.state?.result ?? Result.UNSPECIFIED;
        const { finished } = applyReportedState(task, reportedState(request.state));
        const sentOutputs = storeOutputs(task, request.outputs);
        // Forgejo deletes an ephemeral runner once its task is done.
        if (finished && runner.ephemeral) registry.revoke(runner.uuid);
        tasks.changed();
        return create(UpdateTaskResponseSchema, { state: { id, result: task.result }, sentOutputs });
      }),

    // Mirrors UpdateLog in runner.go: see tasks/log-ack.ts for the acknowledgement.
    updateLog: (request, context) =>
      calls.record("UpdateLog", uuidOf(context), () => {
        const runner = authenticate(context, "UpdateLog");
        const task = tasks.get(request.taskId);
        if (task === undefined) {
          throw new ConnectError(
            `get task: task with id ${request.taskId}: resource does not exist`,
            Code.Internal,
          );
        }
        if (task.runnerId !== runner.id) throw new ConnectError("invalid runner for task", Code.Internal);
        if (request.noMore) task.noMore = true;
        const ack = task.rows.length;
        const decision = decideLogWrite(ack, Number(request.index), request.rows.length);
        if (!decision.write) {
          tasks.changed();
          return create(UpdateLogResponseSchema, { ackIndex: BigInt(ack) });
        }
        if (task.logArchived) throw new ConnectError("log file has been archived", Code.AlreadyExists);
        const receivedAt = Date.now();
        for (const row of request.rows.slice(decision.from)) {
          task.rows.push({ time: dateOf(row.time) ?? new Date(0), content: row.content, receivedAt });
        }
        if (request.noMore) task.logArchived = true;
        tasks.changed();
        return create(UpdateLogResponseSchema, { ackIndex: BigInt(task.rows.length) });
      }),
  };
}

function runnerMessage(runner: RunnerRecord) {
  return create(RunnerSchema, {
    id: runner.id,
    uuid: runner.uuid,
    token: runner.token,
    name: runner.name,
    version: runner.version,
    labels: [...runner.labels],
  });
}

function taskMessage(task: TaskEntry): Task {
  return create(TaskSchema, {
    id: task.id,
    workflowPayload: new TextEncoder().encode(task.payloadYaml),
    context: task.context,
    secrets: { ...task.secrets },
    vars: { ...task.vars },
    needs: Object.fromEntries(
      Object.entries(task.needs).map(([job, need]) => [
        job,
        create(TaskNeedSchema, { result: need.result, outputs: { ...(need.outputs ?? {}) } }),
      ]),
    ),
  });
}

/** The state a request reports, with Forgejo's timestamp reading (unset or zero: none). */
function reportedState(state: TaskState | undefined): ReportedState {
  return {
    result: state?.result ?? Result.UNSPECIFIED,
    stoppedAt: dateOf(state?.stoppedAt),
    steps: (state?.steps ?? []).map((step) => ({
      id: Number(step.id),
      result: step.result,
      startedAt: dateOf(step.startedAt),
      stoppedAt: dateOf(step.stoppedAt),
      logIndex: Number(step.logIndex),
      logLength: Number(step.logLength),
    })),
  };
}

/** Forgejo's convertTimestamp: an unset or zero timestamp is "no time". */
function dateOf(timestamp: Timestamp | undefined): Date | undefined {
  if (timestamp === undefined || (timestamp.seconds === 0n && timestamp.nanos === 0)) return undefined;
  return timestampDate(timestamp);
}

/** Resolves at the store's next change, after `ms`, or when a signal aborts, whichever is first. */
function nextChange(tasks: TaskStore, ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      unsubscribe();
      for (const signal of signals) signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    const unsubscribe = tasks.onChange(done);
    for (const signal of signals) signal.addEventListener("abort", done, { once: true });
  });
}
