// bench/mq-throughput: 20,000 JobRequests published with confirms and consumed, through
// @solstice/common and through bare amqplib, on the same broker in the same run.
// Run: node --conditions=@solstice/source bench/mq-throughput/main.ts [--messages N] [--rounds R]
import { parseArgs } from "node:util";
import { runBareAmqplib } from "./bare-amqplib.ts";
import { runThroughCommon } from "./through-common.ts";
import { makeRequests, type RunResult, uniquePrefix, type Workload } from "./workload.ts";

const TARGET_RATIO = 0.8;

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "20000" },
    rounds: { type: "string", default: "5" },
    prefetch: { type: "string", default: "64" },
  },
});

const workload: Workload = {
  url: process.env["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2f",
  messages: Number(values.messages),
  prefetch: Number(values.prefetch),
  requests: makeRequests(Number(values.messages)),
};
const rounds = Number(values.rounds);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const rate = (r: RunResult) => workload.messages / r.seconds;
const publishRate = (r: RunResult) => workload.messages / r.publishSeconds;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(8);

console.log(
  `mq-throughput: ${workload.messages} JobRequests (${Buffer.byteLength(JSON.stringify(workload.requests[0]))} B each), ` +
    `confirms + persistent + mandatory, prefetch ${workload.prefetch}, ${rounds} rounds each (alternating)`,
);

// Warm up both paths (JIT, broker) before measuring.
await runBareAmqplib(
  { ...workload, messages: 2_000, requests: workload.requests.slice(0, 2_000) },
  uniquePrefix("warm"),
);
await runThroughCommon(
  { ...workload, messages: 2_000, requests: workload.requests.slice(0, 2_000) },
  uniquePrefix("warm"),
);

const bare: RunResult[] = [];
const common: RunResult[] = [];
for (let round = 1; round <= rounds; round++) {
  const b = await runBareAmqplib(workload, uniquePrefix("bare"));
  bare.push(b);
  const c = await runThroughCommon(workload, uniquePrefix("common"));
  common.push(c);
  console.log(
    `  round ${round}: bare amqplib ${fmt(rate(b))} msg/s (publish ${fmt(publishRate(b))})` +
      `   common ${fmt(rate(c))} msg/s (publish ${fmt(publishRate(c))})`,
  );
}

const bareRate = median(bare.map(rate));
const commonRate = median(common.map(rate));
// Rounds run back to back, so a paired ratio cancels most of the noise of a shared machine.
const ratio = median(common.map((c, i) => rate(c) / rate(bare[i] as RunResult)));
const cpu = (runs: RunResult[]) => median(runs.map((r) => (r.cpuSeconds * 1e6) / workload.messages));
console.log("");
console.log(
  `bare amqplib      ${fmt(bareRate)} msg/s  (median of ${rounds}, publish+consume; ${cpu(bare).toFixed(0)} µs CPU/msg)`,
);
console.log(
  `@solstice/common  ${fmt(commonRate)} msg/s  (median of ${rounds}, publish+consume; ${cpu(common).toFixed(0)} µs CPU/msg)`,
);
console.log(
  `ratio common/bare: ${ratio.toFixed(2)} (median of per-round ratios; target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? "met" : "NOT met"})`,
);
