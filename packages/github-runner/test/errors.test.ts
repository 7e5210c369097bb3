import { SolsticeError } from "@solstice/common";
import { describe, expect, it } from "vitest";
import {
  ActionsServiceError,
  GitHubHttpError,
  GitHubResponseError,
  GitHubRunnerError,
  GitHubUrlError,
  JitConfigError,
  JobMessageError,
  ResultsServiceError,
  RunnerExistsError,
  RunnerGroupNotFoundError,
  RunnerKeyError,
  RunnerRemovedError,
  RunnerSettingsError,
  redactUrl,
  TokenExchangeError,
} from "../src/index.ts";

const cases: [Error, string][] = [
  [new RunnerSettingsError(".runner", "bad", { field: "agentId" }), "GITHUB_RUNNER_SETTINGS_INVALID"],
  [new JitConfigError("bad"), "GITHUB_JIT_CONFIG_INVALID"],
  [new RunnerKeyError("bad"), "GITHUB_RUNNER_KEY_INVALID"],
  [new RunnerRemovedError("invalid_client"), "GITHUB_RUNNER_REMOVED"],
  [new TokenExchangeError(400, "x"), "GITHUB_TOKEN_EXCHANGE_FAILED"],
  [new GitHubHttpError("call", "https://x?sig=secret", 500, "body"), "GITHUB_HTTP_FAILED"],
  [new ActionsServiceError("acquirejob", "https://x", 400, ""), "GITHUB_SERVICE_FAILED"],
  [new GitHubResponseError("x", "y"), "GITHUB_RESPONSE_INVALID"],
  [new RunnerExistsError("r"), "GITHUB_RUNNER_EXISTS"],
  [new RunnerGroupNotFoundError("g"), "GITHUB_RUNNER_GROUP_NOT_FOUND"],
  [new GitHubUrlError("u", "p"), "GITHUB_URL_INVALID"],
  [new JobMessageError("j", "p"), "GITHUB_JOB_MESSAGE_INVALID"],
  [new ResultsServiceError("m", "p"), "GITHUB_RESULTS_FAILED"],
];

describe("errors", () => {
  it.each(cases)("%s has a stable code, a hint and the base class", (error, code) => {
    expect(error).toBeInstanceOf(GitHubRunnerError);
    expect(error).toBeInstanceOf(SolsticeError);
    expect((error as GitHubRunnerError).code).toBe(code);
    expect((error as GitHubRunnerError).hint).toBeTruthy();
  });

  it("never shows a signed URL's query", () => {
    expect(new GitHubHttpError("upload", "https://blob/x?sig=secret", 403, "").message).not.toContain(
      "secret",
    );
    expect(redactUrl("https://blob/x?sig=s")).toBe("https://blob/x?…");
  });

  it("names the file and field of settings errors", () => {
    expect(new RunnerSettingsError(".runner", "expected a number", { field: "agentId" }).message).toBe(
      ".runner: agentId: expected a number",
    );
  });
});
