import { mkdir } from "node:fs/promises";
import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import {
  currentHostFacts,
  databaseTarget,
  defaultStateDir,
  describeDatabaseTarget,
  migrateToLatest,
  openDatabase,
} from "@solstice/orchestrator";
import { type Command, Option } from "commander";
import { addDatabaseOption } from "../cli/connection-options.ts";

/** `ciadm migrate`: applies the orchestrator's database migrations. */
export function registerMigrate(program: Command, ctx: CliContext): void {
  const command = program
    .command("migrate")
    .summary("apply the orchestrator's database migrations")
    .description(
      "apply the orchestrator's database migrations (Postgres at DATABASE_URL, else the embedded " +
        "PGlite database under STATE_DIR/db) and print what was applied",
    );
  addDatabaseOption(
    command,
    "Postgres URL (postgres://user:pass@host:5432/db); unset: PGlite under --state-dir",
  );
  command.addOption(
    new Option("--state-dir <dir>", "the orchestrator's state directory (for PGlite)")
      .env("STATE_DIR")
      .default(undefined, "/var/lib/solstice-ci as root, else ~/.local/state/solstice-ci"),
  );
  command.action(
    ctx.action(async (opts: { databaseUrl?: string; stateDir?: string }) => {
      const stateDir = opts.stateDir ?? defaultStateDir(currentHostFacts());
      const target = databaseTarget({ databaseUrl: opts.databaseUrl, stateDir });
      if (target.kind === "pglite") await mkdir(stateDir, { recursive: true, mode: 0o700 });
      const db = await openDatabase(target);
      try {
        const applied = await migrateToLatest(db);
        const where = describeDatabaseTarget(target);
        ctx.stdout.write(
          applied.length === 0
            ? `${where}: up to date\n`
            : `${where}: applied ${applied.length} migration(s): ${applied.join(", ")}\n`,
        );
      } finally {
        await db.destroy();
      }
      return EXIT_OK;
    }),
  );
}
