// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Actions expressions are written `${{ … }}` in plain strings.
import { describe, expect, it } from "vitest";
import { TestJobNotFoundError, TestWorkflowError } from "../src/index.ts";
import type { ServerUrls } from "../src/server-context.ts";
import { fromContextData } from "../src/workflow/context-data-json.ts";
import { prepareJob, renderJobMessage } from "../src/workflow/job-message-builder.ts";
import { stepJson } from "../src/workflow/step-json.ts";
import { selectWorkflowJob } from "../src/workflow/workflow-job.ts";

// The job message built from a real workflow, checked against the shapes of the runner's C#
// contracts (TemplateToken and PipelineContextData JSON, ActionStep, VariableValue).

const WORKFLOW = `name: CI
on: push
env:
  TOP: top
jobs:
  build:
    runs-on: [self-hosted, "\${{ matrix.os }}"]
    strategy:
      matrix:
        os: [linux, illumos]
        n: [1, 2]
    env:
      JOB_ENV: job-\${{ matrix.n }}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          lfs: true
      - name: Say \${{ matrix.os }}
        id: say
        run: echo "hi \${{ matrix.os }} \${{ secrets.API_KEY }}"
        shell: bash
        working-directory: sub
        env:
          FOO: bar
        if: github.event_name == 'push'
        timeout-minutes: 5
        continue-on-error: true
      - run: echo two
  other:
    runs-on: linux
    steps:
      - run: echo other
`;

const URLS: ServerUrls = {
  base: "http://gh.test",
  api: "http://gh.test",
  tenant: "http://gh.test/pipelines/",
  oauth: "http://gh.test/oauth2/token",
  broker: "http://gh.test/broker/",
  runService: "http://gh.test/run/",
  results: "http://gh.test/results/",
  blobs: "http://gh.test/blobs",
  feed: "ws://gh.test/feed",
};

async function build(matrix?: Record<string, unknown>) {
  const selection = await selectWorkflowJob({
    yaml: WORKFLOW,
    file: ".github/workflows/ci.yml",
    jobId: "build",
    matrix,
    contexts: { github: { event_name: "push" }, vars: {}, inputs: {}, needs: {} },
  });
  const prepared = prepareJob({
    selection,
    workflowFile: ".github/workflows/ci.yml",
    github: { repository: "acme/widget", event_name: "push" },
    vars: { REGION: "eu" },
    secrets: { API_KEY: "s3cr3t.value" },
    needs: {},
    inputs: {},
    billingOwnerId: "1000",
  });
  return { selection, message: renderJobMessage(prepared, { jobToken: "job-token", urls: URLS }) };
}

type Json = Record<string, unknown>;

describe("job message from a workflow", () => {
  it("picks the matrix row, evaluates runs-on and names the job as GitHub does", async () => {
    const { selection, message } = await build({ os: "illumos", n: 2 });
    expect(selection.runsOn).toEqual(["self-hosted", "illumos"]);
    expect(message.jobDisplayName).toBe("build (illumos, 2)");
    expect(message.jobName).toBe("__default");
    expect(message.requestId).toBe(0);
    expect(message.lockedUntil).toBe("0001-01-01T00:00:00");
    expect(message.messageType).toBe("RunnerJobRequest");
    const contextData = message.contextData as Json;
    expect(contextData.matrix).toEqual({
      t: 2,
      d: [
        { k: "os", v: "illumos" },
        { k: "n", v: 2 },
      ],
    });
    expect(fromContextData(contextData.strategy)).toEqual({
      "fail-fast": true,
      "job-index": 3,
      "job-total": 4,
      "max-parallel": 4,
    });
    expect(fromContextData(contextData.vars)).toEqual({ REGION: "eu" });
    expect(contextData).not.toHaveProperty("secrets");
    expect(Object.keys(contextData).sort()).toEqual([
      "github",
      "inputs",
      "matrix",
      "needs",
      "strategy",
      "vars",
    ]);
  });

  it("refuses an unknown matrix row or job, and an invalid workflow", async () => {
    await expect(build({ os: "windows" })).rejects.toBeInstanceOf(TestJobNotFoundError);
    await expect(
      selectWorkflowJob({ yaml: WORKFLOW, file: "ci.yml", jobId: "nope", contexts: {} }),
    ).rejects.toBeInstanceOf(TestJobNotFoundError);
    await expect(
      selectWorkflowJob({ yaml: "on: push\njobs:\n  a:\n    stepz: []\n", file: "bad.yml", contexts: {} }),
    ).rejects.toBeInstanceOf(TestWorkflowError);
  });

  it("writes a script step's inputs as a template-token mapping with a format() expression", async () => {
    const { message } = await build();
    const steps = message.steps as Json[];
    const say = steps[1] as Json;
    expect(say.type).toBe("action");
    expect(say.reference).toEqual({ type: "script" });
    expect(say.name).toBe("say");
    expect(say.contextName).toBe("say");
    expect(say.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(say.condition).toBe("success() && (github.event_name == 'push')");
    expect(say.inputs).toEqual({
      type: 2,
      map: [
        {
          Key: "script",
          Value: {
            type: 3,
            file: 1,
            line: 21,
            col: 14,
            expr: "format('echo \"hi {0} {1}\"', matrix.os, secrets.API_KEY)",
          },
        },
        { Key: "shell", Value: { type: 0, file: 1, line: 22, col: 16, lit: "bash" } },
        { Key: "workingDirectory", Value: { type: 0, file: 1, line: 23, col: 28, lit: "sub" } },
      ],
    });
    expect(say.displayNameToken).toEqual({
      type: 3,
      file: 1,
      line: 19,
      col: 15,
      expr: "format('Say {0}', matrix.os)",
    });
    expect(say.timeoutInMinutes).toEqual({ type: 6, file: 1, line: 27, col: 26, num: 5 });
    expect(say.continueOnError).toEqual({ type: 5, file: 1, line: 28, col: 28, bool: true });
    expect(say.environment).toMatchObject({
      type: 2,
      map: [{ Key: { type: 0, lit: "FOO" }, Value: { type: 0, lit: "bar" } }],
    });
    expect((steps[2] as Json).name).toBe("__run");
    expect((steps[2] as Json).condition).toBe("success()");
    expect(message.fileTable).toEqual([".github/workflows/ci.yml"]);
  });

  it("builds a multi-line script's format() from its value, as GitHub: no indentation, quotes and braces escaped", async () => {
    const selection = await selectWorkflowJob({
      yaml: [
        "on: push",
        "jobs:",
        "  m:",
        "    runs-on: linux",
        "    steps:",
        "      - run: |",
        '          echo "it\'s ${{ matrix.os }}"',
        "          printf '%s {x}' ${{ secrets.K }}",
        "",
      ].join("\n"),
      file: "ci.yml",
      contexts: { github: {}, vars: {}, inputs: {}, needs: {} },
    });
    const step = stepJson(selection.steps[0]!, "ci.yml", selection.decoded);
    const script = (step.inputs as { map: { Value: { expr: string } }[] }).map[0]!.Value.expr;
    expect(script).toBe("format('echo \"it''s {0}\"\nprintf ''%s {{x}}'' {1}\n', matrix.os, secrets.K)");
  });

  it("writes a checkout step as a repository reference with with: values as strings", async () => {
    const { message } = await build();
    const checkout = (message.steps as Json[])[0] as Json;
    expect(checkout.reference).toEqual({
      type: "repository",
      name: "actions/checkout",
      ref: "v4",
      repositoryType: "GitHub",
    });
    expect(checkout.contextName).toBe("__actions_checkout");
    const inputs = checkout.inputs as { map: { Key: Json; Value: Json }[] };
    expect(inputs.map.map((p) => [p.Key.lit, p.Value.type, p.Value.lit])).toEqual([
      ["fetch-depth", 0, "0"],
      ["lfs", 0, "true"],
    ]);
  });

  it("sends secrets and the job token as secret variables, with mask hints, and the SystemVssConnection", async () => {
    const { message } = await build();
    const variables = message.variables as Record<string, { value: string; isSecret?: boolean }>;
    expect(variables.API_KEY).toEqual({ value: "s3cr3t.value", isSecret: true });
    expect(variables["system.github.token"]).toEqual({ value: "job-token", isSecret: true });
    expect(variables.github_token).toEqual({ value: "job-token", isSecret: true });
    expect(variables["system.github.results_endpoint"]).toEqual({ value: "http://gh.test/results/" });
    expect(variables["system.github.job"]).toEqual({ value: "build" });
    expect(message.mask).toEqual([
      { type: "regex", value: "job-token" },
      { type: "regex", value: "s3cr3t\\.value" },
    ]);
    const endpoint = (message.resources as { endpoints: Json[] }).endpoints[0] as Json;
    expect(endpoint).toMatchObject({
      name: "SystemVssConnection",
      url: "http://gh.test/run/",
      authorization: { scheme: "OAuth", parameters: { AccessToken: "job-token" } },
    });
    expect((endpoint.data as Json).FeedStreamUrl).toBe(`ws://gh.test/feed/${message.jobId as string}`);
    expect((endpoint.data as Json).ResultsServiceUrl).toBe("http://gh.test/results/");
    expect(message.plan).toMatchObject({
      planId: (message.timeline as Json).id,
      version: 0,
      planType: "actions",
    });
    expect(message.environmentVariables).toEqual([
      {
        type: 2,
        file: 1,
        line: 4,
        col: 3,
        map: [
          {
            Key: { type: 0, file: 1, line: 4, col: 3, lit: "TOP" },
            Value: { type: 0, file: 1, line: 4, col: 8, lit: "top" },
          },
        ],
      },
      {
        type: 2,
        file: 1,
        line: 13,
        col: 7,
        map: [
          {
            Key: { type: 0, file: 1, line: 13, col: 7, lit: "JOB_ENV" },
            Value: { type: 3, file: 1, line: 13, col: 16, expr: "format('job-{0}', matrix.n)" },
          },
        ],
      },
    ]);
  });
});
