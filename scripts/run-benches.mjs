#!/usr/bin/env node
// Runs benchmarks: `pnpm bench` runs every bench/<name>/main.ts; `pnpm bench mq-throughput vm-overhead`
// runs those. Arguments after `--` go to each benchmark (e.g. `pnpm bench mq-throughput -- --rounds 3`).
// Each runs in its own Node process with the @solstice/source condition (packages from src).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const benchDir = join(root, "bench");

const args = process.argv.slice(2);
const separator = args.indexOf("--");
const names = (separator === -1 ? args : args.slice(0, separator)).map((n) =>
  n.replace(/^bench\//, "").replace(/\/(main\.ts)?$/, ""),
);
const passThrough = separator === -1 ? [] : args.slice(separator + 1);

const available = readdirSync(benchDir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(benchDir, e.name, "main.ts")))
  .map((e) => e.name)
  .sort();

const unknown = names.filter((n) => !available.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${available.join(", ") || "none"}`);
  process.exit(2);
}

// Run only when named: the fault soak takes most of an hour under TCG and restarts the shared
// RabbitMQ and Postgres when asked to (`pnpm bench soak`).
const namedOnly = ["soak"];
const selected = names.length > 0 ? names : available.filter((n) => !namedOnly.includes(n));

// What a recorded figure needs to be reproduced: the commit, whether the tree differed from it,
// and how busy the machine was (these machines are shared and noisy).
function git(...gitArgs) {
  const out = spawnSync("git", gitArgs, { cwd: root, encoding: "utf8" });
  return out.status === 0 ? out.stdout.trim() : undefined;
}
const commit = git("rev-parse", "--short=12", "HEAD") ?? "unknown";
const dirty = (git("status", "--porcelain", "--untracked-files=no") ?? "") !== "";
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
console.log(`commit ${commit}${dirty ? " (dirty: uncommitted changes)" : ""}`);
const failed = [];
for (const name of selected) {
  console.log(
    `\n=== bench/${name} === commit ${commit}${dirty ? " (dirty)" : ""}; load average before: ${load()}`,
  );
  const result = spawnSync(
    process.execPath,
    ["--conditions=@solstice/source", join(benchDir, name, "main.ts"), ...passThrough],
    { cwd: root, stdio: "inherit" },
  );
  console.log(`=== bench/${name}: load average after: ${load()}`);
  if (result.status !== 0) failed.push(`${name} (exit ${result.status ?? result.signal})`);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exit(1);
}
