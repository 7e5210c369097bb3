import { Command, InvalidArgumentError } from "commander";
import { ForgejoTestServer } from "../forgejo-test-server.ts";

/** Where the program writes and how it waits for the end. */
export interface ProgramIo {
  readonly stdout: NodeJS.WritableStream;
  /** Resolves when the server should stop (a signal). */
  readonly stopped: Promise<void>;
}

/**
 * `solstice-forgejo-test-server [--host] [--port] [--public-url] [--fetch-hold-ms]`: starts the
 * server, prints its URL and a registration token, serves until stopped.
 */
export function buildProgram(io: ProgramIo): Command {
  return new Command("solstice-forgejo-test-server")
    .description(
      "A Forgejo Actions runner-protocol server for tests: register runners, queue no tasks, log nothing",
    )
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0: any free port)", parsePort, 0)
    .option("--public-url <url>", "the URL runners and jobs use to reach this server ({port} is replaced)")
    .option("--fetch-hold-ms <ms>", "hold FetchTask up to this long waiting for a task", parsePort, 0)
    .action(async (options: { host: string; port: number; publicUrl?: string; fetchHoldMs: number }) => {
      const server = await ForgejoTestServer.start({
        host: options.host,
        port: options.port,
        fetchHoldMs: options.fetchHoldMs,
        ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
      });
      // The registration token is printed on purpose: it is what the operator came for.
      io.stdout.write(`url: ${server.url}\npublic url: ${server.publicUrl}\n`);
      io.stdout.write(`registration token: ${server.createRegistrationToken()}\n`);
      await io.stopped;
      await server.close();
    });
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number ≥ 0");
  return n;
}
