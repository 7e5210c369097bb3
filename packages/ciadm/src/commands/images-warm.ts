import type { CliContext } from "@solstice/cli-kit";
import { EXIT_FAILED, EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { OrchestratorClient } from "../api/orchestrator-client.ts";
import { addApiOptions, apiTarget } from "../cli/connection-options.ts";

/** A template build boots the image cold: minutes for a slow guest under TCG. */
const WARM_TIMEOUT_MS = 30 * 60_000;

/**
 * `ciadm images warm <label>`: (re)builds the label's warm template on the orchestrator now
 * (`POST /v1/images/:label/warm`) and prints its state; exit 1 when the build failed.
 */
export function registerImagesWarm(images: Command, ctx: CliContext): void {
  const command = images
    .command("warm")
    .description(
      "(re)build an image's warm template on the orchestrator now and wait for it (exit 1 when the build failed)",
    )
    .argument("<label>", "the image's label (or an alias)")
    .option("--json", "print the image and its templates as JSON");
  addApiOptions(command);
  command.action(
    ctx.action(async (label: string, opts: { json?: boolean; orchUrl?: string; orchToken?: string }) => {
      const api = new OrchestratorClient(apiTarget(opts, ctx.env), { timeoutMs: WARM_TIMEOUT_MS });
      const image = await api.warmImage(label);
      const templates = image.templates;
      if (opts.json === true) ctx.stdout.write(`${JSON.stringify(image, null, 2)}\n`);
      else {
        for (const t of templates) {
          const size = t.state_bytes === null ? "" : `, state ${(t.state_bytes / 1024 ** 2).toFixed(0)} MiB`;
          const took = t.build_seconds === null ? "" : `, built in ${t.build_seconds.toFixed(1)} s`;
          const why = t.error === null ? "" : `: ${t.error}`;
          ctx.stdout.write(`${image.label} template ${t.id}: ${t.state}${took}${size}${why}\n`);
        }
      }
      return templates.some((t) => t.state === "ready") ? EXIT_OK : EXIT_FAILED;
    }),
  );
}
