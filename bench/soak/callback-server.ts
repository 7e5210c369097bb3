import { createServer, type Server } from "node:http";

/** One callback a guest made: the job's id and the nonce of the execution that made it. */
export interface Callback {
  readonly requestId: string;
  readonly nonce: string;
}

const CALLBACK_PATH = /^\/cb\/([0-9a-f-]{36})\/([0-9A-Za-z-]{1,64})$/;

/**
 * The host listener a job's callback step calls (`GET /cb/<request id>/<nonce>`): guests reach it
 * at 10.0.2.2:<port> through QEMU's user-mode network, which connects to 127.0.0.1 here. Every
 * call is one real execution of the step in some guest, whatever the orchestrator recorded.
 */
export class CallbackServer {
  readonly port: number;
  readonly #server: Server;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(onCallback: (callback: Callback) => void): Promise<CallbackServer> {
    const server = createServer((request, response) => {
      const match = CALLBACK_PATH.exec(request.url ?? "");
      if (request.method !== "GET" || match === null) {
        response.writeHead(404).end("not a callback\n");
        return;
      }
      onCallback({ requestId: match[1] ?? "", nonce: match[2] ?? "" });
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the callback server has no port");
    return new CallbackServer(server, address.port);
  }

  /** The step that calls back, as a POSIX `sh` script for the guest (busybox wget). */
  stepScript(requestId: string): string {
    // One nonce per execution: two different nonces for one job are two runs of this step.
    // No `-T`: the test guest's static busybox wget crashes (SIGSEGV) with it.
    return [
      'n=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || echo "$$-$(date +%s)")',
      `wget -q -O - "http://10.0.2.2:${this.port}/cb/${requestId}/$n"`,
    ].join("\n");
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
