import {
  EventSequencer,
  type JobEvent,
  type JobOwner,
  type JobQueue,
  type Subscription,
} from "@solstice/common";

// `--source queue`: the bench stands in for the orchestrator. It takes the job requests the runner
// publishes and answers each with the events a one-step job printing `lines` lines would make (the
// engine's shape: lines in `log` events of up to 500, stamped when published), at a fixed rate, on
// the request owner's queue. No VM, no Postgres: what is measured is the runner on top of the queue,
// whatever the orchestrator's own speed (which the default `--source orchestrator` includes).

/** How a synthetic job prints. */
export interface QueueSourcePace {
  /** Lines per second the "guest" prints. */
  readonly linesPerSecond: number;
  /** Lines per `log` event (the engine's chunk: up to 500). */
  readonly linesPerEvent: number;
}

/**
 * Publishes one synthetic job's events to `owner`: job_started, step_started, `lines` lines
 * (`line 1` … `line N`) paced at `pace`, step_finished, job_finished. Resolves once all are confirmed.
 */
export async function publishSyntheticJob(
  queue: JobQueue,
  owner: JobOwner | undefined,
  requestId: string,
  lines: number,
  pace: QueueSourcePace,
): Promise<void> {
  const sequencer = new EventSequencer(requestId);
  // Handed to the queue at once, without waiting for each confirm: it sends them in call order.
  const confirms: Promise<void>[] = [];
  const publish = (event: Parameters<EventSequencer["next"]>[0]): JobEvent => {
    const stamped = sequencer.next(event);
    confirms.push(queue.publishEvent(stamped, owner));
    return stamped;
  };
  publish({ type: "job_started", label: "bench" });
  publish({ type: "step_started", step: 0, name: "print" });
  const started = Date.now();
  for (let first = 1; first <= lines; first += pace.linesPerEvent) {
    // Due when the guest would have printed the chunk's last line.
    const last = Math.min(lines, first + pace.linesPerEvent - 1);
    const dueAt = started + ((last - 1) / pace.linesPerSecond) * 1000;
    const wait = dueAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const text: string[] = [];
    for (let n = first; n <= last; n += 1) text.push(`line ${n}`);
    publish({ type: "log", step: 0, stream: "stdout", text: text.join("\n") });
  }
  publish({
    type: "step_finished",
    step: 0,
    exit_code: 0,
    duration_ms: Date.now() - started,
    conclusion: "success",
  });
  publish({ type: "job_finished", conclusion: "success" });
  await Promise.all(confirms);
}

/**
 * Takes the orchestrator's place for the runner: each job request it publishes is answered by a
 * synthetic job of `lines` lines (the request's own step is not run).
 */
export function serveJobsFromQueue(
  queue: JobQueue,
  lines: () => number,
  pace: QueueSourcePace,
  onError: (error: unknown) => void,
): Promise<Subscription> {
  return queue.consumeJobs(async (request) => {
    // Acknowledged at once, answered in the background: as an orchestrator takes a job.
    publishSyntheticJob(queue, request.owner, request.request_id, lines(), pace).catch(onError);
  });
}
