// The labels a runner registers with: `self-hosted`, its OS and its architecture as GitHub
// names them (VarUtil.OS, VarUtil.OSArchitecture), then the labels given. Solstice runs jobs in
// VMs of other systems, so the OS and architecture may be given instead of the host's.

/** GitHub's name of an OS (`process.platform` values). */
export function osLabel(platform: NodeJS.Platform | string = process.platform): string {
  switch (platform) {
    case "linux":
      return "Linux";
    case "darwin":
      return "macOS";
    case "win32":
      return "Windows";
    default:
      return platform;
  }
}

/** GitHub's name of an architecture (`process.arch` values). */
export function archLabel(arch: string = process.arch): string {
  switch (arch) {
    case "ia32":
    case "x86":
      return "X86";
    case "x64":
      return "X64";
    case "arm":
      return "ARM";
    case "arm64":
      return "ARM64";
    default:
      return arch.toUpperCase();
  }
}

/** Options of {@link runnerLabels}. */
export interface RunnerLabelOptions {
  /** Extra labels (`--labels`). */
  readonly extra?: readonly string[];
  /** Leave out `self-hosted`, the OS and the architecture (then `extra` must not be empty). */
  readonly noDefaultLabels?: boolean;
  /** Defaults: the host's. */
  readonly os?: string;
  readonly arch?: string;
}

/**
 * The runner's labels, each once (case-insensitively, first spelling kept).
 *
 * @example
 *   runnerLabels({ extra: ["omnios"] }); // ["self-hosted", "Linux", "X64", "omnios"]
 */
export function runnerLabels(options: RunnerLabelOptions = {}): string[] {
  const defaults =
    options.noDefaultLabels === true
      ? []
      : ["self-hosted", options.os ?? osLabel(), options.arch ?? archLabel()];
  const out: string[] = [];
  for (const label of [...defaults, ...(options.extra ?? [])]) {
    const trimmed = label.trim();
    if (trimmed !== "" && !out.some((l) => l.toLowerCase() === trimmed.toLowerCase())) out.push(trimmed);
  }
  if (out.length === 0)
    throw new Error("a runner needs at least one label when the default labels are left out");
  return out;
}

/** Labels as the v2 register call sends them: `{name, type}` objects (`system` for the defaults). */
export function labelObjects(
  labels: readonly string[],
  noDefaultLabels = false,
): { id: number; name: string; type: "system" | "user" }[] {
  const system = new Set(noDefaultLabels ? [] : labels.slice(0, 3).map((l) => l.toLowerCase()));
  return labels.map((name) => ({ id: 0, name, type: system.has(name.toLowerCase()) ? "system" : "user" }));
}
