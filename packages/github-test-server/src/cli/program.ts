import { Command, InvalidArgumentError, Option } from "commander";
import { GitHubTestServer } from "../github-test-server.ts";

/** Where the program writes and how it waits for the end. */
export interface ProgramIo {
  readonly stdout: NodeJS.WritableStream;
  /** Resolves when the server should stop (a signal). */
  readonly stopped: Promise<void>;
}

interface ProgramOptions {
  readonly host: string;
  readonly port: number;
  readonly publicUrl?: string;
  readonly repository: string;
  readonly messageHoldMs: number;
  readonly accessTokenLifetimeMs?: number;
  readonly jobLockMs?: number;
}

/**
 * `solstice-github-test-server [--host] [--port] [--public-url] [--repository] …`: starts the
 * server, registers a repository, prints its URLs and a PAT, serves until stopped.
 */
export function buildProgram(io: ProgramIo): Command {
  return new Command("solstice-github-test-server")
    .description(
      "A GitHub Actions runner-protocol server for tests: register runners, poll the broker, no jobs queued",
    )
    .addOption(
      new Option("--host <address>", "address to listen on")
        .env("GITHUB_TEST_SERVER_HOST")
        .default("127.0.0.1"),
    )
    .addOption(
      new Option("--port <port>", "port to listen on (0: any free port)")
        .env("GITHUB_TEST_SERVER_PORT")
        .argParser(wholeNumber)
        .default(0),
    )
    .addOption(
      new Option(
        "--public-url <url>",
        "the URL runners and jobs reach the server at ({port} is replaced)",
      ).env("GITHUB_TEST_SERVER_PUBLIC_URL"),
    )
    .addOption(
      new Option("--repository <owner/name>", "the repository to register")
        .env("GITHUB_TEST_SERVER_REPOSITORY")
        .default("solstice/test"),
    )
    .addOption(
      new Option("--message-hold-ms <ms>", "how long the broker holds an idle message poll")
        .env("GITHUB_TEST_SERVER_MESSAGE_HOLD_MS")
        .argParser(wholeNumber)
        .default(50_000),
    )
    .addOption(
      new Option("--access-token-lifetime-ms <ms>", "lifetime of runners' OAuth access tokens (default 1 h)")
        .env("GITHUB_TEST_SERVER_ACCESS_TOKEN_LIFETIME_MS")
        .argParser(wholeNumber),
    )
    .addOption(
      new Option("--job-lock-ms <ms>", "how long acquirejob/renewjob lock a job (default 10 min)")
        .env("GITHUB_TEST_SERVER_JOB_LOCK_MS")
        .argParser(wholeNumber),
    )
    .action(async (options: ProgramOptions) => {
      const server = await GitHubTestServer.start({
        host: options.host,
        port: options.port,
        messageHoldMs: options.messageHoldMs,
        ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
        ...(options.accessTokenLifetimeMs === undefined
          ? {}
          : { accessTokenLifetimeMs: options.accessTokenLifetimeMs }),
        ...(options.jobLockMs === undefined ? {} : { jobLockMs: options.jobLockMs }),
      });
      server.addRepository(options.repository);
      // The PAT is printed on purpose: it is what the operator came for (a test secret).
      io.stdout.write(
        [
          `url: ${server.url}`,
          `public url: ${server.publicUrl}`,
          `api url: ${server.urls.api} (GHES style: ${server.publicUrl}/api/v3)`,
          `repository url (runner --url): ${server.gitHubUrl(options.repository)}`,
          `personal access token: ${server.createPersonalAccessToken()}`,
          `registration token: ${server.createRegistrationToken(options.repository)}`,
          "",
        ].join("\n"),
      );
      await io.stopped;
      await server.close();
    });
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number ≥ 0");
  return n;
}
