import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JobStep, LogMasker, parseActionsWorkflow, translateJob } from "../src/index.ts";

// The built-in checkout is a shell script: run it for real, with /bin/sh and git, against
// repositories served as file:// URLs (the "server" is a directory: <server>/<owner>/<name>).

const FIXTURES = fileURLToPath(new URL("./fixtures/actions/", import.meta.url));
const TOKEN = "tok-secret-123";

let root: string;
let server: string;
const commits: Record<string, string> = {};

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: gitEnv(), encoding: "utf8" }).trim();
}

function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env["PATH"],
    HOME: root,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.org",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.org",
  };
}

function makeRepository(path: string, files: readonly string[]): string[] {
  mkdirSync(path, { recursive: true });
  git(path, "init", "-q", "-b", "main");
  return files.map((file) => {
    writeFileSync(join(path, file), `${file}\n`);
    git(path, "add", file);
    git(path, "commit", "-q", "-m", file);
    return git(path, "rev-parse", "HEAD");
  });
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "solstice-checkout-"));
  server = join(root, "server");
  const app = join(server, "me", "app");
  const [c1, c2, c3] = makeRepository(app, ["one", "two", "three"]);
  git(app, "tag", "v1.0", c2!);
  git(app, "checkout", "-q", "-b", "dev", c1!);
  writeFileSync(join(app, "dev"), "dev\n");
  git(app, "add", "dev");
  git(app, "commit", "-q", "-m", "dev");
  commits["dev"] = git(app, "rev-parse", "HEAD");
  git(app, "checkout", "-q", "main");
  Object.assign(commits, { c1, c2, c3 });
  const [other] = makeRepository(join(server, "someone", "else"), ["elsewhere"]);
  git(join(server, "someone", "else"), "checkout", "-q", "-b", "dev");
  commits["other"] = other!;
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function checkoutSteps(): Promise<JobStep[]> {
  const workflow = await parseActionsWorkflow(
    readFileSync(`${FIXTURES}checkout.yml`, "utf8"),
    "checkout.yml",
  );
  const { request } = translateJob({
    workflow,
    contexts: {
      github: {
        server_url: `file://${server}`,
        repository: "me/app",
        sha: commits["c3"],
        ref: "refs/heads/main",
        token: TOKEN,
      },
    },
  });
  return request.steps;
}

/** Runs a step's script as the executor would: `sh -e <file>` in the workspace, with its env. */
function runStep(step: JobStep, workspace: string): { status: number | null; output: string } {
  const script = join(root, `step-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(script, step.run);
  const result = spawnSync("sh", ["-e", script], {
    cwd: workspace,
    env: { ...gitEnv(), ...step.env },
    encoding: "utf8",
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("built-in actions/checkout, run with git", () => {
  it("checks out the task's commit on its branch, one commit deep, with the token kept out of the script", async () => {
    const [step] = await checkoutSteps();
    const workspace = mkdtempSync(join(root, "ws-"));
    expect(step!.run).not.toContain(TOKEN);
    expect(step!.run).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString("base64"));
    const { status, output } = runStep(step!, workspace);
    expect(output).toContain(`checkout: HEAD is now at ${commits["c3"]}`);
    expect(status).toBe(0);
    expect(git(workspace, "rev-parse", "HEAD")).toBe(commits["c3"]);
    expect(git(workspace, "rev-parse", "--abbrev-ref", "HEAD")).toBe("main");
    expect(git(workspace, "rev-list", "--count", "HEAD")).toBe("1");
    // persist-credentials (the default): the header is in the repository's config for later steps.
    const config = readFileSync(join(workspace, ".git", "config"), "utf8");
    expect(config).toContain(`[http "file://${server}/"]`);
    expect(config).toContain(`extraheader = ${step!.env!["SOLSTICE_CHECKOUT_AUTH"]}`);
    // Whatever the script printed, the masker hides the token's forms.
    const masker = new LogMasker([TOKEN, step!.env!["SOLSTICE_CHECKOUT_AUTH"]!]);
    expect(masker.mask(config)).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString("base64"));
  });

  it("honours ref (a tag), path and fetch-depth 0, without persisting the token", async () => {
    const steps = await checkoutSteps();
    const workspace = mkdtempSync(join(root, "ws-"));
    const { status, output } = runStep(steps[1]!, workspace);
    expect(output).toContain("checkout: me/app at branch or tag v1.0 into sub/dir (all history)");
    expect(status).toBe(0);
    const dir = join(workspace, "sub", "dir");
    expect(git(dir, "rev-parse", "HEAD")).toBe(commits["c2"]);
    expect(git(dir, "rev-list", "--count", "HEAD")).toBe("2");
    expect(
      git(dir, "branch", "-r")
        .split("\n")
        .map((b) => b.trim()),
    ).toEqual(["origin/dev", "origin/main"]);
    expect(readFileSync(join(dir, ".git", "config"), "utf8")).not.toContain("extraheader");
  });

  it("checks out another repository's branch, warning about inputs it ignores", async () => {
    const steps = await checkoutSteps();
    const workspace = mkdtempSync(join(root, "ws-"));
    const { status } = runStep(steps[2]!, workspace);
    expect(status).toBe(0);
    expect(git(workspace, "rev-parse", "HEAD")).toBe(commits["other"]);
    expect(git(workspace, "rev-parse", "--abbrev-ref", "HEAD")).toBe("dev");
    expect(git(workspace, "remote", "get-url", "origin")).toBe(`file://${server}/someone/else`);

    const workflow = await parseActionsWorkflow(
      readFileSync(`${FIXTURES}checkout.yml`, "utf8"),
      "checkout.yml",
    );
    const { warnings } = translateJob({
      workflow,
      contexts: { github: { server_url: `file://${server}`, repository: "me/app", sha: commits["c3"] } },
    });
    expect(warnings.map((w) => `${w.line}: ${w.message}`)).toEqual([
      "13: actions/checkout: with.submodules is not supported; ignored",
      '19: step 4 (Run actions/checkout@v4): actions/checkout: path "../outside" is not under the workspace',
      '22: step 5 (Run actions/checkout@v4): actions/checkout: fetch-depth must be a whole number >= 0, got "lots"',
    ]);
  });

  it("fails the step for a path outside the workspace or a bad fetch-depth", async () => {
    const steps = await checkoutSteps();
    const workspace = mkdtempSync(join(root, "ws-"));
    for (const [index, message] of [
      [3, 'path "../outside" is not under the workspace'],
      [4, 'fetch-depth must be a whole number >= 0, got "lots"'],
    ] as const) {
      const { status, output } = runStep(steps[index]!, workspace);
      expect(status).toBe(1);
      expect(output).toBe(`solstice: actions/checkout: ${message}\n`);
    }
  });

  it("checks out a commit id given as ref, and a full branch ref, over an existing checkout", async () => {
    const workspace = mkdtempSync(join(root, "ws-"));
    const text = `on: push
jobs:
  a:
    runs-on: x
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${commits["c1"]}
      - uses: actions/checkout@v4
        with:
          ref: refs/heads/dev
          persist-credentials: false
`;
    const workflow = await parseActionsWorkflow(text, "w.yml");
    const { request } = translateJob({
      workflow,
      contexts: { github: { server_url: `file://${server}`, repository: "me/app", sha: commits["c3"] } },
    });
    expect(runStep(request.steps[0]!, workspace).status).toBe(0);
    expect(git(workspace, "rev-parse", "HEAD")).toBe(commits["c1"]);
    expect(runStep(request.steps[1]!, workspace).status).toBe(0);
    expect(git(workspace, "rev-parse", "HEAD")).toBe(commits["dev"]);
    expect(git(workspace, "rev-parse", "--abbrev-ref", "HEAD")).toBe("dev");
  });

  it("puts the token, its base64 form and the header in the mask", async () => {
    const workflow = await parseActionsWorkflow(
      readFileSync(`${FIXTURES}checkout.yml`, "utf8"),
      "checkout.yml",
    );
    const { request } = translateJob({
      workflow,
      contexts: {
        github: {
          server_url: "https://forge.example",
          repository: "me/app",
          sha: commits["c3"],
          token: TOKEN,
        },
      },
    });
    const basic = Buffer.from(`x-access-token:${TOKEN}`).toString("base64");
    expect(request.mask).toEqual([TOKEN, basic, `AUTHORIZATION: Basic ${basic}`]);
    expect(request.steps[0]!.env).toEqual({ SOLSTICE_CHECKOUT_AUTH: `AUTHORIZATION: Basic ${basic}` });
    for (const step of request.steps) expect(step.run).not.toContain(TOKEN);
  });

  it("checks out from the URL the runner gives, and without a token sends no header", async () => {
    const workflow = await parseActionsWorkflow(
      "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n",
      "w.yml",
    );
    const { request } = translateJob({
      workflow,
      contexts: { github: { repository: "me/app", sha: commits["c2"], ref: "refs/heads/main" } },
      checkoutUrl: `file://${join(server, "me", "app")}`,
    });
    expect(request.steps[0]!.env).toBeUndefined();
    expect(request.mask).toEqual([]);
    const workspace = mkdtempSync(join(root, "ws-"));
    expect(runStep(request.steps[0]!, workspace).status).toBe(0);
    expect(git(workspace, "rev-parse", "HEAD")).toBe(commits["c2"]);
  });

  it("sends the token to a checkout URL on the server's own origin only", async () => {
    const workflow = await parseActionsWorkflow(
      "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n",
      "w.yml",
    );
    const github = {
      server_url: "https://forge.example",
      repository: "me/app",
      sha: commits["c2"],
      ref: "refs/heads/main",
      token: TOKEN,
    };
    const header = `AUTHORIZATION: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`;

    const sameOrigin = translateJob({
      workflow,
      contexts: { github },
      checkoutUrl: "https://forge.example/mirrors/me-app.git",
    }).request.steps[0]!;
    expect(sameOrigin.env).toEqual({ SOLSTICE_CHECKOUT_AUTH: header });

    // Another host (or port, or scheme): a mirror the operator chose, not the forge that issued
    // the token. No header is sent or written, and the log says so.
    for (const checkoutUrl of [
      "https://mirror.example/me/app.git",
      "https://forge.example:8443/me/app.git",
      "http://forge.example/me/app.git",
      `file://${join(server, "me", "app")}`,
    ]) {
      const { request } = translateJob({ workflow, contexts: { github }, checkoutUrl });
      const step = request.steps[0]!;
      expect(step.env, checkoutUrl).toBeUndefined();
      expect(step.run).not.toContain("extraheader");
      expect(step.run).toContain("the job token is not sent to it");
      // The token is a secret of the job all the same.
      expect(request.mask).toContain(TOKEN);
    }
    const { request } = translateJob({
      workflow,
      contexts: { github },
      checkoutUrl: `file://${join(server, "me", "app")}`,
    });
    const workspace = mkdtempSync(join(root, "ws-"));
    expect(runStep(request.steps[0]!, workspace).status).toBe(0);
    expect(git(workspace, "rev-parse", "HEAD")).toBe(commits["c2"]);
  });
});
