import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import {
  contextDictionary,
  expandMatrix,
  newJobRequest,
  parseActionsWorkflow,
  parseImageMap,
  parseWorkflow,
  resolveLabel,
  translateJob,
  validateActionsWorkflow,
} from "../src/index.ts";

// Every example and the repository's own workflows, read with the project's own parsers: the
// GitHub workflows with @actions/workflow-parser (what the runners use), the users' example
// workflows also translated to JobRequests whose labels the shipped image map serves, the KDL
// workflows and image maps with their schemas, dependabot.yml against the fields it may have.

const ROOT = join(import.meta.dirname, "..", "..", "..");
const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");
const SHA = "0123456789abcdef0123456789abcdef01234567";
const GITHUB = { sha: SHA, repository: "acme/widgets", server_url: "https://forge.example" };

/** Files under `dir` (relative to the repository) whose names end in one of `suffixes`. */
function filesUnder(dir: string, suffixes: readonly string[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && suffixes.some((s) => entry.name.endsWith(s))) {
      found.push(relative(ROOT, join(entry.parentPath, entry.name)));
    }
  }
  return found.sort();
}

const imageMap = parseImageMap(read("examples/orchestrator-image-map.yaml"), "orchestrator-image-map.yaml");

describe(".github/", () => {
  test("every workflow is valid for GitHub's workflow parser", async () => {
    const files = filesUnder(".github/workflows", [".yml", ".yaml"]);
    expect(files).toEqual([".github/workflows/ci.yml", ".github/workflows/image.yml"]);
    for (const file of files) {
      const { errors } = await validateActionsWorkflow(read(file), file);
      expect(
        errors.map((e) => e.toString()),
        file,
      ).toEqual([]);
    }
  });

  test("ci.yml runs .ci/run on ubuntu-latest; image.yml builds the Containerfile", async () => {
    const ci = await parseActionsWorkflow(read(".github/workflows/ci.yml"), "ci.yml");
    const ciText = read(".github/workflows/ci.yml");
    expect(ci.jobs.map((j) => j.id)).toEqual(["ci"]);
    expect(ciText).toMatch(/runs-on: ubuntu-latest/);
    expect(ciText).toMatch(/^\s+\.ci\/run$/m);
    expect(ciText).toContain("--device /dev/kvm");
    const imageText = read(".github/workflows/image.yml");
    expect(imageText).toContain("file: Containerfile");
    expect(imageText).toMatch(/runs-on: ubuntu-latest/);
  });

  test("dependabot.yml updates npm and the workflows' actions", () => {
    const Dependabot = z.strictObject({
      version: z.literal(2),
      updates: z.array(
        z.strictObject({
          "package-ecosystem": z.enum(["npm", "github-actions", "docker", "docker-compose"]),
          directory: z.string().startsWith("/"),
          schedule: z.strictObject({ interval: z.enum(["daily", "weekly", "monthly"]) }),
          "open-pull-requests-limit": z.number().int().positive().optional(),
          groups: z.record(z.string(), z.strictObject({ patterns: z.array(z.string()) })).optional(),
        }),
      ),
    });
    const config = Dependabot.parse(parse(read(".github/dependabot.yml")));
    expect(config.updates.map((u) => u["package-ecosystem"])).toEqual(
      expect.arrayContaining(["npm", "github-actions"]),
    );
  });
});

describe("examples/", () => {
  test("the users' Actions workflows translate to JobRequests the shipped image map serves", async () => {
    const files = filesUnder("examples", [".yml", ".yaml"]).filter((f) =>
      /\/\.(forgejo|github)\/workflows\//.test(f),
    );
    expect(files.length).toBeGreaterThanOrEqual(2);
    let jobs = 0;
    for (const file of files) {
      const { errors } = await validateActionsWorkflow(read(file), file);
      expect(
        errors.map((e) => e.toString()),
        file,
      ).toEqual([]);
      const workflow = await parseActionsWorkflow(read(file), file);
      for (const job of workflow.jobs) {
        const combinations = expandMatrix(job.strategy, contextDictionary({ github: GITHUB }));
        if (!Array.isArray(combinations)) throw new Error(`${file} ${job.id}: ${combinations.message}`);
        for (const matrix of combinations) {
          const { request, warnings } = translateJob({
            workflow,
            jobId: job.id,
            contexts: {
              github: { sha: SHA, repository: "acme/widgets", server_url: "https://forge.example" },
              matrix,
            },
          });
          expect(warnings, `${file} ${job.id}`).toEqual([]);
          const label = request.labels.find((l) => l !== "self-hosted");
          expect(resolveLabel(imageMap, label), `${file} ${job.id}: ${label}`).toBeDefined();
          const jobRequest = newJobRequest({
            ...request,
            source: file.includes(".forgejo") ? "forgejo" : "github",
            repo_url: "https://forge.example/acme/widgets.git",
            commit_sha: SHA,
          });
          expect(jobRequest.steps?.length, `${file} ${job.id}`).toBeGreaterThan(0);
          jobs += 1;
        }
      }
    }
    expect(jobs).toBeGreaterThanOrEqual(4);
  });

  test("every KDL workflow parses and asks for labels the shipped image map serves", () => {
    const files = filesUnder("examples", [".kdl"]);
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const workflow = parseWorkflow(read(file), file);
      for (const job of workflow.jobs) {
        expect(resolveLabel(imageMap, job.runs_on), `${file} ${job.id}`).toBeDefined();
      }
    }
  });

  test("every image map parses", () => {
    const files = filesUnder("examples", ["image-map.yaml"]);
    expect(files).toEqual(["examples/orchestrator-image-map.yaml", "examples/test-guests.image-map.yaml"]);
    for (const file of files) expect(parseImageMap(read(file), file).images.size).toBeGreaterThan(0);
  });
});
