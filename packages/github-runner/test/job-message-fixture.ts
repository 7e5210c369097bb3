// A job message as acquirejob answers it, written by hand from the C# shapes
// (AgentJobRequestMessage, ActionStep, TemplateTokenJsonConverter, PipelineContextDataJsonConverter).

export const JOB_TOKEN = "ghs_jobtoken1234567890";
export const SECRET = "hunter2-secret";

const str = (lit: string, line?: number) =>
  line === undefined ? lit : { type: 0, file: 1, line, col: 9, lit };
const expr = (e: string) => ({ type: 3, file: 1, line: 10, col: 9, expr: e });
const map = (entries: [string, unknown][]) => ({
  type: 2,
  map: entries.map(([k, v]) => ({ Key: k, Value: v })),
});
const dict = (entries: [string, unknown][]) => ({ t: 2, d: entries.map(([k, v]) => ({ k, v })) });

export function jobMessage(): Record<string, unknown> {
  return {
    messageType: "RunnerJobRequest",
    plan: {
      scopeIdentifier: "00000000-0000-0000-0000-000000000000",
      planType: "actions",
      version: 0,
      planId: "p-1111",
    },
    timeline: { id: "p-1111", changeId: 1, location: null },
    jobId: "j-2222",
    jobDisplayName: "build (omnios)",
    jobName: "__default",
    requestId: 0,
    lockedUntil: "0001-01-01T00:00:00",
    resources: {
      endpoints: [
        {
          data: {
            FeedStreamUrl: "https://pipelines.actions.githubusercontent.com/feed/j-2222",
            ResultsServiceUrl: "https://results-receiver.actions.githubusercontent.com/",
          },
          name: "SystemVssConnection",
          url: "https://run-actions-1.actions.githubusercontent.com/42/",
          authorization: { parameters: { AccessToken: "eyJ.job.access" }, scheme: "OAuth" },
          isShared: false,
          isReady: true,
        },
      ],
    },
    contextData: {
      github: dict([
        ["repository", "acme/app"],
        ["sha", "0123456789abcdef0123456789abcdef01234567"],
        ["ref", "refs/heads/main"],
        ["server_url", "https://github.com"],
        ["api_url", "https://api.github.com"],
        ["job", "build"],
        ["run_id", "99"],
        ["event_name", "push"],
        [
          "event",
          dict([
            ["forced", false],
            ["size", { t: 4, n: 2 }],
          ]),
        ],
      ]),
      matrix: dict([
        ["os", "omnios"],
        ["n", 3],
      ]),
      strategy: dict([
        ["fail-fast", true],
        ["job-index", { t: 4, n: 0 }],
        ["job-total", { t: 4, n: 1 }],
        ["max-parallel", 1],
      ]),
      vars: dict([["GREETING", "hello"]]),
      needs: { t: 2 },
      inputs: null,
    },
    variables: {
      "system.github.token": { value: JOB_TOKEN, isSecret: true },
      github_token: { value: JOB_TOKEN, isSecret: true },
      DEPLOY_KEY: { value: SECRET, isSecret: true },
      "system.github.job": { value: "build" },
      "system.github.results_endpoint": { value: "https://results-receiver.actions.githubusercontent.com/" },
      ACTIONS_STEP_DEBUG: { value: "true", isSecret: true },
    },
    mask: [{ type: "regex", value: "tok-[0-9]+" }],
    environmentVariables: [
      map([["WORKFLOW_ENV", "w"]]),
      map([["JOB_ENV", expr("format('{0}-{1}', matrix.os, vars.GREETING)")]]),
    ],
    defaults: [map([["run", map([["shell", "bash"]])]])],
    fileTable: [".github/workflows/ci.yml"],
    steps: [
      {
        type: "action",
        reference: { type: "repository", name: "actions/checkout", ref: "v4", repositoryType: "GitHub" },
        id: "s-1",
        name: "__actions_checkout",
        displayName: "Run actions/checkout@v4",
        contextName: "__actions_checkout",
        condition: "success()",
        inputs: map([
          ["fetch-depth", "0"],
          ["path", "src"],
          ["ref", expr("format('refs/heads/{0}', 'dev')")],
        ]),
      },
      {
        type: "action",
        reference: { type: "script" },
        id: "s-2",
        name: "build",
        displayName: "Build",
        contextName: "build",
        condition: "success()",
        inputs: map([
          ["script", expr("format('echo {0} on {1}\nmake', matrix.os, github.ref)")],
          ["workingDirectory", "src"],
        ]),
        environment: map([
          ["KEY", expr("secrets.DEPLOY_KEY")],
          ["N", expr("matrix.n")],
        ]),
        timeoutInMinutes: { type: 6, num: 5 },
        continueOnError: { type: 5, bool: true },
      },
      {
        type: "action",
        reference: { type: 3 },
        id: "s-3",
        name: "__run",
        displayName: "Run echo done",
        contextName: "__run",
        condition: "failure() || steps.build.outcome == 'failure'",
        inputs: map([["script", expr("format('echo {0}', steps.build.outputs.version)")]]),
      },
      {
        type: "action",
        reference: { type: "repository", name: "docker/login-action", ref: "v3", repositoryType: "GitHub" },
        id: "s-4",
        name: "__docker_login-action",
        displayName: "Run docker/login-action@v3",
        contextName: "__docker_login-action",
        condition: "success()",
        inputs: map([["username", str("me", 30)]]),
      },
    ],
    jobOutputs: map([["version", expr("steps.build.outputs.version")]]),
    billingOwnerId: "b-1",
  };
}
