import { AmqpBroker, type MqConfig, redactAmqpUrl } from "@solstice/common";
import { appliedMigrations, createPostgresDb, knownMigrations } from "@solstice/orchestrator";
import { sql } from "kysely";
import type { OrchestratorClient } from "../api/orchestrator-client.ts";

/** One check's result. */
export interface HealthCheck {
  readonly name: string;
  /** `ok`, `failed`, or `skipped` (nothing to check). */
  readonly status: "ok" | "failed" | "skipped";
  readonly detail: string;
}

function why(error: unknown): string {
  if (error instanceof Error)
    return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
  return String(error);
}

/** The orchestrator's readiness (`/readyz`: its database and broker as it sees them). */
export async function checkOrchestrator(api: OrchestratorClient): Promise<HealthCheck> {
  try {
    const { ready, checks } = await api.readiness();
    const detail = Object.entries(checks)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    return {
      name: "orchestrator",
      status: ready ? "ok" : "failed",
      detail: `${api.url}: ${ready ? "ready" : "not ready"} (${detail})`,
    };
  } catch (error) {
    return { name: "orchestrator", status: "failed", detail: why(error) };
  }
}

/** RabbitMQ answers at AMQP_URL (connects and disconnects; declares nothing). */
export async function checkBroker(config: MqConfig, timeoutMs = 5_000): Promise<HealthCheck> {
  const url = redactAmqpUrl(config.url);
  const broker = AmqpBroker.start({ config, connectionName: "ciadm-health" });
  try {
    await broker.waitUntilConnected(timeoutMs);
    return { name: "broker", status: "ok", detail: `${url}: connected` };
  } catch (error) {
    return { name: "broker", status: "failed", detail: why(error) };
  } finally {
    await broker.close({ timeoutMs: 1_000 }).catch(() => undefined);
  }
}

/** Postgres answers at DATABASE_URL and its migrations are all applied. */
export async function checkDatabase(databaseUrl: string | undefined): Promise<HealthCheck> {
  if (databaseUrl === undefined || databaseUrl === "") {
    return {
      name: "database",
      status: "skipped",
      detail: "DATABASE_URL is not set (the orchestrator's embedded database is private to it)",
    };
  }
  let shown = "the database";
  try {
    const url = new URL(databaseUrl);
    if (url.password !== "") url.password = "***";
    shown = url.toString();
  } catch {
    return { name: "database", status: "failed", detail: "DATABASE_URL is not a URL" };
  }
  const db = createPostgresDb({ url: databaseUrl, applicationName: "ciadm-health" });
  try {
    await sql`select 1`.execute(db);
    const applied = await appliedMigrations(db);
    const missing = knownMigrations().filter((m) => !applied.includes(m));
    if (missing.length > 0) {
      return {
        name: "database",
        status: "failed",
        detail: `${shown}: migrations not applied: ${missing.join(", ")} (run ciadm migrate)`,
      };
    }
    return {
      name: "database",
      status: "ok",
      detail: `${shown}: reachable, ${applied.length} migrations applied`,
    };
  } catch (error) {
    return { name: "database", status: "failed", detail: `${shown}: ${why(error)}` };
  } finally {
    await db.destroy().catch(() => undefined);
  }
}
