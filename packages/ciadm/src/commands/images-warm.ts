import type { CliContext } from "@solstice/cli-kit";
import { EXIT_FAILED, EXIT_OK } from "@solstice/cli-kit";
import { ApiErrorBodySchema, WarmAnswerSchema } from "@solstice/common";
import type { Command } from "commander";
import { addApiOptions, apiTarget } from "../cli/connection-options.ts";
import { ApiError, ApiResponseError, ApiUnreachableError } from "../errors.ts";

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
      const target = apiTarget(opts, ctx.env);
      const url = `${target.url}/v1/images/${encodeURIComponent(label)}/warm`;
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: target.token === undefined ? {} : { authorization: `Bearer ${target.token}` },
          signal: AbortSignal.timeout(WARM_TIMEOUT_MS),
        });
      } catch (error) {
        throw new ApiUnreachableError(target.url, error);
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ApiResponseError(url, `HTTP ${response.status} ${text.slice(0, 200)}`);
      }
      if (!response.ok) {
        const error = ApiErrorBodySchema.safeParse(body);
        if (error.success)
          throw new ApiError(response.status, error.data.error.code, error.data.error.message);
        throw new ApiResponseError(url, `HTTP ${response.status} ${text.slice(0, 200)}`);
      }
      const image = WarmAnswerSchema.safeParse(body);
      if (!image.success) throw new ApiResponseError(url, image.error.message);
      const templates = image.data.templates;
      if (opts.json === true) ctx.stdout.write(`${JSON.stringify(image.data, null, 2)}\n`);
      else {
        for (const t of templates) {
          const size = t.state_bytes === null ? "" : `, state ${(t.state_bytes / 1024 ** 2).toFixed(0)} MiB`;
          const took = t.build_seconds === null ? "" : `, built in ${t.build_seconds.toFixed(1)} s`;
          const why = t.error === null ? "" : `: ${t.error}`;
          ctx.stdout.write(`${image.data.label} template ${t.id}: ${t.state}${took}${size}${why}\n`);
        }
      }
      return templates.some((t) => t.state === "ready") ? EXIT_OK : EXIT_FAILED;
    }),
  );
}
