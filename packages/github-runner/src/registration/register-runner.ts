import { setTimeout as sleep } from "node:timers/promises";
import { generateRunnerKey, publicKeyXml } from "../auth/rsa-key.ts";
import { GitHubHttpError, GitHubRunnerError, RunnerExistsError } from "../errors.ts";
import { type FetchFunction, httpCall, isSuccess, parseJsonText } from "../http/http-call.ts";
import { registerLegacyRunner, removeLegacyRunner } from "../legacy/legacy-registration.ts";
import type { RunnerConfiguration } from "../settings/runner-files.ts";
import { RUNNER_PROTOCOL_VERSION } from "../version.ts";
import {
  type GitHubTarget,
  parseGitHubUrl,
  registerRunnerUrl,
  runnerGroupsUrl,
  runnerRegistrationUrl,
  runnersByNameUrl,
  runnerTokenUrl,
  runnerUrl,
} from "./github-urls.ts";
import {
  chooseRunnerGroup,
  configurationFromRegistration,
  parseGitHubBody,
  RegisteredRunnerSchema,
  RunnerGroupListSchema,
  RunnerListSchema,
  RunnerRegistrationResponseSchema,
  RunnerTokenSchema,
  registerRunnerBody,
  runnerRegistrationBody,
} from "./registration-api.ts";

// Registration with a registration token, the v2 ("runner admin") flow github.com uses: the
// tenant call (runner-registration), a new key, the group, an existing runner of the same name
// (replaced or refused), then register. Removal: DELETE the runner with a remove token. The
// calls are retried three times with a random 1–5 s pause, except a 404, as the reference does.
// A server answering runner-registration with `use_v2_flow: false` (older GHES) gets the legacy
// pools/agents registration (legacy/legacy-registration.ts).

/** Options of {@link registerRunner}. */
export interface RegisterRunnerOptions {
  /** `https://github.com/<owner>/<repo>`, `…/<org>` or `…/enterprises/<name>`. */
  readonly url: string;
  readonly registrationToken: string;
  readonly name: string;
  /** The runner's labels (see runnerLabels). */
  readonly labels: readonly string[];
  readonly noDefaultLabels?: boolean;
  readonly runnerGroup?: string;
  readonly ephemeral?: boolean;
  /** Replace a runner of the same name instead of failing. */
  readonly replace?: boolean;
  readonly workFolder?: string;
  readonly fetch?: FetchFunction;
}

/** A registration call with the reference runner's retries (three, 1–5 s apart; not on 401/403/404/422). */
export async function remoteAuthCall<T>(
  what: string,
  call: () => Promise<{ status: number; text: string; url: string }>,
  parse: (json: unknown) => T,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    try {
      const answer = await call();
      status = answer.status;
      if (isSuccess(answer.status)) return parse(parseJsonText(answer.text) ?? {});
      throw new GitHubHttpError(what, answer.url, answer.status, answer.text, {
        hint:
          answer.status === 401 || answer.status === 403
            ? "the registration token is wrong or expired (they last an hour): create a new one"
            : undefined,
      });
    } catch (error) {
      const retriable = status !== 404 && status !== 401 && status !== 403 && status !== 422;
      if (
        attempt >= 3 ||
        !retriable ||
        (error instanceof GitHubRunnerError && !(error instanceof GitHubHttpError))
      ) {
        throw error;
      }
      await sleep(1000 + Math.random() * 4000);
    }
  }
}

function remoteAuth(
  token: string,
  fetchFn: FetchFunction | undefined,
  method: "GET" | "POST" | "DELETE",
  url: string,
  body?: object,
) {
  return async () => {
    const answer = await httpCall(
      {
        method,
        url,
        headers: { authorization: `RemoteAuth ${token}`, accept: "application/json" },
        ...(body === undefined ? {} : { body }),
      },
      fetchFn,
    );
    return { status: answer.status, text: answer.text, url };
  };
}

/**
 * Registers a runner and returns its configuration (write it with writeRunnerConfiguration).
 * Throws `RunnerExistsError`, `RunnerGroupNotFoundError`, `GitHubHttpError`, `GitHubResponseError`.
 */
export async function registerRunner(options: RegisterRunnerOptions): Promise<RunnerConfiguration> {
  const target = parseGitHubUrl(options.url);
  const token = options.registrationToken;
  const f = options.fetch;
  const tenant = await remoteAuthCall(
    "runner-registration",
    remoteAuth(token, f, "POST", runnerRegistrationUrl(target), runnerRegistrationBody(target, "register")),
    (json) => parseGitHubBody(RunnerRegistrationResponseSchema, "runner-registration", json),
  );
  if (!tenant.use_v2_flow) {
    // GHES without the runner-admin flow: pools and agents at the tenant (legacy/).
    return registerLegacyRunner({
      target,
      tenant,
      name: options.name,
      labels: options.labels,
      ...(options.noDefaultLabels === undefined ? {} : { noDefaultLabels: options.noDefaultLabels }),
      ...(options.runnerGroup === undefined ? {} : { runnerGroup: options.runnerGroup }),
      ephemeral: options.ephemeral ?? false,
      replace: options.replace ?? false,
      workFolder: options.workFolder ?? "_work",
      call: remoteAuthCall,
      ...(f === undefined ? {} : { fetch: f }),
    });
  }
  const key = generateRunnerKey();
  const groups = await remoteAuthCall(
    "runner-groups",
    remoteAuth(token, f, "GET", runnerGroupsUrl(target)),
    (json) => parseGitHubBody(RunnerGroupListSchema, "runner-groups", json),
  );
  const group = chooseRunnerGroup(groups.runner_groups, options.runnerGroup);
  const existing = await remoteAuthCall(
    "runners",
    remoteAuth(token, f, "GET", runnersByNameUrl(target, options.name)),
    (json) => parseGitHubBody(RunnerListSchema, "runners", json),
  );
  const same = existing.runners.find((r) => r.name.toLowerCase() === options.name.toLowerCase());
  if (same !== undefined && options.replace !== true) throw new RunnerExistsError(options.name);
  const body = registerRunnerBody(target, {
    groupId: group.id,
    name: options.name,
    version: RUNNER_PROTOCOL_VERSION,
    labels: options.labels,
    noDefaultLabels: options.noDefaultLabels ?? false,
    ephemeral: options.ephemeral ?? false,
    disableUpdate: true,
    publicKeyXml: publicKeyXml(key),
    ...(same === undefined ? {} : { replaceRunnerId: same.id }),
  });
  const runner = await remoteAuthCall(
    "register",
    remoteAuth(token, f, "POST", registerRunnerUrl(target), body),
    (json) => parseGitHubBody(RegisteredRunnerSchema, "register", json),
  );
  return configurationFromRegistration({
    target,
    tenant,
    group,
    runner,
    key,
    ephemeral: options.ephemeral ?? false,
    disableUpdate: true,
    workFolder: options.workFolder ?? "_work",
  });
}

/**
 * Deletes the runner on GitHub; a 404 is success. v2 flow: DELETE with `RemoteAuth <remove
 * token>`. A runner registered the legacy way (`legacy` given: `.runner` without
 * useRunnerAdminFlow): the tenant of runner-registration with the remove token, then DELETE the
 * agent of that name in its pool.
 */
export async function removeRunner(options: {
  readonly url: string;
  readonly removeToken: string;
  readonly runnerId: number;
  readonly legacy?: { readonly poolId: number; readonly agentName: string };
  readonly fetch?: FetchFunction;
}): Promise<void> {
  const target = parseGitHubUrl(options.url);
  if (options.legacy !== undefined) {
    const tenant = await remoteAuthCall(
      "runner-registration",
      remoteAuth(
        options.removeToken,
        options.fetch,
        "POST",
        runnerRegistrationUrl(target),
        runnerRegistrationBody(target, "remove"),
      ),
      (json) => parseGitHubBody(RunnerRegistrationResponseSchema, "runner-registration", json),
    );
    await removeLegacyRunner({
      tenant,
      poolId: options.legacy.poolId,
      agentName: options.legacy.agentName,
      call: remoteAuthCall,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    return;
  }
  try {
    await remoteAuthCall(
      "delete runner",
      remoteAuth(options.removeToken, options.fetch, "DELETE", runnerUrl(target, options.runnerId)),
      () => undefined,
    );
  } catch (error) {
    if (error instanceof GitHubHttpError && error.status === 404) return;
    throw error;
  }
}

/**
 * A registration or remove token from a personal access token, as `config.sh --pat` does
 * (`Authorization: basic base64(github:<pat>)`).
 */
export async function createRunnerToken(options: {
  readonly url: string;
  readonly pat: string;
  readonly kind: "registration" | "remove";
  readonly fetch?: FetchFunction;
}): Promise<string> {
  const target: GitHubTarget = parseGitHubUrl(options.url);
  const url = runnerTokenUrl(target, options.kind);
  const basic = Buffer.from(`github:${options.pat}`, "utf8").toString("base64");
  const result = await remoteAuthCall(
    `${options.kind}-token`,
    async () => {
      const answer = await httpCall(
        {
          method: "POST",
          url,
          headers: { authorization: `basic ${basic}`, accept: "application/vnd.github.v3+json" },
          body: "",
        },
        options.fetch,
      );
      return { status: answer.status, text: answer.text, url };
    },
    (json) => parseGitHubBody(RunnerTokenSchema, `${options.kind}-token`, json),
  );
  return result.token;
}
