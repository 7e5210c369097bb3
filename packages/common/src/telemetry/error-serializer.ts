import { pino } from "pino";

// How an `err` field is logged. pino's own serializer appends every cause's message to the
// error's and every cause's stack to its stack; but our errors already quote their cause
// (`Forgejo FetchTask: unavailable: <Connect's message>`, itself `[unavailable] <the socket's>`),
// so one outage said the same thing three times. Here a cause's message is added only when the
// text so far does not already say it, and a stack's header line (`Type: message`) is shortened to
// the type when its message is already in `message`: the line says why once, and the stack still
// names every error of the chain.

/** How deep causes are followed. */
const MAX_CAUSES = 10;

/**
 * pino's `err` serializer, saying each cause's message once.
 *
 * @example
 *   pino({ serializers: { err: serializeError } })
 *   // {"err":{"type":"ForgejoRpcError","message":"Forgejo FetchTask: unavailable: connect ECONNREFUSED 127.0.0.1:1",
 *   //   "stack":"ForgejoRpcError\n    at ...\ncaused by: ConnectError\n    at ...", ...}}
 */
export function serializeError(err: unknown): unknown {
  // pino's serializer takes error-like objects too, and gives anything else back as it is.
  if (!(err instanceof Error)) return pino.stdSerializers.err(err as Error);
  const serialized = pino.stdSerializers.err(err);
  const chain = causeChain(err);
  let message = "";
  const stacks: string[] = [];
  for (const error of chain) {
    const said = message !== "" && ownTexts(error).some((text) => text !== "" && message.includes(text));
    if (!said && error.message !== "")
      message = message === "" ? error.message : `${message}: ${error.message}`;
    stacks.push(shortStack(error));
  }
  serialized.message = message;
  serialized.stack = stacks.join("\ncaused by: ");
  return serialized;
}

/** The error and its causes, in order, each once. */
function causeChain(err: Error): Error[] {
  const chain: Error[] = [];
  let current: unknown = err;
  while (current instanceof Error && !chain.includes(current) && chain.length <= MAX_CAUSES) {
    chain.push(current);
    current = current.cause;
  }
  return chain;
}

/** What an error says of its own: its message, and a wrapper's message without its prefix. */
function ownTexts(error: Error): string[] {
  // Connect's errors prefix their code (`[unavailable] ...`) and keep the bare text as rawMessage.
  const raw: unknown = Reflect.get(error, "rawMessage");
  return typeof raw === "string" ? [error.message, raw] : [error.message];
}

/** The stack with its `Type: message` header shortened to the type (the message is logged apart). */
function shortStack(error: Error): string {
  const stack = error.stack ?? "";
  const header = `${error.name}: ${error.message}`;
  if (error.message !== "" && stack.startsWith(header)) return `${error.name}${stack.slice(header.length)}`;
  return stack;
}
