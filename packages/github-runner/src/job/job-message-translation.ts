import {
  type ActionsContexts,
  ActionsContextsSchema,
  type ActionsJob,
  type ActionsStep,
  type ActionsValue,
  type ActionsWorkflow,
  type JobOwner,
  type JobRequest,
  newJobRequest,
  type TranslatedJob,
  translateJob,
} from "@solstice/common";
import { JobMessageError } from "../errors.ts";
import { archLabel, osLabel } from "../registration/runner-labels.ts";
import { contextDataToJson } from "./context-data.ts";
import { jobMasks } from "./job-masks.ts";
import {
  type AgentJobRequestMessage,
  feedStreamUrl,
  type JobMessageStep,
  jobConnection,
  referenceKind,
  resultsEndpoint,
  variable,
} from "./job-message.ts";
import {
  mappingValue,
  TemplateTokenError,
  type TemplateTokenJson,
  toActionsValue,
} from "./template-token.ts";

// A GitHub job message → the JobRequest the orchestrator runs. The message is rebuilt as the
// one-job workflow common's translateJob understands (its steps' template tokens become
// ActionsValues), so a GitHub job gets exactly the Actions semantics a Forgejo task gets: what
// the contexts decide is evaluated now with @actions/expressions; what the run decides
// (status functions, steps.*, GITHUB_ENV) stays in the step for the engine; `actions/checkout`
// becomes the built-in checkout with the job token; any other action becomes a step that fails
// with a clear message. The contexts are the message's contextData; `secrets` is made from the
// secret variables (the message has no secrets context), as the reference runner does.

/** What the runner knows about itself (the `runner` context). */
export interface GitHubRunnerIdentity {
  readonly name: string;
  /** `Linux`… (the OS of the VMs it runs jobs in). Default: the host's. */
  readonly os?: string;
  /** `X64`… Default: the host's. */
  readonly arch?: string;
}

/** What {@link jobMessageToJobRequest} needs beside the message. */
export interface JobMessageTranslationInput {
  readonly message: AgentJobRequestMessage;
  readonly owner: JobOwner;
  readonly runner: GitHubRunnerIdentity;
  /** The label (image) to run on, chosen by the runner (the message has no `runs-on`). */
  readonly runsOn?: string;
  /** The runner's labels (informational). */
  readonly labels?: readonly string[];
  /** Where checkouts fetch from instead of `<server_url>/<repository>`. */
  readonly checkoutUrl?: string;
}

/** A step as GitHub knows it, beside the JobRequest step of the same index. */
export interface GitHubJobStep {
  /** The step's id in the message: `external_id` of step results and logs. */
  readonly externalId: string;
  /** 1-based. */
  readonly number: number;
  readonly displayName: string;
  /** `steps.<id>` name (`__run` for unnamed steps). */
  readonly contextName: string | undefined;
}

/** The translated job and what reporting it needs. */
export interface GitHubJob {
  readonly request: JobRequest;
  readonly translated: TranslatedJob;
  /** Values to mask (also in `request.mask`). */
  readonly mask: readonly string[];
  /** Regular-expression mask hints (for the report's masker; the engine masks only values). */
  readonly maskPatterns: readonly string[];
  readonly steps: readonly GitHubJobStep[];
  readonly planId: string;
  readonly jobId: string;
  readonly displayName: string;
  /** SystemVssConnection: where renewjob and completejob go, with the job's token. */
  readonly connection: { readonly url: string; readonly accessToken: string };
  readonly resultsEndpoint: string | undefined;
  readonly feedStreamUrl: string | undefined;
  readonly billingOwnerId: string | undefined;
}

const AT = { line: 0, column: 0 };

function token(value: TemplateTokenJson | undefined, jobId: string, what: string): ActionsValue | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    return toActionsValue(value);
  } catch (error) {
    if (error instanceof TemplateTokenError)
      throw new JobMessageError(jobId, `${what}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** A mapping made of the entries of several (later ones win, as the runner applies them in order). */
function mergeMappings(values: readonly ActionsValue[]): ActionsValue | undefined {
  if (values.length === 0) return undefined;
  if (values.length === 1) return values[0];
  const entries: (readonly [string, ActionsValue])[] = [];
  for (const value of values) {
    if (value.kind === "mapping") entries.push(...value.entries);
  }
  return { kind: "mapping", entries, at: AT };
}

function stepUses(step: JobMessageStep): string {
  const ref = step.reference;
  switch (referenceKind(ref)) {
    case "repository": {
      if ((ref.repositoryType ?? "").toLowerCase() === "self")
        return `./${(ref.path ?? "").replace(/^\.\//, "")}`;
      const path = ref.path === undefined || ref.path === null || ref.path === "" ? "" : `/${ref.path}`;
      return `${ref.name ?? ""}${path}@${ref.ref ?? ""}`;
    }
    case "containerRegistry":
      return `docker://${ref.image ?? ""}`;
    default:
      return `(step type ${String(ref.type)})`;
  }
}

function actionsStep(step: JobMessageStep, index: number, jobId: string): ActionsStep {
  const what = `steps[${index}]`;
  const inputs = token(step.inputs, jobId, `${what}.inputs`);
  const kind = referenceKind(step.reference);
  const displayName =
    token(step.displayNameToken, jobId, `${what}.displayNameToken`) ??
    (step.displayName === undefined || step.displayName === null || step.displayName === ""
      ? undefined
      : { kind: "literal" as const, value: step.displayName, at: AT });
  const contextName = step.contextName ?? step.name ?? undefined;
  const base = {
    index,
    id: contextName === undefined || contextName.startsWith("__") ? undefined : contextName,
    name: displayName,
    if:
      step.condition === undefined || step.condition === null || step.condition.trim() === ""
        ? "success()"
        : step.condition,
    env: token(step.environment, jobId, `${what}.environment`),
    timeoutMinutes: token(step.timeoutInMinutes, jobId, `${what}.timeoutInMinutes`),
    continueOnError: token(step.continueOnError, jobId, `${what}.continueOnError`),
    at: AT,
  };
  if (kind === "script") {
    return {
      ...base,
      run: mappingValue(inputs, "script") ?? { kind: "literal", value: "", at: AT },
      uses: undefined,
      with: undefined,
      shell: mappingValue(inputs, "shell"),
      workingDirectory: mappingValue(inputs, "workingDirectory"),
    };
  }
  return {
    ...base,
    run: undefined,
    uses: stepUses(step),
    with: inputs,
    shell: undefined,
    workingDirectory: undefined,
  };
}

function runDefaults(message: AgentJobRequestMessage, jobId: string): ActionsJob["defaults"] {
  let shell: ActionsValue | undefined;
  let workingDirectory: ActionsValue | undefined;
  for (const [i, value] of (message.defaults ?? []).entries()) {
    const run = mappingValue(token(value, jobId, `defaults[${i}]`), "run");
    shell = mappingValue(run, "shell") ?? shell;
    workingDirectory = mappingValue(run, "working-directory") ?? workingDirectory;
  }
  return { shell, workingDirectory };
}

/** The message as a one-job workflow (exported for tests). */
export function jobMessageWorkflow(message: AgentJobRequestMessage, jobKey: string): ActionsWorkflow {
  const jobId = message.jobId;
  const envs = (message.environmentVariables ?? [])
    .map((value, i) => token(value, jobId, `environmentVariables[${i}]`))
    .filter((v): v is ActionsValue => v !== undefined);
  const container = token(message.jobContainer, jobId, "jobContainer");
  const services = token(message.jobServiceContainers, jobId, "jobServiceContainers");
  const outputs = token(message.jobOutputs, jobId, "jobOutputs");
  const displayName = message.jobDisplayName ?? jobKey;
  const job: ActionsJob = {
    id: jobKey,
    name: { kind: "literal", value: displayName, at: AT },
    needs: [],
    // GitHub evaluated the job's `if` before sending it.
    if: "true",
    runsOn: undefined,
    env: envs.length === 0 ? undefined : envs[envs.length - 1],
    defaults: runDefaults(message, jobId),
    timeoutMinutes: undefined,
    continueOnError: undefined,
    strategy: undefined,
    outputs,
    container: container?.kind === "literal" && container.value === null ? undefined : container,
    services: services?.kind === "literal" && services.value === null ? undefined : services,
    uses: undefined,
    steps: message.steps.map((step, index) => actionsStep(step, index, jobId)),
    at: AT,
  };
  return {
    file: message.fileTable?.[0] ?? `job-${jobId}`,
    name: undefined,
    events: [],
    env: mergeMappings(envs.slice(0, -1)),
    defaults: { shell: undefined, workingDirectory: undefined },
    jobs: [job],
  };
}

const INTERNAL_SECRETS = new Set(["system.accesstoken", "system.github.token"]);
const DEBUG_SWITCHES = new Set(["actions_step_debug", "actions_runner_debug"]);

/** The job's contexts: contextData, `secrets` from the secret variables, the `runner` context. */
export function jobMessageContexts(
  message: AgentJobRequestMessage,
  runner: GitHubRunnerIdentity,
): ActionsContexts {
  const json: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(message.contextData))
    json[name.toLowerCase()] = contextDataToJson(value);
  const github: Record<string, unknown> = {
    ...((json["github"] as Record<string, unknown> | undefined) ?? {}),
  };
  const token = variable(message, "system.github.token");
  if (token !== undefined && token !== "") github["token"] = token;
  const secrets: Record<string, string> = {};
  for (const [name, v] of Object.entries(message.variables)) {
    if (!v.isSecret || INTERNAL_SECRETS.has(name.toLowerCase())) continue;
    secrets[name.toLowerCase() === "github_token" ? "GITHUB_TOKEN" : name] = v.value ?? "";
  }
  const candidate = {
    github,
    secrets,
    vars: json["vars"],
    matrix: json["matrix"],
    needs: json["needs"],
    inputs: json["inputs"],
    strategy: json["strategy"],
    job: json["job"],
    runner: {
      name: runner.name,
      os: runner.os ?? osLabel(),
      arch: runner.arch ?? archLabel(),
      environment: "self-hosted",
    },
  };
  const parsed = ActionsContextsSchema.safeParse(
    Object.fromEntries(Object.entries(candidate).filter(([, v]) => v !== undefined && v !== null)),
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JobMessageError(
      message.jobId,
      `contextData.${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Translates a job message. Throws `JobMessageError` (the caller completes the job as failed
 * with its message).
 *
 * @example
 *   const job = jobMessageToJobRequest({ message, owner, runner: { name: "solstice-1" }, runsOn: "ubuntu" });
 *   await queue.publish(job.request);
 */
export function jobMessageToJobRequest(input: JobMessageTranslationInput): GitHubJob {
  const { message } = input;
  const contexts = jobMessageContexts(message, input.runner);
  const github = contexts.github ?? {};
  const jobKey =
    text(github["job"]) ?? text(variable(message, "system.github.job")) ?? message.jobName ?? "job";
  const workflow = jobMessageWorkflow(message, jobKey);
  let translated: TranslatedJob;
  try {
    translated = translateJob({
      workflow,
      jobId: jobKey,
      contexts,
      owner: input.owner,
      runnerEnv: { RUNNER_ENVIRONMENT: "self-hosted" },
      ...(message.fileTable?.[0] === undefined ? {} : { workflowPath: message.fileTable[0] }),
      ...(input.runsOn === undefined ? {} : { runsOn: input.runsOn }),
      ...(input.checkoutUrl === undefined ? {} : { checkoutUrl: input.checkoutUrl }),
    });
  } catch (error) {
    if (error instanceof JobMessageError) throw error;
    throw new JobMessageError(message.jobId, error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
  const sha = text(github["sha"]);
  if (sha === undefined) throw new JobMessageError(message.jobId, "the github context has no sha");
  const serverUrl = (text(github["server_url"]) ?? "https://github.com").replace(/\/+$/, "");
  const repository = text(github["repository"]) ?? "";
  const masks = jobMasks(message);
  // translateJob masks every secret; the debug switches are secrets that are not masked.
  const unmasked = new Set(
    Object.entries(message.variables)
      .filter(([name]) => DEBUG_SWITCHES.has(name.toLowerCase()))
      .map(([, v]) => (v.value ?? "").trim())
      .filter((v) => !masks.values.includes(v)),
  );
  const mask = [...new Set([...translated.request.mask, ...masks.values])].filter(
    (m) => m !== "" && !unmasked.has(m),
  );
  const request = newJobRequest({
    source: "github",
    repo_url: input.checkoutUrl ?? `${serverUrl}/${repository}`,
    commit_sha: sha,
    ...translated.request,
    ...(input.labels === undefined ? {} : { labels: [...input.labels] }),
    mask,
  });
  const steps = message.steps.map((step, index) => ({
    externalId: step.id,
    number: index + 1,
    displayName: step.displayName ?? request.steps?.[index]?.name ?? `Step ${index + 1}`,
    contextName: step.contextName ?? step.name ?? undefined,
  }));
  return {
    request,
    translated,
    mask,
    maskPatterns: masks.patterns,
    steps,
    planId: message.plan.planId,
    jobId: message.jobId,
    displayName: message.jobDisplayName ?? translated.name,
    connection: jobConnection(message),
    resultsEndpoint: resultsEndpoint(message),
    feedStreamUrl: feedStreamUrl(message),
    billingOwnerId: message.billingOwnerId ?? undefined,
  };
}
