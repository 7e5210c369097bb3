import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import { loadImageMap, resolveLabel, servedLabels } from "@solstice/common";
import { ensureImage, terminalProgress } from "@solstice/vm-engine";
import type { Command } from "commander";
import { addImageMapOption } from "../cli/connection-options.ts";
import { UsageError } from "../errors.ts";

/** `ciadm images pull [<label>]`: fetches missing base images, with a progress bar. */
export function registerImagesPull(images: Command, ctx: CliContext): void {
  const command = images
    .command("pull")
    .summary("fetch base images that are not on this host yet (progress bar)")
    .description(
      "fetch the base image of a label (or of every label) when it is not on this host yet, " +
        "with a progress bar on a terminal (sha256 checked when the map gives one)",
    )
    .argument("[label]", "a label or alias of the map (default: every image)");
  addImageMapOption(command);
  command.action(
    ctx.action(async (label: string | undefined, opts: { config: string }) => {
      const map = await loadImageMap(opts.config);
      let wanted = [...map.images.values()];
      if (label !== undefined) {
        const resolved = resolveLabel(map, label);
        if (resolved === undefined) {
          throw new UsageError(
            `the image map ${opts.config} has no image for label "${label}"`,
            `labels: ${servedLabels(map).join(", ")}`,
          );
        }
        wanted = [resolved.image];
      }
      for (const image of wanted) {
        const result = await ensureImage(image, { onProgress: terminalProgress(ctx.stderr) });
        ctx.stdout.write(
          result.fetched
            ? `${image.label}: fetched to ${image.localPath}${result.sha256 === undefined ? "" : ` (sha256 ${result.sha256})`}\n`
            : `${image.label}: already present at ${image.localPath}\n`,
        );
      }
      return EXIT_OK;
    }),
  );
}
