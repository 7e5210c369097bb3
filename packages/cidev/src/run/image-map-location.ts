import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The example image map of the Solstice CI checkout this cidev comes from. */
export const CHECKOUT_IMAGE_MAP = fileURLToPath(
  new URL("../../../../examples/orchestrator-image-map.yaml", import.meta.url),
);

/**
 * The same map as shipped inside an installed cidev package (scripts/pack-cli.mjs copies it to
 * the package's `examples/`): a cidev installed without a checkout finds it here.
 */
export const PACKAGED_IMAGE_MAP = fileURLToPath(
  new URL("../../examples/orchestrator-image-map.yaml", import.meta.url),
);

/** Where cidev looks for an image map when neither `--image-map` nor ORCH_CONFIG names one, in order. */
export const DEFAULT_IMAGE_MAPS: readonly string[] = [CHECKOUT_IMAGE_MAP, PACKAGED_IMAGE_MAP];

/**
 * The image map `cidev run` uses: `--image-map`, else `ORCH_CONFIG`, else the first default map
 * that exists (the checkout's, then the installed package's); the checkout's when none does (the
 * error then names it). None of them depends on the current directory.
 */
export function imageMapPath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (flag !== undefined && flag !== "") return flag;
  const fromEnv = env["ORCH_CONFIG"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return DEFAULT_IMAGE_MAPS.find((path) => existsSync(path)) ?? CHECKOUT_IMAGE_MAP;
}
