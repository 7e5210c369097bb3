import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import type { TcpProxy } from "@solstice/test-support";
import type { EventLedger } from "./event-ledger.ts";
import { dropConnectionsTo, vmProcesses } from "./host-inspection.ts";
import type { OrchestratorInstance } from "./orchestrator-instance.ts";

// The faults the soak injects, each an action that returns what it did, for the report.

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The kinds of fault, as `--faults` names them. */
export const FAULT_KINDS = ["kill", "mq", "pg", "ssh"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** How broker and database outages are made: the real service restarted, or a proxy cut. */
export type OutageMode = "restart" | "proxy";

/** One injected fault, for the report. */
export interface FaultRecord {
  readonly kind: FaultKind;
  /** Seconds since the soak started. */
  readonly at: number;
  readonly detail: string;
  /** The job it aimed at (a dropped SSH connection), to report that job's outcome. */
  readonly target?: string | undefined;
  /** Jobs that had not ended when it hit. */
  readonly unfinishedThen: number;
}

/** What the faults act on. */
export interface FaultContext {
  readonly orchestrator: OrchestratorInstance;
  readonly ledger: EventLedger;
  readonly outages: OutageMode;
  /** In `proxy` mode: the orchestrator's connections to RabbitMQ and Postgres go through these. */
  readonly mqProxy?: TcpProxy | undefined;
  readonly pgProxy?: TcpProxy | undefined;
  /** The step during which a connection is dropped (a long one: `sleep`). */
  readonly longStep: number;
  /** How long a proxy cut or a stopped broker lasts. */
  readonly outageMs: number;
}

/** Injects one fault; returns what it did. */
export async function injectFault(
  kind: FaultKind,
  ctx: FaultContext,
): Promise<{ detail: string; target?: string; waitedMs?: number }> {
  switch (kind) {
    case "kill":
      return killOrchestrator(ctx);
    case "mq":
      return ctx.outages === "proxy"
        ? proxyCut(ctx.mqProxy, "RabbitMQ", ctx.outageMs)
        : restartRabbitMq(ctx.outageMs);
    case "pg":
      return ctx.outages === "proxy" ? proxyCut(ctx.pgProxy, "Postgres", ctx.outageMs) : restartPostgres();
    case "ssh":
      return dropSsh(ctx);
  }
}

async function killOrchestrator(ctx: FaultContext): Promise<{ detail: string }> {
  const { orchestrator } = ctx;
  const pid = orchestrator.pid;
  const running = await vmProcesses(orchestrator.vmRoot);
  await orchestrator.kill9();
  // A supervisor restarts a crashed service after a moment; its VMs keep running meanwhile.
  await sleep(2_000);
  const orphans = await vmProcesses(orchestrator.vmRoot);
  const started = performance.now();
  await orchestrator.start();
  const readyS = (performance.now() - started) / 1000;
  const survivors = (await vmProcesses(orchestrator.vmRoot)).filter((vm) =>
    orphans.some((o) => o.pid === vm.pid),
  );
  return {
    detail:
      `kill -9 of pid ${pid} with ${running.length} VM(s) running; ${orphans.length} QEMU orphan(s) after 2 s; ` +
      `restarted, ready in ${readyS.toFixed(1)} s; recovery: ${await recoverySummary(orchestrator)}; ` +
      `orphans alive after it: ${survivors.length}`,
  };
}

/** What the new start's recovery says it did (its "start-up recovery done" log line). */
async function recoverySummary(orchestrator: OrchestratorInstance): Promise<string> {
  const log = await readFile(orchestrator.logPath(orchestrator.starts), "utf8").catch(() => "");
  for (const line of log.split("\n")) {
    if (!line.includes("start-up recovery done")) continue;
    try {
      const f = JSON.parse(line) as Record<string, unknown>;
      return `killed ${f["killed"]}, VMs destroyed ${f["vmsDestroyed"]}, jobs failed ${f["failed"]}, requeued ${f["requeued"]}, errors ${f["errors"]}`;
    } catch {
      return "(unreadable log line)";
    }
  }
  return "(no recovery line in its log)";
}

async function proxyCut(
  proxy: TcpProxy | undefined,
  what: string,
  outageMs: number,
): Promise<{ detail: string }> {
  if (proxy === undefined) throw new Error(`no proxy in front of ${what}`);
  proxy.cut();
  try {
    await sleep(outageMs);
  } finally {
    proxy.resume();
  }
  return {
    detail: `${what}: the orchestrator's connections cut at a TCP proxy, refused for ${outageMs / 1000} s`,
  };
}

async function restartRabbitMq(outageMs: number): Promise<{ detail: string }> {
  // As packages/common's broker-restart test: the broker's app stops (every connection closes,
  // durable queues and persistent messages stay on disk) and starts again. Shared with other
  // work on this machine: kept short, and always started again.
  const started = performance.now();
  try {
    await run("rabbitmqctl", ["-q", "stop_app"]);
    await sleep(outageMs);
  } finally {
    await run("rabbitmqctl", ["-q", "start_app"]);
  }
  return {
    detail: `RabbitMQ: rabbitmqctl stop_app, ${outageMs / 1000} s, start_app (down ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  };
}

async function restartPostgres(): Promise<{ detail: string }> {
  const started = performance.now();
  await run("pg_ctlcluster", ["15", "main", "restart"]);
  return {
    detail: `Postgres: pg_ctlcluster 15 main restart (fast shutdown, every session ended; ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  };
}

/** Drops the SSH connections of a job in its long step; waits up to a minute for one to be there. */
async function dropSsh(ctx: FaultContext): Promise<{ detail: string; target?: string; waitedMs: number }> {
  const begun = Date.now();
  const deadline = begun + 60_000;
  while (Date.now() < deadline) {
    for (const requestId of ctx.ledger.inStep(ctx.longStep)) {
      const vm = (await vmProcesses(ctx.orchestrator.vmRoot)).find((v) =>
        v.vmName?.startsWith(`job-${requestId}`),
      );
      if (vm?.sshPort === undefined) continue;
      const dropped = await dropConnectionsTo(vm.sshPort);
      if (dropped === 0) continue;
      return {
        detail: `ss -K: ${dropped} TCP connection(s) to 127.0.0.1:${vm.sshPort} (${vm.vmName}'s SSH) dropped during step ${ctx.longStep}`,
        target: requestId,
        waitedMs: Date.now() - begun,
      };
    }
    await sleep(250);
  }
  return {
    detail: "no job was in its long step with an SSH connection for 60 s: nothing dropped",
    waitedMs: Date.now() - begun,
  };
}
