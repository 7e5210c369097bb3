import type { Span } from "@opentelemetry/api";
import {
  type ChannelModel,
  type ConfirmChannel,
  IllegalOperationError,
  type Message,
  type Options,
} from "amqplib";
import {
  BrokerUnavailableError,
  PublishNackedError,
  QueueClosedError,
  UnroutableError,
} from "../../errors.ts";
import type { ServiceLogger } from "../../telemetry/service-logger.ts";
import { backoffDelay, reconnectBackoff } from "../backoff.ts";
import type { OutgoingMessage } from "../broker.ts";
import { errorFields } from "../error-fields.ts";
import { FifoQueue } from "../fifo-queue.ts";
import { endSpanWithError, startPublishSpan } from "../trace-context.ts";
import type { AmqpConnection, ConnectionParticipant } from "./amqp-connection.ts";

interface PendingPublish {
  readonly message: OutgoingMessage;
  readonly options: Options.Publish;
  /** Publish order, to resend in order after a channel loss. */
  readonly seq: number;
  readonly startedAt: number;
  readonly deadline: number;
  readonly span: Span;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** The channel it was last written to; undefined while waiting to be (re)sent. */
  channel: ConfirmChannel | undefined;
  /** Set by basic.return, which the broker sends before the confirm of the same message. */
  returned: { replyCode: number; replyText: string } | undefined;
  settled: boolean;
}

// amqplib reports a broker nack as an Error with this message (lib/channel.js).
const NACK_MESSAGE = "message nacked";
const NOT_FOUND = 404;
const SWEEP_INTERVAL_MS = 200;

/**
 * Publishes on one confirm channel with `mandatory`, persistent delivery, and resolves each
 * publish on its broker ack. A returned message rejects with UnroutableError, a nack with
 * PublishNackedError. Messages wait (in order) while the channel is down or full ('drain'), and
 * those sent but unconfirmed when a channel dies are sent again on the next one (at least once);
 * a publish still unconfirmed at its deadline rejects with BrokerUnavailableError.
 */
export class ConfirmPublisher implements ConnectionParticipant {
  readonly #connection: AmqpConnection;
  readonly #logger: ServiceLogger;
  readonly #timeoutMs: number;
  readonly #outbox = new FifoQueue<PendingPublish>();
  readonly #unconfirmed = new Set<PendingPublish>();
  // Returned messages are matched to their publish by message id (a basic.return has no tag).
  readonly #byMessageId = new Map<string, PendingPublish>();
  readonly #sameIdInFlight: PendingPublish[] = [];
  #resend: PendingPublish[] = [];
  #model: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #writable = false;
  #opening = false;
  #reopenAttempt = 0;
  #seq = 0;
  #closing = false;
  #sweeper: NodeJS.Timeout | undefined;
  #settledWaiters: (() => void)[] = [];

  constructor(connection: AmqpConnection, options: { logger: ServiceLogger; timeoutMs: number }) {
    this.#connection = connection;
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs;
  }

  /** Publishes waiting for a channel or a confirm. */
  get pending(): number {
    return this.#outbox.length + this.#unconfirmed.size + this.#resend.length;
  }

  publish(message: OutgoingMessage): Promise<void> {
    if (this.#closing) return Promise.reject(new QueueClosedError("publish"));
    const { span, headers } = startPublishSpan(message);
    const options: Options.Publish = {
      persistent: true,
      mandatory: true,
      contentType: message.contentType ?? "application/json",
      contentEncoding: "utf-8",
      messageId: message.messageId,
      timestamp: Math.floor(Date.now() / 1000),
      headers,
      ...(message.type === undefined ? {} : { type: message.type }),
    };
    return new Promise<void>((resolve, reject) => {
      const now = Date.now();
      const pending: PendingPublish = {
        message,
        options,
        seq: this.#seq++,
        startedAt: now,
        deadline: now + (message.timeoutMs ?? this.#timeoutMs),
        span,
        resolve,
        reject,
        channel: undefined,
        returned: undefined,
        settled: false,
      };
      const channel = this.#channel;
      if (channel !== undefined && this.#writable && this.#outbox.length === 0) this.#send(pending, channel);
      else this.#outbox.push(pending);
      this.#ensureSweeper();
    });
  }

  async attach(model: ChannelModel): Promise<void> {
    this.#model = model;
    if (this.#closing || this.#channel !== undefined || this.#opening) return;
    this.#opening = true;
    let channel: ConfirmChannel | undefined;
    try {
      channel = await model.createConfirmChannel();
      const opened = channel;
      opened.on("error", (error: Error) => this.#channelError(error));
      opened.on("return", (returned: Message) => this.#returned(returned));
      opened.once("close", () => this.#channelClosed(opened, model));
      if (this.#model !== model) {
        await opened.close().catch(() => {});
        return;
      }
      this.#channel = opened;
      this.#writable = true;
      this.#reopenAttempt = 0;
      this.#flush();
    } catch (error) {
      this.#logger.warn(errorFields(error), "cannot open the publish channel");
      this.#scheduleReopen(model);
    } finally {
      this.#opening = false;
      // The connection changed while this one was opening: open on the new one.
      const current = this.#model;
      if (current !== undefined && current !== model && this.#channel === undefined)
        void this.attach(current);
    }
  }

  detach(): void {
    this.#model = undefined;
    const channel = this.#channel;
    if (channel !== undefined) this.#channelClosed(channel, undefined);
  }

  /**
   * Stops accepting publishes and waits up to `timeoutMs` for those in flight; the rest reject
   * with QueueClosedError. Then closes the channel.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, Math.min(100, deadline - Date.now())));
        this.#settledWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const left = [...this.#outbox.drain(), ...this.#unconfirmed, ...this.#resend];
    this.#unconfirmed.clear();
    this.#resend = [];
    for (const pending of left) this.#settle(pending, new QueueClosedError("finish publishing"));
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    const channel = this.#channel;
    this.#channel = undefined;
    if (channel !== undefined) await channel.close().catch(() => {});
  }

  #send(pending: PendingPublish, channel: ConfirmChannel): void {
    const { exchange, routingKey, body } = pending.message;
    pending.channel = channel;
    this.#unconfirmed.add(pending);
    this.#index(pending);
    let writable: boolean;
    try {
      writable = channel.publish(exchange, routingKey, body, pending.options, (error: Error | null) =>
        this.#confirmed(pending, channel, error),
      );
    } catch (error) {
      this.#unconfirmed.delete(pending);
      this.#unindex(pending);
      pending.channel = undefined;
      if (error instanceof IllegalOperationError) {
        // The channel is closing: its 'close' will bring a new one.
        this.#outbox.unshiftAll([pending]);
        this.#writable = false;
      } else {
        // E.g. headers over amqplib's 64 KiB table limit: this message can never be sent.
        this.#settle(pending, error instanceof Error ? error : new Error(String(error)));
      }
      return;
    }
    if (!writable) {
      this.#writable = false;
      channel.once("drain", () => {
        if (this.#channel !== channel) return;
        this.#writable = true;
        this.#flush();
      });
    }
  }

  #flush(): void {
    const channel = this.#channel;
    if (channel === undefined) return;
    const now = Date.now();
    while (this.#writable && this.#channel === channel && this.#outbox.length > 0) {
      const pending = this.#outbox.shift() as PendingPublish;
      if (pending.settled) continue;
      if (pending.deadline <= now) {
        this.#settle(pending, this.#timedOut(pending, "the publish channel was not available"));
        continue;
      }
      this.#send(pending, channel);
    }
  }

  #confirmed(pending: PendingPublish, channel: ConfirmChannel, error: Error | null): void {
    if (pending.settled || pending.channel !== channel) return;
    this.#unconfirmed.delete(pending);
    this.#unindex(pending);
    const { exchange, routingKey, messageId } = pending.message;
    if (error === null || error === undefined) {
      if (pending.returned === undefined) this.#settle(pending);
      else
        this.#settle(pending, new UnroutableError({ exchange, routingKey, messageId, ...pending.returned }));
    } else if (error.message === NACK_MESSAGE) {
      this.#settle(pending, new PublishNackedError({ exchange, routingKey, messageId }));
    } else {
      // The channel died before the broker confirmed: the message may or may not have arrived.
      // Send it again on the next channel (at least once; consumers deduplicate by message id).
      pending.channel = undefined;
      this.#resend.push(pending);
    }
  }

  #returned(message: Message): void {
    const messageId = message.properties.messageId;
    if (typeof messageId !== "string") return;
    const { exchange, routingKey, replyCode, replyText } = message.fields as Message["fields"] & {
      replyCode?: number;
      replyText?: string;
    };
    const matches = (p: PendingPublish | undefined): p is PendingPublish =>
      p !== undefined &&
      p.returned === undefined &&
      p.message.messageId === messageId &&
      p.message.exchange === exchange &&
      p.message.routingKey === routingKey;
    const first = this.#byMessageId.get(messageId);
    const target = matches(first) ? first : this.#sameIdInFlight.find(matches);
    if (target !== undefined)
      target.returned = { replyCode: replyCode ?? 312, replyText: replyText ?? "NO_ROUTE" };
  }

  #channelError(error: Error): void {
    const code = (error as Error & { code?: unknown }).code;
    this.#logger.warn(errorFields(error), "publish channel closed by the broker");
    // 404 "no exchange 'x'": the publishes to that exchange can never succeed; fail them now
    // rather than resending them on every new channel.
    const missing = code === NOT_FOUND ? /no exchange '([^']*)'/.exec(error.message)?.[1] : undefined;
    if (missing === undefined) return;
    for (const pending of [...this.#unconfirmed]) {
      if (pending.message.exchange !== missing) continue;
      this.#unconfirmed.delete(pending);
      this.#unindex(pending);
      const { exchange, routingKey, messageId } = pending.message;
      this.#settle(
        pending,
        new UnroutableError({
          exchange,
          routingKey,
          messageId,
          replyCode: NOT_FOUND,
          replyText: error.message,
        }),
      );
    }
  }

  #channelClosed(channel: ConfirmChannel, model: ChannelModel | undefined): void {
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    this.#writable = false;
    // Everything written to the dead channel and not confirmed goes out again first, in order.
    const again = [...this.#resend, ...this.#unconfirmed].filter((p) => !p.settled);
    for (const pending of this.#unconfirmed) this.#unindex(pending);
    this.#unconfirmed.clear();
    this.#resend = [];
    for (const pending of again) pending.channel = undefined;
    again.sort((a, b) => a.seq - b.seq);
    this.#outbox.unshiftAll(again);
    if (model !== undefined && !this.#closing) this.#scheduleReopen(model);
  }

  #scheduleReopen(model: ChannelModel): void {
    this.#reopenAttempt++;
    const delay = backoffDelay(reconnectBackoff(5_000), this.#reopenAttempt);
    setTimeout(() => {
      if (this.#model === model && this.#connection.current === model) void this.attach(model);
    }, delay).unref();
  }

  #index(pending: PendingPublish): void {
    const id = pending.message.messageId;
    if (this.#byMessageId.has(id)) this.#sameIdInFlight.push(pending);
    else this.#byMessageId.set(id, pending);
  }

  #unindex(pending: PendingPublish): void {
    const id = pending.message.messageId;
    if (this.#byMessageId.get(id) === pending) {
      this.#byMessageId.delete(id);
      const next = this.#sameIdInFlight.findIndex((p) => p.message.messageId === id);
      if (next >= 0) this.#byMessageId.set(id, this.#sameIdInFlight.splice(next, 1)[0] as PendingPublish);
    } else if (this.#sameIdInFlight.length > 0) {
      const at = this.#sameIdInFlight.indexOf(pending);
      if (at >= 0) this.#sameIdInFlight.splice(at, 1);
    }
  }

  #timedOut(pending: PendingPublish, detail: string): BrokerUnavailableError {
    const last = this.#connection.lastError;
    return new BrokerUnavailableError(
      this.#connection.displayUrl,
      Date.now() - pending.startedAt,
      last === undefined ? detail : `${detail} (${last.message})`,
      { cause: last },
    );
  }

  #settle(pending: PendingPublish, error?: Error): void {
    if (pending.settled) return;
    pending.settled = true;
    if (error === undefined) {
      pending.span.end();
      pending.resolve();
    } else {
      endSpanWithError(pending.span, error);
      pending.reject(error);
    }
    if (this.#settledWaiters.length > 0 && this.pending === 0) {
      for (const wake of this.#settledWaiters.splice(0)) wake();
    }
  }

  #ensureSweeper(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  // Deadlines are checked here rather than with one timer per message: cheap with 20,000 in flight.
  #sweep(): void {
    if (this.pending === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
      return;
    }
    const now = Date.now();
    const expired = (p: PendingPublish) => p.deadline <= now;
    for (const pending of this.#outbox.removeWhere(expired)) {
      this.#settle(pending, this.#timedOut(pending, "no connection to publish on"));
    }
    for (const pending of this.#resend.filter(expired)) {
      this.#settle(pending, this.#timedOut(pending, "no connection to publish on"));
    }
    this.#resend = this.#resend.filter((p) => !p.settled);
    for (const pending of this.#unconfirmed) {
      if (!expired(pending)) continue;
      this.#unconfirmed.delete(pending);
      this.#unindex(pending);
      this.#settle(pending, this.#timedOut(pending, "the broker did not confirm the message in time"));
    }
    if (this.#channel !== undefined && this.#writable) this.#flush();
  }
}
