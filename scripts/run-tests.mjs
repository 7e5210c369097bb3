#!/usr/bin/env node
// `pnpm test`: the three vitest projects, the VM tests beside the others.
//
// In one vitest run, every project whose files run one at a time (integration, vm) shares a single
// sequential queue, so the integration files waited for the VM files and the run took their sum.
// They need different things (QEMU's CPU; RabbitMQ and Postgres), so two vitest processes run side
// by side: `vm`, and `unit` then `integration`. The project that stops the shared broker
// (`broker-restart`) runs alone at the end. With SOLSTICE_TEST_IMAGE=1 (.ci/run sets it), the
// container image is built and smoke-run (project `image`) after `integration`, in the time that
// lane has to spare while the VM tests finish. With arguments, this is plain `vitest run <args>`.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

const VITEST = join(import.meta.dirname, "..", "node_modules", ".bin", "vitest");

const totals = { passed: 0, failed: 0, skipped: 0 };

/** Runs `vitest run …argv`, relaying its output a whole line at a time; resolves its exit code. */
function vitest(argv) {
  return new Promise((resolve) => {
    const child = spawn(VITEST, ["run", ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
        out.write(`${line}\n`);
        // scripts/summary-reporter.ts's closing line: summed over the runs below.
        const m = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/.exec(line);
        if (m !== null) {
          totals.passed += Number(m[1]);
          totals.failed += Number(m[2]);
          totals.skipped += Number(m[3]);
        }
      });
    }
    child.once("error", (error) => {
      process.stderr.write(`run-tests: cannot start vitest: ${error.message}\n`);
      resolve(1);
    });
    child.once("close", (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

const args = process.argv.slice(2);
if (args.length > 0) process.exit(await vitest(args));

const started = Date.now();
const [vm, others] = await Promise.all([
  vitest(["--project", "vm"]),
  (async () => {
    const unit = await vitest(["--project", "unit"]);
    const integration = await vitest(["--project", "integration"]);
    const image = process.env["SOLSTICE_TEST_IMAGE"] === "1" ? await vitest(["--project", "image"]) : 0;
    return [unit, integration, image].find((c) => c !== 0) ?? 0;
  })(),
]);
const exclusive = await vitest(["--project", "broker-restart"]);
const code = [vm, others, exclusive].find((c) => c !== 0) ?? 0;
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
process.stdout.write(
  `\nall projects in ${minutes} min\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`,
);
process.exit(code);
