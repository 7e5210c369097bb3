import { stat } from "node:fs/promises";
import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import { loadImageMap } from "@solstice/common";
import type { Command } from "commander";
import { addImageMapOption } from "../cli/connection-options.ts";
import { formatImageTable, imageRows } from "../output/image-text.ts";

/** `ciadm images list`: the image map's labels, aliases, and whether each image is on this host. */
export function registerImagesList(images: Command, ctx: CliContext): void {
  const command = images
    .command("list")
    .description(
      "list the image map's labels with their aliases, whether the image is on this host, and its size",
    )
    .option("--json", "print the images as JSON");
  addImageMapOption(command);
  command.action(
    ctx.action(async (opts: { config: string; json?: boolean }) => {
      const map = await loadImageMap(opts.config);
      const sizes = new Map<string, number>();
      for (const image of map.images.values()) {
        const info = await stat(image.localPath).catch(() => undefined);
        if (info?.isFile() === true) sizes.set(image.localPath, info.size);
      }
      const rows = imageRows(map, sizes);
      ctx.stdout.write(opts.json === true ? `${JSON.stringify(rows, null, 2)}\n` : formatImageTable(rows));
      return EXIT_OK;
    }),
  );
}
