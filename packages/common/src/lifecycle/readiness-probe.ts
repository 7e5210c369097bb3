/** Resolves when the dependency is usable; rejects (with a message for people) when not. */
export type ReadinessProbe = () => Promise<void>;

/**
 * One `/readyz` check's answer: `"ok"`, the probe's own message, or `no answer within N ms` for
 * a probe that hangs (a dead broker connection may never answer). Never rejects.
 */
export async function readinessAnswer(probe: ReadinessProbe, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      probe().then(
        () => "ok",
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
