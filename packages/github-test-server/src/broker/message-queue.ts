// Messages for runners. In the broker flow messages are never deleted by the runner: the broker
// hands each one out once (on the long poll that finds it) and remembers whether a job request
// was acknowledged. Long polls wait here for a message of their runner.

/** A message as the broker keeps it. */
export interface MessageRecord {
  readonly messageId: number;
  readonly runnerId: number;
  readonly messageType: string;
  /** The body as sent: a JSON text. */
  readonly body: string;
  readonly createdAt: Date;
  /** When a long poll answered with it. */
  readonly deliveredAt: Date | undefined;
  /** For RunnerJobRequest: the request id to acknowledge and acquire. */
  readonly runnerRequestId: string | undefined;
  /** For RunnerJobRequest: whether the message asked for an acknowledgement. */
  readonly shouldAcknowledge: boolean;
  readonly acknowledgedAt: Date | undefined;
  /** Legacy flow: how many times a poll answered with it (undeleted messages come again). */
  readonly deliveries: number;
  /** Legacy flow: when the runner deleted it. */
  readonly deletedAt: Date | undefined;
}

interface MessageEntry extends MessageRecord {
  deliveredAt: Date | undefined;
  acknowledgedAt: Date | undefined;
  deliveries: number;
  deletedAt: Date | undefined;
}

/** The messages and the polls waiting for them. */
export class MessageQueue {
  readonly #messages: MessageEntry[] = [];
  readonly #waiters = new Map<number, Set<() => void>>();
  #nextId = 1;

  /** Queues a message for `runnerId` and wakes its poll. */
  push(
    runnerId: number,
    messageType: string,
    body: string,
    job?: { readonly runnerRequestId: string; readonly shouldAcknowledge: boolean },
  ): MessageRecord {
    const entry: MessageEntry = {
      messageId: this.#nextId++,
      runnerId,
      messageType,
      body,
      createdAt: new Date(),
      deliveredAt: undefined,
      runnerRequestId: job?.runnerRequestId,
      shouldAcknowledge: job?.shouldAcknowledge ?? false,
      acknowledgedAt: undefined,
      deliveries: 0,
      deletedAt: undefined,
    };
    this.#messages.push(entry);
    this.wake(runnerId);
    return entry;
  }

  /** The oldest message not yet handed to `runnerId`. */
  nextFor(runnerId: number): MessageRecord | undefined {
    return this.#messages.find((m) => m.runnerId === runnerId && m.deliveredAt === undefined);
  }

  /**
   * Legacy flow: the oldest message of `runnerId` not deleted, after `lastMessageId` (the last
   * one the runner got in this session, when it says so). A message the runner does not delete
   * comes again to its next session.
   */
  nextUndeletedFor(runnerId: number, lastMessageId: number | undefined): MessageRecord | undefined {
    return this.#messages.find(
      (m) =>
        m.runnerId === runnerId &&
        m.deletedAt === undefined &&
        (lastMessageId === undefined || m.messageId > lastMessageId),
    );
  }

  markDelivered(messageId: number): void {
    const entry = this.#messages.find((m) => m.messageId === messageId);
    if (entry !== undefined) {
      entry.deliveredAt ??= new Date();
      entry.deliveries += 1;
    }
  }

  /** Legacy flow: the runner deleted the message; returns whether it was its and not deleted. */
  delete(runnerId: number, messageId: number): boolean {
    const entry = this.#messages.find((m) => m.messageId === messageId && m.runnerId === runnerId);
    if (entry === undefined || entry.deletedAt !== undefined) return false;
    entry.deletedAt = new Date();
    return true;
  }

  /** The job request message with that runner request id. */
  byRunnerRequestId(runnerRequestId: string): MessageRecord | undefined {
    return this.#messages.find((m) => m.runnerRequestId === runnerRequestId);
  }

  acknowledge(messageId: number): void {
    const entry = this.#messages.find((m) => m.messageId === messageId);
    if (entry !== undefined) entry.acknowledgedAt ??= new Date();
  }

  /** Resolves when something happens for `runnerId` (or every runner), or after `ms`. */
  wait(runnerId: number, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(runnerId) ?? new Set<() => void>();
      this.#waiters.set(runnerId, waiters);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener("abort", done, { once: true });
      waiters.add(done);
    });
  }

  /** Wakes the polls of `runnerId`. */
  wake(runnerId: number): void {
    for (const waiter of [...(this.#waiters.get(runnerId) ?? [])]) waiter();
  }

  /** Wakes every poll (a new job may suit any runner). */
  wakeAll(): void {
    for (const runnerId of this.#waiters.keys()) this.wake(runnerId);
  }

  list(): readonly MessageRecord[] {
    return this.#messages;
  }
}
