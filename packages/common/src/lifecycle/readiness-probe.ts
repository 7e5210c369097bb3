import { settleWithin } from "./settle-within.ts";

/** Resolves when the dependency is usable; rejects (with a message for people) when not. */
export type ReadinessProbe = () => Promise<void>;

/**
 * One `/readyz` check's answer: `"ok"`, the probe's own message, or `no answer within N ms` for
 * a probe that hangs (a dead broker connection may never answer). Never rejects.
 */
export async function readinessAnswer(probe: ReadinessProbe, timeoutMs: number): Promise<string> {
  const settled = await settleWithin(probe(), timeoutMs, `no answer within ${timeoutMs} ms`);
  return settled.error ?? "ok";
}
