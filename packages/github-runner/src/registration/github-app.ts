import { App } from "@octokit/app";
import { decodeJitConfig } from "../settings/jit-config.ts";
import type { RunnerConfiguration } from "../settings/runner-files.ts";
import { apiBaseUrl, type GitHubTarget, parseGitHubUrl, scopePath } from "./github-urls.ts";
import {
  chooseRunnerGroup,
  type JitConfigRequest,
  JitConfigResponseSchema,
  parseGitHubBody,
  RunnerGroupListSchema,
  RunnerTokenSchema,
} from "./registration-api.ts";

// GitHub App mode: the App's JWT (RS256, iss = App id, signed by @octokit/auth-app) finds the
// installation of the repository or organization, an installation token (handled by the
// installation's Octokit) creates registration or remove tokens, or JIT configs: one runner,
// one job, no registration files left behind.

type OctokitClass = NonNullable<ConstructorParameters<typeof App>[0]["Octokit"]>;
type InstallationOctokit = Awaited<ReturnType<App["getInstallationOctokit"]>>;

/** The App's identity. */
export interface GitHubAppCredentials {
  readonly appId: number | string;
  /** PEM. */
  readonly privateKey: string;
}

/** An App client for the API of `target` (github.com or GHES). */
export function createGitHubApp(credentials: GitHubAppCredentials, target: GitHubTarget): App {
  const probe = new App({ appId: credentials.appId, privateKey: credentials.privateKey });
  const Base = probe.octokit.constructor as OctokitClass;
  return new App({
    appId: credentials.appId,
    privateKey: credentials.privateKey,
    Octokit: Base.defaults({ baseUrl: apiBaseUrl(target) }),
  });
}

/** The Octokit of the App's installation on the repository, organization or enterprise. */
export async function installationOctokit(app: App, target: GitHubTarget): Promise<InstallationOctokit> {
  const { data } = await app.octokit.request(`GET /${scopePath(target.scope)}/installation`);
  const id = (data as { id?: unknown }).id;
  if (typeof id !== "number") throw new Error(`${target.url}: the App is not installed there`);
  return app.getInstallationOctokit(id);
}

/** A registration or remove token made with the App's installation token. */
export async function appRunnerToken(
  credentials: GitHubAppCredentials,
  url: string,
  kind: "registration" | "remove",
): Promise<string> {
  const target = parseGitHubUrl(url);
  const octokit = await installationOctokit(createGitHubApp(credentials, target), target);
  const { data } = await octokit.request(`POST /${scopePath(target.scope)}/actions/runners/${kind}-token`);
  return parseGitHubBody(RunnerTokenSchema, `${kind}-token`, data).token;
}

/** Options of {@link appJitConfig}. */
export interface AppJitConfigOptions {
  readonly url: string;
  readonly name: string;
  readonly labels: readonly string[];
  /** A group name; default: the default group. */
  readonly runnerGroup?: string;
  readonly workFolder?: string;
}

/**
 * A JIT runner through the App: POST generate-jitconfig `{name, runner_group_id, labels,
 * work_folder}`; returns the runner's id, the encoded config (for `--jitconfig`) and the
 * decoded configuration.
 */
export async function appJitConfig(
  credentials: GitHubAppCredentials,
  options: AppJitConfigOptions,
): Promise<{ runnerId: number; encoded: string; configuration: RunnerConfiguration }> {
  const target = parseGitHubUrl(options.url);
  const octokit = await installationOctokit(createGitHubApp(credentials, target), target);
  const scope = scopePath(target.scope);
  // Repositories have no runner groups of their own: their runners join the Default group (id 1).
  let groupId = 1;
  if (target.scope.kind !== "repository" || options.runnerGroup !== undefined) {
    const groups = await octokit.request(`GET /${scope}/actions/runner-groups`);
    groupId = chooseRunnerGroup(
      parseGitHubBody(RunnerGroupListSchema, "runner-groups", groups.data).runner_groups,
      options.runnerGroup,
    ).id;
  }
  const body: JitConfigRequest = {
    name: options.name,
    runner_group_id: groupId,
    labels: options.labels,
    work_folder: options.workFolder ?? "_work",
  };
  const { data } = await octokit.request(`POST /${scope}/actions/runners/generate-jitconfig`, { ...body });
  const answer = parseGitHubBody(JitConfigResponseSchema, "generate-jitconfig", data);
  return {
    runnerId: answer.runner.id,
    encoded: answer.encoded_jit_config,
    configuration: decodeJitConfig(answer.encoded_jit_config),
  };
}
