import type { ForgeCall } from "@solstice/runner-core";
import type { FetchFunction } from "./http-call.ts";

// Every call to GitHub goes through one fetch (http-call.ts), so one wrapper times them all and
// names each by its API operation, a bounded name (ids and signed-URL tokens are left out).

/**
 * The call's name: the Twirp method (`CreateStepSummaryArtifact`), else the last word of the
 * path that is only letters (`message`, `acquirejob`, `token`), else `other`.
 *
 * @example
 *   callName("https://broker.actions.githubusercontent.com/message?sessionId=1") // "message"
 */
export function callName(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return "other";
  }
  const twirp = /\/twirp\/[^/]+\/([A-Za-z]{1,64})$/.exec(path);
  if (twirp?.[1] !== undefined) return twirp[1];
  const words = path.split("/").filter((segment) => /^[A-Za-z][A-Za-z_-]{0,39}$/.test(segment));
  return words.at(-1)?.toLowerCase() ?? "other";
}

/**
 * `fetch` that tells `onCall` of each call once its answer's headers arrived: its name, seconds,
 * and an error (the HTTP status from 400 up, `timeout`, or `network`). A call the caller aborted
 * (a long poll at stop) is not reported.
 */
export function measuredFetch(base: FetchFunction, onCall: (call: ForgeCall) => void): FetchFunction {
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const call = callName(url);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const response = await base(input, init);
      onCall({
        call,
        seconds: seconds(),
        ...(response.status >= 400 ? { error: String(response.status) } : {}),
      });
      return response;
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name !== "AbortError")
        onCall({ call, seconds: seconds(), error: name === "TimeoutError" ? "timeout" : "network" });
      throw error;
    }
  };
}
