import { data } from "@actions/expressions";
import { ExpressionFailure, evaluateExpression } from "@solstice/common";
import { describe, expect, it } from "vitest";
import {
  base64Forms,
  contextDataToExpressionData,
  contextDataToJson,
  evaluateTemplateToken,
  feedStreamUrl,
  JobMessageError,
  jobConnection,
  jobMessageToJobRequest,
  jsonToContextData,
  parseJobMessage,
  resultsEndpoint,
  TemplateTokenSchema,
  toActionsValue,
} from "../src/index.ts";
import { JOB_TOKEN, jobMessage, SECRET } from "./job-message-fixture.ts";

const owner = {
  kind: "github" as const,
  instance: "https://github.com/acme/app#solstice-1",
  task_id: "j-2222",
};

function translate(message = jobMessage()) {
  return jobMessageToJobRequest({
    message: parseJobMessage(message),
    owner,
    runner: { name: "solstice-1", os: "Linux", arch: "X64" },
    runsOn: "omnios",
    labels: ["self-hosted", "Linux", "X64", "omnios"],
  });
}

describe("template tokens", () => {
  it("reads every serialized form", () => {
    const token = TemplateTokenSchema.parse({
      type: 2,
      map: [
        { Key: "plain", Value: "text" },
        { Key: "lit", Value: { type: 0, line: 3, col: 5, lit: "positioned" } },
        { Key: "bool", Value: { type: 5, bool: true } },
        { Key: "num", Value: { type: 6, num: 2.5 } },
        { Key: "nil", Value: { type: 7 } },
        { Key: "seq", Value: { type: 1, seq: ["a", true, 1] } },
        { Key: "expr", Value: { type: 3, expr: "format('{0}-{1}', matrix.os, 1)" } },
        { key: "lower", value: "case" },
      ],
    });
    expect(evaluateTemplateToken(token, { matrix: { os: "omnios" } })).toEqual({
      plain: "text",
      lit: "positioned",
      bool: true,
      num: 2.5,
      nil: null,
      seq: ["a", true, 1],
      expr: "omnios-1",
      lower: "case",
    });
    expect(toActionsValue({ type: 0, line: 3, col: 5, lit: "x" })).toEqual({
      kind: "literal",
      value: "x",
      at: { line: 3, column: 5 },
    });
  });

  it("refuses insert directives and reports failing expressions", () => {
    expect(() => toActionsValue({ type: 4, directive: "insert" })).toThrow(/insert/);
    expect(evaluateTemplateToken({ type: 3, expr: "fromJSON('{')" }, {})).toBeInstanceOf(ExpressionFailure);
  });
});

describe("context data", () => {
  const github = {
    t: 2,
    d: [
      { k: "Repository", v: "acme/app" },
      { k: "run_number", v: { t: 4, n: 7 } },
      { k: "flags", v: { t: 1, a: [true, { t: 3, b: false }, { s: "x" }] } },
      { k: "empty", v: { t: 1 } },
      { k: "event", v: { t: 5, d: [{ k: "Ref", v: "main" }] } },
    ],
  };

  it("becomes plain JSON", () => {
    expect(contextDataToJson(github)).toEqual({
      Repository: "acme/app",
      run_number: 7,
      flags: [true, false, "x"],
      empty: [],
      event: { Ref: "main" },
    });
    expect(contextDataToJson(jsonToContextData({ a: [1, { b: null }], c: {} }))).toEqual({
      a: [1, { b: null }],
      c: {},
    });
  });

  it("becomes expression data that @actions/expressions reads case-insensitively", () => {
    const contexts = new data.Dictionary({ key: "github", value: contextDataToExpressionData(github) });
    for (const name of [
      "env",
      "vars",
      "secrets",
      "matrix",
      "needs",
      "inputs",
      "runner",
      "job",
      "strategy",
      "steps",
    ]) {
      contexts.add(name, new data.Dictionary());
    }
    const value = evaluateExpression(
      "format('{0}#{1}{2}', github.repository, github.run_number, github.EVENT.ref)",
      contexts,
    );
    expect(value instanceof ExpressionFailure ? value.message : "").toBe("");
    expect((value as data.StringData).value).toBe("acme/app#7main");
  });
});

describe("job message → JobRequest", () => {
  it("reads the connection, the results endpoint and the feed", () => {
    const message = parseJobMessage(jobMessage());
    expect(jobConnection(message)).toEqual({
      url: "https://run-actions-1.actions.githubusercontent.com/42/",
      accessToken: "eyJ.job.access",
    });
    expect(resultsEndpoint(message)).toBe("https://results-receiver.actions.githubusercontent.com/");
    expect(feedStreamUrl(message)).toBe("https://pipelines.actions.githubusercontent.com/feed/j-2222");
  });

  it("fills the request from the github context", () => {
    const job = translate();
    expect(job.request).toMatchObject({
      source: "github",
      repo_url: "https://github.com/acme/app",
      commit_sha: "0123456789abcdef0123456789abcdef01234567",
      workflow_path: ".github/workflows/ci.yml",
      workflow_job_id: "build",
      runs_on: "omnios",
      labels: ["self-hosted", "Linux", "X64", "omnios"],
      owner,
      workspace_checkout: false,
    });
    expect(job.request.env).toMatchObject({
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_REPOSITORY: "acme/app",
      WORKFLOW_ENV: "w",
      JOB_ENV: "omnios-hello",
      RUNNER_ENVIRONMENT: "self-hosted",
    });
    expect(job.steps.map((s) => s.externalId)).toEqual(["s-1", "s-2", "s-3", "s-4"]);
    expect(job.planId).toBe("p-1111");
    expect(job.billingOwnerId).toBe("b-1");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression, not a JS template
    expect(job.translated.outputs).toEqual({ version: "${{ steps.build.outputs.version }}" });
  });

  it("turns actions/checkout into the built-in checkout with its inputs and the job token", () => {
    const checkout = translate().request.steps![0]!;
    expect(checkout.run).toContain("built-in actions/checkout");
    expect(checkout.run).toContain("'https://github.com/acme/app'");
    expect(checkout.run).toContain("mkdir -p 'src'");
    expect(checkout.run).toContain("refs/heads/dev");
    expect(checkout.run).not.toContain("--depth");
    expect(checkout.env?.["SOLSTICE_CHECKOUT_AUTH"]).toBe(
      `AUTHORIZATION: Basic ${Buffer.from(`x-access-token:${JOB_TOKEN}`).toString("base64")}`,
    );
    expect(checkout.run).not.toContain(JOB_TOKEN);
  });

  it("evaluates script steps: format() tokens, env, shell default, directory, timeout, continue-on-error", () => {
    const build = translate().request.steps![1]!;
    expect(build).toMatchObject({
      name: "Build",
      id: "build",
      run: "echo omnios on refs/heads/main\nmake",
      env: { KEY: SECRET, N: "3" },
      shell: "bash --noprofile --norc -eo pipefail {0}",
      working_directory: "src",
      timeout_seconds: 300,
      continue_on_error: true,
    });
    expect(build.if).toBeUndefined();
  });

  it("keeps what the run decides for the engine", () => {
    const last = translate().request.steps![2]!;
    expect(last.if).toBe("failure() || (steps.build.outcome == 'failure')");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression, not a JS template
    expect(last.run).toBe("${{ format('echo {0}', steps.build.outputs.version) }}");
    expect(last.runtime_expressions).toEqual(["run"]);
    expect(last.id).toBeUndefined();
  });

  it("refuses other actions with a step that fails and says why", () => {
    const job = translate();
    const docker = job.request.steps![3]!;
    expect(docker.run).toContain("docker/login-action@v3 is not supported");
    expect(docker.run).toContain("exit 1");
    expect(job.translated.warnings.some((w) => w.message.includes("docker/login-action"))).toBe(true);
  });

  it("masks secret variables, the job token, the access token and their base64 forms, and keeps hint patterns", () => {
    const job = translate();
    const mask = new Set(job.request.mask);
    for (const value of [
      SECRET,
      JOB_TOKEN,
      "eyJ.job.access",
      "tok-[0-9]+",
      ...base64Forms(SECRET),
      ...base64Forms(JOB_TOKEN),
    ]) {
      expect(mask.has(value), value).toBe(true);
    }
    expect(mask.has(Buffer.from(`x-access-token:${JOB_TOKEN}`).toString("base64"))).toBe(true);
    expect(mask.has("true")).toBe(false);
    expect(job.maskPatterns).toEqual(["tok-[0-9]+"]);
  });

  it("gives a secrets context from secret variables only", () => {
    const message = jobMessage();
    const steps = message["steps"] as Record<string, unknown>[];
    steps[1]!["environment"] = {
      type: 2,
      map: [
        { Key: "A", Value: { type: 3, expr: "secrets.GITHUB_TOKEN" } },
        { Key: "B", Value: { type: 3, expr: "secrets['system.github.token']" } },
      ],
    };
    const env = translate(message).request.steps![1]!.env;
    expect(env).toEqual({ A: JOB_TOKEN, B: "" });
  });

  it("accepts the reference type as a number and names in PascalCase", () => {
    const message = jobMessage();
    const steps = message["steps"] as Record<string, unknown>[];
    steps[1] = { ...steps[1], reference: { Type: 3 } };
    expect(translate(message).request.steps![1]!.run).toContain("echo omnios");
  });

  it("fails with JobMessageError when the message lacks what a job needs", () => {
    expect(() => parseJobMessage({ jobId: "j" })).toThrow(JobMessageError);
    const message = jobMessage();
    message["resources"] = { endpoints: [] };
    expect(() => translate(message)).toThrow(/SystemVssConnection/);
  });
});
