import type { ImageMap } from "@solstice/common";
import { GitHubRunnerError } from "../errors.ts";

// Which image a GitHub runner's jobs run on. GitHub's job message does not carry `runs-on`: a
// job goes to any runner whose labels cover it, and the runner is not told which of its labels
// matched. So a runner serves one image: its image labels must all name the same image (the
// image's label and its aliases). Several images → one runner per image (each its own state
// directory, or its own App daemon).

/** The image labels of a runner whose labels name several images. */
export class SeveralImagesError extends GitHubRunnerError {
  constructor(images: readonly string[], labels: readonly string[]) {
    super(
      "GITHUB_RUNNER_SEVERAL_IMAGES",
      `the labels ${labels.join(", ")} name ${images.length} images (${images.join(", ")}); a GitHub runner runs every job on one image, since GitHub does not tell a runner which of its labels a job asked for`,
      {
        hint: `register one runner per image, each with its own --state-dir and --labels (e.g. --labels ${images[0]})`,
      },
    );
  }
}

/** The labels, none of which the image map serves. */
export class NoImageLabelError extends GitHubRunnerError {
  constructor(labels: readonly string[], file: string) {
    super(
      "GITHUB_RUNNER_NO_IMAGE",
      `none of the labels ${labels.join(", ") || "(none)"} is an image of ${file}`,
      {
        hint: "pass --labels with an image label or alias of the image map",
      },
    );
  }
}

/**
 * The image label jobs run on: with the image map, the one image the labels name (aliases
 * resolved; labels the map does not know, such as `gpu`, are only labels); without it, the first
 * label (the orchestrator resolves it). Throws {@link SeveralImagesError} or {@link NoImageLabelError}.
 *
 * @example
 *   runnerImageLabel(["omnios-bloody", "omnios"], map); // "omnios-bloody" (omnios is its alias)
 */
export function runnerImageLabel(
  labels: readonly string[],
  map?: Pick<ImageMap, "file" | "images" | "aliases">,
): string {
  if (map === undefined) {
    const first = labels[0];
    if (first === undefined) throw new NoImageLabelError(labels, "the labels");
    return first;
  }
  const images = [...new Set(labels.map((l) => map.aliases.get(l) ?? l).filter((l) => map.images.has(l)))];
  if (images.length === 0) throw new NoImageLabelError(labels, map.file);
  if (images.length > 1) throw new SeveralImagesError(images, labels);
  return images[0]!;
}
