import { fileURLToPath } from "node:url";

/** The example image map of the Solstice CI checkout this cidev comes from. */
export const CHECKOUT_IMAGE_MAP = fileURLToPath(
  new URL("../../../../examples/orchestrator-image-map.yaml", import.meta.url),
);

/** The image map `cidev run` uses: `--image-map`, else `ORCH_CONFIG`, else the checkout's example map. */
export function imageMapPath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (flag !== undefined && flag !== "") return flag;
  const fromEnv = env["ORCH_CONFIG"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return CHECKOUT_IMAGE_MAP;
}
