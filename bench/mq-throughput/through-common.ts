import { AmqpJobQueue, labelQueueName, mqConfigFromEnv } from "@solstice/common";
import { mqTestEnv } from "@solstice/test-support";
import { connect } from "amqplib";
import { measure, type RunResult, type Workload } from "./workload.ts";

/**
 * The same workload through `@solstice/common`: `publishJob` (to the requests' label route) and
 * `consumeLabelJobs` on that label's queue (zod-validated), as runners and orchestrators do.
 */
export async function runThroughCommon(workload: Workload, prefix: string): Promise<RunResult> {
  const config = mqConfigFromEnv(mqTestEnv(prefix), {
    url: workload.url,
    prefetch: workload.prefetch,
    publishTimeoutMs: 120_000,
  });
  const queue = await AmqpJobQueue.connect({ config, connectionName: "bench-mq-throughput" });
  // Every request of the workload asks for the same label.
  const label = workload.requests[0]?.runs_on ?? "omnios-bloody";
  let consumed = 0;
  let allConsumed!: () => void;
  const done = new Promise<void>((resolve) => {
    allConsumed = resolve;
  });
  try {
    await queue.consumeLabelJobs(label, [], async () => {
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
    await deleteTopology(workload.url, config, labelQueueName(config, label));
  }
}

async function deleteTopology(
  url: string,
  config: ReturnType<typeof mqConfigFromEnv>,
  labelQueue: string | undefined,
): Promise<void> {
  const model = await connect(url);
  try {
    const channel = await model.createChannel();
    for (const q of [config.queue, config.dlq, config.eventsUnrouted, labelQueue]) {
      if (q !== undefined) await channel.deleteQueue(q);
    }
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
