import { describe } from "vitest";
import { InProcessJobQueue } from "../src/mq/in-process-job-queue.ts";
import { describeJobQueueBehaviour } from "./mq-queue-behaviour.ts";

describe("InProcessJobQueue (embedded mode) behaves as the RabbitMQ queue", () => {
  describeJobQueueBehaviour(async (overrides = {}) => {
    const queue = new InProcessJobQueue({ config: { retryDelayMs: 20, ...overrides } });
    return { queue, config: queue.config };
  });
});
