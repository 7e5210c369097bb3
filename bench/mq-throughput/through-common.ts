import { AmqpJobQueue, mqConfigFromEnv } from "@solstice/common";
import { mqTestEnv } from "@solstice/test-support";
import { connect } from "amqplib";
import { measure, type RunResult, type Workload } from "./workload.ts";

/** The same workload through `@solstice/common`: `publishJob` and `consumeJobs` (zod-validated). */
export async function runThroughCommon(workload: Workload, prefix: string): Promise<RunResult> {
  const config = mqConfigFromEnv(mqTestEnv(prefix), {
    url: workload.url,
    prefetch: workload.prefetch,
    publishTimeoutMs: 120_000,
  });
  const queue = await AmqpJobQueue.connect({ config, connectionName: "bench-mq-throughput" });
  let consumed = 0;
  let allConsumed!: () => void;
  const done = new Promise<void>((resolve) => {
    allConsumed = resolve;
  });
  try {
    await queue.consumeJobs(async () => {
      if (++consumed === workload.messages) allConsumed();
    });
    return await measure(async (marks) => {
      marks.start();
      await Promise.all(workload.requests.map((req) => queue.publishJob(req)));
      marks.published();
      await done;
    });
  } finally {
    await queue.close();
    await deleteTopology(workload.url, config);
  }
}

async function deleteTopology(url: string, config: ReturnType<typeof mqConfigFromEnv>): Promise<void> {
  const model = await connect(url);
  try {
    const channel = await model.createChannel();
    for (const q of [config.queue, config.dlq, config.eventsUnrouted]) await channel.deleteQueue(q);
    for (const x of [
      config.exchange,
      config.dlx,
      config.eventsExchange,
      config.eventsUnrouted,
      config.cancelExchange,
    ]) {
      await channel.deleteExchange(x);
    }
    await channel.close();
  } finally {
    await model.close();
  }
}
