import { connect as netConnect } from "node:net";

/** Where tests find RabbitMQ and Postgres: the same env names as the services, loopback defaults. */
export const AMQP_URL = process.env["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2f";
export const DATABASE_URL =
  process.env["DATABASE_URL"] ?? "postgres://solstice:solstice@127.0.0.1:5432/solstice";

function portOpen(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

async function requireService(name: string, url: string, defaultPort: number): Promise<void> {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : defaultPort;
  if (!(await portOpen(u.hostname, port))) {
    // Never skip: a test that needs a service fails, and says how to get it.
    throw new Error(
      `${name} is not reachable at ${u.hostname}:${port} (${name === "RabbitMQ" ? "AMQP_URL" : "DATABASE_URL"}). ` +
        `Start it with: bash scripts/services.sh start`,
    );
  }
}

export const requireRabbitMQ = () => requireService("RabbitMQ", AMQP_URL, 5672);
export const requirePostgres = () => requireService("Postgres", DATABASE_URL, 5432);
