import { CliError, EXIT_USAGE } from "@solstice/cli-kit";

// Which runner(s) the daemon listens with, from its flags, decided without I/O: a JIT config
// (one job, then exit), a GitHub App (a pool of ephemeral JIT runners), or the runner registered
// in the state directory. Contradictory or half-given flags are usage errors naming the flag.

/** The daemon's mode as the flags give it (the App's key is still a file name). */
export type DaemonModeChoice =
  | { readonly kind: "registered" }
  | { readonly kind: "jit"; readonly encoded: string }
  | {
      readonly kind: "app";
      readonly appId: string;
      readonly privateKeyFile: string;
      /** The repository or organization URL. */
      readonly target: string;
    };

/** The flags that choose the mode. */
export interface DaemonModeFlags {
  readonly jitconfig?: string | undefined;
  readonly appId?: string | undefined;
  readonly appPrivateKeyFile?: string | undefined;
  readonly appTarget?: string | undefined;
  /** Where `owner/repo` and `org` targets live. Default https://github.com. */
  readonly githubUrl?: string | undefined;
}

function given(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== "";
}

function usage(message: string, hint: string): CliError {
  return new CliError("GITHUB_RUNNER_USAGE", message, { exitCode: EXIT_USAGE, hint });
}

/**
 * `owner/repo`, `org` or a URL → the URL of the repository or organization.
 *
 * @example
 *   appTargetUrl("acme/widgets", "https://github.com"); // "https://github.com/acme/widgets"
 */
export function appTargetUrl(target: string, githubUrl = "https://github.com"): string {
  const trimmed = target.trim();
  if (/^https?:\/\//i.test(trimmed)) return trimmed.replace(/\/+$/, "");
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)?$/.test(trimmed)) {
    throw usage(
      `--app-target (GITHUB_RUNNER_APP_TARGET): "${target}" is not owner/repo, an organization or a URL`,
      "e.g. --app-target acme/widgets or --app-target acme",
    );
  }
  return `${githubUrl.replace(/\/+$/, "")}/${trimmed}`;
}

/** The mode, or a usage error naming the flag. */
export function chooseDaemonMode(flags: DaemonModeFlags): DaemonModeChoice {
  const app = [flags.appId, flags.appPrivateKeyFile, flags.appTarget].some(given);
  if (given(flags.jitconfig)) {
    if (app) {
      throw usage(
        "--jitconfig (ACTIONS_RUNNER_INPUT_JITCONFIG) and the GitHub App flags exclude each other",
        "pass either a JIT config or --app-id, --app-private-key-file and --app-target",
      );
    }
    return { kind: "jit", encoded: flags.jitconfig.trim() };
  }
  if (!app) return { kind: "registered" };
  const missing = [
    ["--app-id (GITHUB_RUNNER_APP_ID)", flags.appId],
    ["--app-private-key-file (GITHUB_RUNNER_APP_PRIVATE_KEY_FILE)", flags.appPrivateKeyFile],
    ["--app-target (GITHUB_RUNNER_APP_TARGET)", flags.appTarget],
  ].filter(([, value]) => !given(value));
  if (missing.length > 0) {
    throw usage(
      `GitHub App mode needs ${missing.map(([flag]) => flag).join(" and ")}`,
      "App mode takes the App's id, its private key (PEM file) and the repository or organization it serves",
    );
  }
  if (!/^\d+$/.test(String(flags.appId).trim())) {
    throw usage(
      `--app-id (GITHUB_RUNNER_APP_ID): "${flags.appId}" is not a number`,
      "the App's numeric id, from its settings page",
    );
  }
  return {
    kind: "app",
    appId: String(flags.appId).trim(),
    privateKeyFile: String(flags.appPrivateKeyFile),
    target: appTargetUrl(String(flags.appTarget), flags.githubUrl),
  };
}
