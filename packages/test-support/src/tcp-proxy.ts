import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/**
 * A TCP proxy on loopback in front of a service (Postgres, RabbitMQ), for tests of what a client
 * does when the service goes away for a while without stopping the real one (other tests share it).
 * `cut()` drops every open connection and refuses new ones, as a restarting server does;
 * `resume()` lets connections through again.
 *
 * @example
 *   const proxy = await TcpProxy.start({ host: "127.0.0.1", port: 5432 });
 *   const db = createPostgresDb({ url: `postgres://u:p@127.0.0.1:${proxy.port}/db` });
 *   proxy.cut(); await sleep(3_000); proxy.resume();
 */
export class TcpProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** Listens on 127.0.0.1 (a free port) and forwards each connection to `target`. */
  static async start(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (proxy === undefined) client.destroy();
      else proxy.#accept(client, target);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    proxy = new TcpProxy(server, port);
    return proxy;
  }

  /** Whether connections are cut now. */
  get isCut(): boolean {
    return this.#cut;
  }

  /** Drops every open connection (both sides reset) and refuses new ones until `resume()`. */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /** Lets new connections through again. */
  resume(): void {
    this.#cut = false;
  }

  /** Drops every connection and stops listening. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket, target: { readonly host: string; readonly port: number }): void {
    if (this.#cut) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect({ host: target.host, port: target.port });
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
