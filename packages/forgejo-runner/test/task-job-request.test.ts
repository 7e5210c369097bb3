import { create } from "@bufbuild/protobuf";
import { Result, TaskSchema } from "@solstice/forgejo-protocol";
import { describe, expect, it } from "vitest";
import { TaskTranslationError } from "../src/errors.ts";
import { taskToJobRequest } from "../src/task/task-job-request.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const owner = { kind: "forgejo" as const, instance: "http://forgejo.test#uuid-1", task_id: "7" };

function task(payload: string, extra: { secrets?: Record<string, string> } = {}) {
  return create(TaskSchema, {
    id: 7n,
    workflowPayload: new TextEncoder().encode(payload),
    context: {
      server_url: "http://forgejo.test",
      repository: "acme/widget",
      sha: SHA,
      ref: "refs/heads/main",
      token: "task-token-123",
      gitea_runtime_token: "runtime-token-456",
      event_name: "push",
    },
    secrets: { DEPLOY_KEY: "line-one\nline-two" },
    vars: { WHO: "world" },
    needs: { build: { result: Result.SUCCESS, outputs: { version: "1.2" } } },
    ...extra,
  });
}

const WORKFLOW = `
on: push
env:
  LEVEL: workflow
jobs:
  test:
    runs-on: ubuntu-24.04
    env:
      LEVEL: job
    steps:
      - uses: actions/checkout@v4
      - name: Greet
        run: echo "hello \${{ vars.WHO }} from \${{ needs.build.outputs.version }}"
      - uses: docker/login-action@v3
        continue-on-error: true
      - id: last
        if: always()
        run: echo done
`;

describe("taskToJobRequest", () => {
  it("translates a Forgejo task into a JobRequest owned by this runner", async () => {
    const { request, translated, mask } = await taskToJobRequest({
      task: task(WORKFLOW),
      owner,
      runner: { name: "r1" },
    });
    expect(request).toMatchObject({
      source: "forgejo",
      repo_url: "http://forgejo.test/acme/widget",
      commit_sha: SHA,
      runs_on: "ubuntu-24.04",
      owner,
    });
    expect(request.steps).toHaveLength(4);
    expect(request.steps?.[0]?.run).toContain("checkout");
    expect(request.steps?.[1]?.run).toBe('echo "hello world from 1.2"');
    expect(request.steps?.[2]?.run).toContain("docker/login-action@v3");
    expect(request.steps?.[2]?.continue_on_error).toBe(true);
    expect(request.steps?.[3]?.if).toContain("always()");
    expect(request.env).toMatchObject({ LEVEL: "job", FORGEJO_ACTIONS: "true", GITHUB_SHA: SHA });
    expect(mask).toEqual(
      expect.arrayContaining(["task-token-123", "runtime-token-456", "line-one", "line-two"]),
    );
    expect(request.mask).toEqual(mask);
    expect(translated.shouldRun).toBe(true);
    // The token never appears in the request's text but in the mask and the checkout's auth env.
    const text = JSON.stringify({ ...request, mask: [] });
    expect(text).not.toContain("runtime-token-456");
  });

  it("lets a FORGEJO_TOKEN secret override the task token", async () => {
    const { mask, request } = await taskToJobRequest({
      task: task(WORKFLOW, { secrets: { FORGEJO_TOKEN: "override-token-789" } }),
      owner,
      runner: { name: "r1" },
    });
    expect(mask).toContain("override-token-789");
    expect(JSON.stringify(request.steps?.[0]?.env)).not.toContain("task-token-123");
  });

  it("sends the task token (HTTP Basic) to the forge, never to a --checkout-url on another host", async () => {
    const basic = Buffer.from("x-access-token:task-token-123").toString("base64");
    const forge = await taskToJobRequest({ task: task(WORKFLOW), owner, runner: { name: "r1" } });
    expect(forge.request.steps?.[0]?.env).toEqual({
      SOLSTICE_CHECKOUT_AUTH: `AUTHORIZATION: Basic ${basic}`,
    });

    const sameHost = await taskToJobRequest({
      task: task(WORKFLOW),
      owner,
      runner: { name: "r1" },
      checkoutUrl: "http://forgejo.test/mirrors/widget.git",
    });
    expect(sameHost.request.repo_url).toBe("http://forgejo.test/mirrors/widget.git");
    expect(sameHost.request.steps?.[0]?.env).toEqual({
      SOLSTICE_CHECKOUT_AUTH: `AUTHORIZATION: Basic ${basic}`,
    });

    const mirror = await taskToJobRequest({
      task: task(WORKFLOW),
      owner,
      runner: { name: "r1" },
      checkoutUrl: "http://mirror.test/acme/widget.git",
    });
    const checkout = mirror.request.steps?.[0];
    expect(checkout?.env).toBeUndefined();
    expect(checkout?.run).toContain("remote add origin 'http://mirror.test/acme/widget.git'");
    expect(checkout?.run).toContain(
      "http://mirror.test is not http://forgejo.test: the job token is not sent to it",
    );
    expect(checkout?.run).not.toContain("extraheader");
    expect(mirror.mask).toContain("task-token-123");
  });

  it("fails clearly on a payload that is not a workflow, naming the task and the line", async () => {
    const bad = taskToJobRequest({ task: task("jobs:\n  x: [\n"), owner, runner: { name: "r1" } });
    await expect(bad).rejects.toBeInstanceOf(TaskTranslationError);
    await expect(bad).rejects.toThrow(/^task 7: .*task-7\.yml/);
    const empty = taskToJobRequest({
      task: create(TaskSchema, { id: 8n }),
      owner,
      runner: { name: "r1" },
    });
    await expect(empty).rejects.toThrow("task 8: the task has no workflow payload");
  });
});
