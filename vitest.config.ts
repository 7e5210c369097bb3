import { defineConfig } from "vitest/config";

// Projects by what a test needs: nothing (unit), RabbitMQ/Postgres (integration), QEMU (vm), the
// broker to itself (broker-restart). `pnpm test` (scripts/run-tests.mjs) runs vm beside the others.
// File names say which: *.test.ts, *.int.test.ts, *.vm.test.ts, *.image.test.ts (the container
// image: under `pnpm test` with SOLSTICE_TEST_IMAGE=1). None is skipped when its service is
// missing: it fails and says how to start it.
const resolve = { conditions: ["@solstice/source"] };
// Tests run in Vite's SSR environment, which reads its own conditions: without this, a package
// import (`@solstice/common`) falls back to `dist/` and fails before any build.
const ssr = { resolve: { conditions: ["@solstice/source"] } };
const exclude = ["**/node_modules/**", "**/dist/**"];
/** Integration tests that stop the shared broker. */
const BROKER_RESTART = ["packages/common/test/mq-restart.int.test.ts"];

export default defineConfig({
  test: {
    reporters: ["default", "./scripts/summary-reporter.ts"],
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "packages/*/src/**/*.test.ts"],
          // PGlite (Postgres in WASM) takes seconds to start on a busy two-core machine.
          hookTimeout: 60_000,
          exclude: [...exclude, "**/*.int.test.ts", "**/*.vm.test.ts", "**/*.image.test.ts"],
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: "integration",
          include: ["packages/*/test/**/*.int.test.ts"],
          exclude: [...exclude, ...BROKER_RESTART],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Tests share one broker (one of them restarts it) and one database.
          fileParallelism: false,
        },
      },
      {
        resolve,
        ssr,
        test: {
          // Stops the shared RabbitMQ for a moment: run when nothing else uses it (scripts/run-tests.mjs).
          name: "broker-restart",
          include: BROKER_RESTART,
          exclude,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: "vm",
          include: ["packages/*/test/**/*.vm.test.ts"],
          exclude,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // TCG guests are CPU-bound; the machines have two cores.
          fileParallelism: false,
        },
      },
      {
        resolve,
        ssr,
        test: {
          // The container image built and smoke-run (root, buildah, podman): run by `pnpm test`
          // only when SOLSTICE_TEST_IMAGE=1 (scripts/run-tests.mjs); the test holds its budgets.
          name: "image",
          include: ["packages/*/test/**/*.image.test.ts"],
          exclude,
          fileParallelism: false,
        },
      },
    ],
  },
});
