import type { FleetHostView, FleetView } from "@solstice/common";
import { textTable } from "./text-table.ts";

// The plain-text form of `ciadm fleet` (pure: tested on fixed answers).

/** Seconds as a short age: `4s`, `2m05s`, `3h07m`, `2d04h`. */
export function formatAge(secs: number): string {
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s}s`;
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 3_600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h${two(Math.floor((s % 3_600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor((s % 86_400) / 3_600))}h`;
}

/** A host's labels with their per-label capacity: `illumos=2, ubuntu=1`. */
export function labelsText(host: Pick<FleetHostView, "labels">): string {
  const entries = Object.entries(host.labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "-" : entries.map(([label, n]) => `${label}=${n}`).join(", ");
}

/**
 * `ciadm fleet`: the hosts (state, labels with capacity, capacity, running jobs, last seen,
 * version), then each label's queue (requests waiting, consumers, serving hosts), then the
 * original's queue and the DLQ, and what could not be read.
 */
export function formatFleet(view: FleetView): string {
  const parts: string[] = [];
  parts.push(
    view.hosts.length === 0
      ? "no orchestrator host has recorded itself yet\n"
      : textTable(
          ["HOST", "STATE", "LABELS (CAPACITY)", "CAPACITY", "RUNNING", "LAST SEEN", "VERSION"],
          view.hosts.map((h) => [
            h.host_id,
            h.state,
            labelsText(h),
            String(h.capacity),
            String(h.running_jobs),
            `${formatAge(h.last_seen_secs)} ago`,
            h.version ?? "-",
          ]),
        ),
  );
  if (view.queue_error !== null) {
    parts.push(`queue depths not shown: ${view.queue_error}\n`);
  } else {
    parts.push(
      view.queues.length === 0
        ? "no label queue exists yet\n"
        : textTable(
            ["LABEL", "QUEUED", "CONSUMERS", "SERVED BY"],
            view.queues.map((q) => [
              q.label,
              String(q.messages),
              String(q.consumers),
              q.hosts.length === 0 ? "no host up" : q.hosts.join(", "),
            ]),
          ),
    );
    const notes: string[] = [];
    if (view.missing_queues.length > 0)
      notes.push(`labels with no queue yet: ${view.missing_queues.join(", ")}`);
    if (view.original !== null && view.original.messages > 0) {
      notes.push(`${view.original.messages} request(s) wait for a router in ${view.original.queue}`);
    }
    if (view.dead_letters !== null && view.dead_letters.messages > 0) {
      notes.push(
        `${view.dead_letters.messages} dead-lettered request(s) in ${view.dead_letters.queue} (ciadm dlq list)`,
      );
    }
    if (notes.length > 0) parts.push(notes.map((n) => `${n}\n`).join(""));
  }
  const stale = view.hosts.filter((h) => h.state === "stale");
  if (stale.length > 0) {
    parts.push(
      `stale: no heartbeat for more than 3 intervals (the host died, or lost the database): ${stale
        .map((h) => h.host_id)
        .join(", ")}\n`,
    );
  }
  return parts.join("\n");
}
