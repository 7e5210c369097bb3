import type { RouteContext } from "../http/router.ts";
import type { ServerContext } from "../server-context.ts";

/**
 * A message poll held open as GitHub holds it (both flows): `take` is asked at once and each time
 * the runner's queue wakes, until it gives something or `messageHoldMs` passes. `take` throws to
 * answer with an error (the runner or its session deleted while the poll waited). Resolves to
 * what `take` gave, `undefined` when the hold ran out (answer "no message"), or `"gone"` when the
 * client went away (answer nothing).
 */
export async function holdPoll<T>(
  ctx: RouteContext,
  context: ServerContext,
  runnerId: number,
  take: () => T | undefined,
): Promise<T | undefined | "gone"> {
  const gone = new AbortController();
  ctx.res.once("close", () => gone.abort());
  const signal = AbortSignal.any([gone.signal, context.closing]);
  const deadline = Date.now() + context.settings.messageHoldMs;
  for (;;) {
    const taken = take();
    if (taken !== undefined) return taken;
    const left = deadline - Date.now();
    if (left <= 0 || signal.aborted) return undefined;
    await context.messages.wait(runnerId, left, signal);
    if (gone.signal.aborted) return "gone";
  }
}
