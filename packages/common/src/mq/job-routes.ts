import type { MqConfig } from "./mq-config.ts";
import { type ConsumerTopology, escapeName } from "./topology.ts";

// Job requests are routed by label: each label has its own durable queue, bound to the jobs
// exchange (the original's direct `solstice.jobs`) with the routing key `jobrequest.v1.<label>`
// and one key per alias the serving hosts define. RabbitMQ does the routing; a host consumes
// only the queues of the labels its image map serves. The original's route (`jobrequest.v1` →
// `solstice.jobs.v1`) stays: it is the front door for publishers that know no label route, and
// every orchestrator's router moves what arrives there to its label route (docs/queue.md).

/** AMQP routing keys and queue names are at most 255 bytes. */
const MAX_AMQP_NAME_BYTES = 255;

/** Where a request's label comes from when it asks for none, and what its aliases mean. */
export interface LabelRouting {
  /** alias → canonical label. */
  readonly aliases: ReadonlyMap<string, string>;
  /** The label a request without `runs_on` gets; unknown to a publisher without an image map. */
  readonly defaultLabel?: string | undefined;
}

/**
 * The label a request is routed to: `runs_on` (or, when it asks for none, the default label),
 * with an alias replaced by its label. The one place aliases are resolved: publishers
 * (`publishJob`), the router and the orchestrator's intake all call it. `undefined` when the
 * request asks for no label and no default is known (it then takes the original's route).
 *
 * @example
 *   resolveRouteLabel("illumos", { aliases: new Map([["illumos", "omnios-bloody"]]) }) // "omnios-bloody"
 *   resolveRouteLabel(null, { aliases: new Map(), defaultLabel: "ubuntu-24.04" })      // "ubuntu-24.04"
 */
export function resolveRouteLabel(
  runsOn: string | null | undefined,
  routing?: LabelRouting | undefined,
): string | undefined {
  const wanted = runsOn === undefined || runsOn === null || runsOn === "" ? routing?.defaultLabel : runsOn;
  if (wanted === undefined || wanted === "") return undefined;
  return routing?.aliases.get(wanted) ?? wanted;
}

const utf8Length = (text: string): number => Buffer.byteLength(text, "utf8");

/**
 * The routing key of a label (or alias): `<AMQP_ROUTING_KEY>.<label>`, e.g.
 * `jobrequest.v1.omnios-bloody`; `undefined` when it would exceed AMQP's 255 bytes (no host can
 * bind such a label either, so such a request is unserved).
 */
export function labelRoutingKey(cfg: Pick<MqConfig, "routingKey">, label: string): string | undefined {
  const key = `${cfg.routingKey}.${label}`;
  return utf8Length(key) > MAX_AMQP_NAME_BYTES ? undefined : key;
}

/**
 * The durable queue of a label: `<AMQP_QUEUE>.label.<label escaped>`, e.g.
 * `solstice.jobs.v1.label.omnios-bloody` (the `label.` infix keeps a label named like the DLQ
 * apart from it). `undefined` when the name would exceed 255 bytes.
 */
export function labelQueueName(cfg: Pick<MqConfig, "queue">, label: string): string | undefined {
  const name = `${cfg.queue}.label.${escapeName(label)}`;
  return utf8Length(name) > MAX_AMQP_NAME_BYTES ? undefined : name;
}

/** The label a label queue holds, back from its name; `undefined` for any other queue. */
export function labelOfQueue(cfg: Pick<MqConfig, "queue">, queue: string): string | undefined {
  const prefix = `${cfg.queue}.label.`;
  if (!queue.startsWith(prefix)) return undefined;
  return unescapeName(queue.slice(prefix.length));
}

function unescapeName(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text[i] === "_" ? text.slice(i + 1, i + 3) : "";
    if (/^[0-9a-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/**
 * What a host that serves `label` declares: the label's durable queue (dead-lettering to the
 * DLX, like the original's queue) bound to the jobs exchange by the label's routing key and by
 * each alias's. Several hosts declaring it share the queue (round-robin between consumers); it
 * outlives them, so requests wait in it while every serving host is away.
 * `undefined` when a name would exceed AMQP's 255 bytes (the caller says which label).
 */
export function labelJobsTopology(
  cfg: Pick<MqConfig, "queue" | "routingKey" | "exchange" | "dlx">,
  label: string,
  aliases: readonly string[] = [],
): ConsumerTopology | undefined {
  const queue = labelQueueName(cfg, label);
  const keys = [label, ...aliases].map((name) => labelRoutingKey(cfg, name));
  if (queue === undefined || keys.some((key) => key === undefined)) return undefined;
  return {
    queue,
    exchanges: [],
    queues: [{ name: queue, deadLetterExchange: cfg.dlx }],
    bindings: [...new Set(keys as string[])].map((routingKey) => ({
      queue,
      exchange: cfg.exchange,
      routingKey,
    })),
  };
}
