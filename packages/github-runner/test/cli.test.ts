import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CliResult, runCli } from "@solstice/test-support";
import { describe, expect, it } from "vitest";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "main.ts");
const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  runCli("solstice-github-runner", MAIN, args, { env });

describe("solstice-github-runner CLI", { timeout: 30_000 }, () => {
  it("lists every flag of register, remove and daemon with its environment variable", async () => {
    const register = await cli(["register", "--help"]);
    expect(register.code).toBe(0);
    for (const env of [
      "GITHUB_RUNNER_URL",
      "GITHUB_RUNNER_REGISTRATION_TOKEN",
      "GITHUB_RUNNER_NAME",
      "GITHUB_RUNNER_LABELS",
      "ORCH_CONFIG",
      "GITHUB_RUNNER_GROUP",
      "GITHUB_RUNNER_EPHEMERAL",
      "GITHUB_RUNNER_REPLACE",
      "GITHUB_RUNNER_STATE_DIR",
    ])
      expect(register.stdout).toContain(env);
    const remove = await cli(["remove", "--help"]);
    expect(remove.stdout).toContain("GITHUB_RUNNER_REMOVE_TOKEN");
    const daemon = await cli(["daemon", "--help"]);
    for (const env of [
      "ACTIONS_RUNNER_INPUT_JITCONFIG",
      "GITHUB_RUNNER_APP_ID",
      "GITHUB_RUNNER_APP_PRIVATE_KEY_FILE",
      "GITHUB_RUNNER_APP_TARGET",
      "GITHUB_RUNNER_CAPACITY",
      "GITHUB_RUNNER_EVENT_PREFETCH",
      "AMQP_URL",
    ])
      expect(daemon.stdout.replace(/\s+/g, " ")).toContain(env);
  });

  it("exits 2 naming the missing flag", async () => {
    const result = await cli(["register", "--url", "https://github.com/acme/widgets", "--labels", "omnios"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--token");
  });

  it("exits 2 when App mode lacks its key file or a flag, naming them", async () => {
    const half = await cli(["daemon", "--app-id", "12", "--labels", "omnios"]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain("--app-private-key-file (GITHUB_RUNNER_APP_PRIVATE_KEY_FILE)");
    expect(half.stderr).toContain("--app-target (GITHUB_RUNNER_APP_TARGET)");
    const missingKey = await cli([
      "daemon",
      "--app-id",
      "12",
      "--app-private-key-file",
      "/nonexistent/key.pem",
      "--app-target",
      "acme",
      "--labels",
      "omnios",
    ]);
    expect(missingKey.code).toBe(2);
    expect(missingKey.stderr).toContain("/nonexistent/key.pem");
  });

  it("exits 2 before registering or listening when the labels name several images", async () => {
    const map = join(dirname(MAIN), "..", "..", "..", "examples", "orchestrator-image-map.yaml");
    for (const args of [
      ["register", "--url", "https://github.com/acme/widgets", "--token", "t", "--config", map],
      [
        "daemon",
        "--state-dir",
        "/nonexistent/state",
        "--config",
        map,
        "--labels",
        "omnios-latest,freebsd-14",
      ],
    ]) {
      const result = await cli(args);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(
        /name \d+ images \(.*omnios-bloody.*\); a GitHub runner runs every job on one image/,
      );
      expect(result.stderr).toContain("hint: register one runner per image");
    }
  });

  it("exits 2 naming the file when the runner is not registered", async () => {
    const result = await cli(["daemon", "--state-dir", "/nonexistent/state", "--labels", "omnios"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\/nonexistent\/state\/\.runner: no such file/);
  });
});
