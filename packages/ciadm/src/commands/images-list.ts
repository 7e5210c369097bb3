import { stat } from "node:fs/promises";
import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK, formatError } from "@solstice/cli-kit";
import { loadImageMap } from "@solstice/common";
import type { Command } from "commander";
import { OrchestratorClient } from "../api/orchestrator-client.ts";
import { addApiOptions, addImageMapOption, apiTarget } from "../cli/connection-options.ts";
import { formatImageTable, imageRows } from "../output/image-text.ts";

/** The orchestrator is asked only for template states: a short wait when it is away. */
const TEMPLATES_TIMEOUT_MS = 3_000;

/** `ciadm images list`: the image map's labels, aliases, and whether each image is on this host. */
export function registerImagesList(images: Command, ctx: CliContext): void {
  const command = images
    .command("list")
    .description(
      "list the image map's labels with their aliases, whether the image is on this host, its size, " +
        "and its warm templates as the orchestrator reports them (WARM: ? when it cannot be reached)",
    )
    .option("--json", "print the images as JSON");
  addImageMapOption(command);
  addApiOptions(command);
  command.action(
    ctx.action(async (opts: { config: string; json?: boolean; orchUrl?: string; orchToken?: string }) => {
      const map = await loadImageMap(opts.config);
      const sizes = new Map<string, number>();
      for (const image of map.images.values()) {
        const info = await stat(image.localPath).catch(() => undefined);
        if (info?.isFile() === true) sizes.set(image.localPath, info.size);
      }
      // The list is the local map's; the orchestrator only adds template states, so it may be away.
      const api = new OrchestratorClient(apiTarget(opts, ctx.env), { timeoutMs: TEMPLATES_TIMEOUT_MS });
      const served = await api.listImages().catch((error: unknown) => {
        ctx.stderr.write(formatError("ciadm: template states not shown", error));
        return undefined;
      });
      const rows = imageRows(map, sizes, served);
      ctx.stdout.write(opts.json === true ? `${JSON.stringify(rows, null, 2)}\n` : formatImageTable(rows));
      return EXIT_OK;
    }),
  );
}
