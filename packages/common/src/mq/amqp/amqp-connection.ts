import { type ChannelModel, connect } from "amqplib";
import { BrokerUnavailableError, QueueClosedError, TopologyMismatchError } from "../../errors.ts";
import type { ServiceLogger } from "../../telemetry/service-logger.ts";
import { backoffDelay, reconnectBackoff } from "../backoff.ts";
import type { QueueStats } from "../broker.ts";
import { errorFields } from "../error-fields.ts";
import { redactAmqpUrl } from "../mq-config.ts";
import type { Topology } from "../topology.ts";
import { declareTopology } from "./declare-topology.ts";

/** Something that lives on the connection (publisher, consumer) and is rebuilt on each one. */
export interface ConnectionParticipant {
  /** A (new) connection is open and the topology declared: open channels, subscribe. */
  attach(model: ChannelModel): Promise<void>;
  /** The connection was lost; a later `attach` follows when it is back. */
  detach(error: Error): void;
}

/** How to reach the broker. */
export interface AmqpConnectionOptions {
  readonly url: string;
  /** Longest wait between reconnection attempts. */
  readonly reconnectMaxDelayMs: number;
  /** Shown by `rabbitmqctl list_connections name` and in the management UI. */
  readonly connectionName: string;
  readonly logger: ServiceLogger;
}

// Detects a dead peer (or a paused broker VM) in about 30 s rather than at the TCP timeout.
const DEFAULT_HEARTBEAT_SECONDS = 15;
const CONNECT_TIMEOUT_MS = 10_000;

function withHeartbeat(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has("heartbeat")) u.searchParams.set("heartbeat", String(DEFAULT_HEARTBEAT_SECONDS));
  return u.toString();
}

/**
 * One AMQP connection that heals itself: it connects, declares the remembered topologies, and
 * attaches its participants; when the connection is lost it retries with exponential backoff and
 * jitter, forever, until `close()`; each new connection re-declares and re-attaches everything.
 */
export class AmqpConnection {
  readonly #options: AmqpConnectionOptions;
  readonly #url: string;
  readonly #topologies: Topology[] = [];
  readonly #participants = new Set<ConnectionParticipant>();
  readonly #waiters = new Set<(model: ChannelModel) => void>();
  #model: ChannelModel | undefined;
  #closed = false;
  #lastError: Error | undefined;
  #cancelSleep: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: AmqpConnectionOptions, baseTopology: Topology) {
    this.#options = options;
    this.#url = withHeartbeat(options.url);
    this.#topologies.push(baseTopology);
  }

  /** The URL with its password masked, for messages. */
  get displayUrl(): string {
    return redactAmqpUrl(this.#options.url);
  }

  /** The open connection, if any. */
  get current(): ChannelModel | undefined {
    return this.#model;
  }

  /** Why the last attempt failed or the last connection ended. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts connecting in the background (once). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * The open connection, waiting for it up to `timeoutMs`.
   * @throws BrokerUnavailableError when it is not back in time; QueueClosedError after close().
   */
  whenOpen(timeoutMs: number): Promise<ChannelModel> {
    if (this.#closed) return Promise.reject(new QueueClosedError("use the connection"));
    if (this.#model !== undefined) return Promise.resolve(this.#model);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const onOpen = (model: ChannelModel) => {
        clearTimeout(timer);
        resolve(model);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(onOpen);
        const last = this.#lastError;
        reject(
          new BrokerUnavailableError(
            this.displayUrl,
            Date.now() - started,
            last === undefined ? "not connected yet" : `not connected (${last.message})`,
            { cause: last },
          ),
        );
      }, timeoutMs);
      this.#waiters.add(onOpen);
    });
  }

  /** Adds a participant; attached at once when connected, and after every reconnection. */
  add(participant: ConnectionParticipant): void {
    this.#participants.add(participant);
    if (this.#model !== undefined) void participant.attach(this.#model);
  }

  remove(participant: ConnectionParticipant): void {
    this.#participants.delete(participant);
  }

  /**
   * Declares `topology` now (waiting up to `timeoutMs` for the connection) and after every
   * reconnection.
   * @throws TopologyMismatchError, BrokerUnavailableError
   */
  async declare(topology: Topology, timeoutMs: number): Promise<void> {
    const model = await this.whenOpen(timeoutMs);
    const channel = await model.createChannel();
    channel.on("error", () => {});
    try {
      await declareTopology(channel, topology);
    } finally {
      await channel.close().catch(() => {});
    }
    this.#topologies.push(topology);
  }

  /** Deletes `queue` if empty (see MessageBroker.deleteQueueIfEmpty); it is not re-declared after. */
  async deleteQueueIfEmpty(queue: string, timeoutMs: number): Promise<boolean> {
    const model = await this.whenOpen(timeoutMs);
    const channel = await model.createChannel();
    // A queue that is not empty closes the channel with 406 PRECONDITION_FAILED.
    let refused = false;
    channel.on("error", () => {
      refused = true;
    });
    try {
      await channel.deleteQueue(queue, { ifEmpty: true });
    } catch (error) {
      if (!refused) throw error;
      return false;
    } finally {
      await channel.close().catch(() => {});
    }
    for (const [i, topology] of this.#topologies.entries()) {
      this.#topologies[i] = {
        ...topology,
        queues: topology.queues.filter((q) => q.name !== queue),
        bindings: topology.bindings.filter((b) => b.queue !== queue),
      };
    }
    return true;
  }

  /** A queue's depth and consumers by a passive declaration; undefined when it does not exist. */
  async inspectQueue(queue: string, timeoutMs: number): Promise<QueueStats | undefined> {
    const model = await this.whenOpen(timeoutMs);
    const channel = await model.createChannel();
    // A missing queue closes the channel with 404 NOT_FOUND.
    let missing = false;
    channel.on("error", (error: { code?: unknown }) => {
      if (error.code === 404) missing = true;
    });
    try {
      const ok = await channel.checkQueue(queue);
      return { queue, messages: ok.messageCount, consumers: ok.consumerCount };
    } catch (error) {
      if (missing || (error as { code?: unknown }).code === 404) return undefined;
      throw error;
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /** Stops reconnecting and closes the connection (participants close their channels first). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelSleep?.();
    const model = this.#model;
    this.#model = undefined;
    if (model !== undefined) await model.close().catch(() => {});
    await this.#loop;
  }

  async #declareAll(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on("error", () => {});
    try {
      for (const topology of this.#topologies) await declareTopology(channel, topology);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  async #run(): Promise<void> {
    const { logger, connectionName } = this.#options;
    let attempt = 0;
    while (!this.#closed) {
      let model: ChannelModel | undefined;
      try {
        model = await connect(this.#url, {
          timeout: CONNECT_TIMEOUT_MS,
          clientProperties: { connection_name: connectionName },
        });
        const opened = model;
        const lost = new Promise<Error>((resolve) => {
          opened.once("close", (error?: Error) => resolve(error ?? new Error("connection closed")));
        });
        // Without an 'error' listener a broker-side close would crash the process.
        opened.on("error", (error: Error) => logger.warn(errorFields(error), "AMQP connection error"));
        opened.on("blocked", (reason: string) =>
          logger.warn({ reason }, "broker blocked publishing (resource alarm); publishes will wait"),
        );
        opened.on("unblocked", () => logger.info({}, "broker unblocked publishing"));
        await this.#declareAll(opened);
        if (this.#closed) {
          await opened.close().catch(() => {});
          break;
        }
        this.#model = opened;
        this.#lastError = undefined;
        if (attempt > 0) logger.info({ url: this.displayUrl, attempts: attempt }, "reconnected to RabbitMQ");
        else logger.info({ url: this.displayUrl }, "connected to RabbitMQ");
        attempt = 0;
        for (const wake of [...this.#waiters]) wake(opened);
        this.#waiters.clear();
        for (const participant of this.#participants) void participant.attach(opened);
        const error = await lost;
        this.#model = undefined;
        if (this.#closed) break;
        this.#lastError = error;
        logger.warn(
          { ...errorFields(error), url: this.displayUrl },
          "lost the RabbitMQ connection; reconnecting",
        );
        for (const participant of this.#participants) participant.detach(error);
      } catch (error) {
        this.#lastError = error instanceof Error ? error : new Error(String(error));
        if (model !== undefined) await model.close().catch(() => {});
        const level = error instanceof TopologyMismatchError ? "error" : "warn";
        logger[level]({ ...errorFields(error), url: this.displayUrl, attempt }, "cannot connect to RabbitMQ");
      }
      if (this.#closed) break;
      attempt++;
      await this.#sleep(backoffDelay(reconnectBackoff(this.#options.reconnectMaxDelayMs), attempt));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#cancelSleep = done;
    });
  }
}
