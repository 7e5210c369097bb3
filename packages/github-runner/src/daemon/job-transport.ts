import type { Logger } from "pino";
import type { FetchFunction } from "../http/http-call.ts";
import { LegacyJobServer } from "../legacy/legacy-job-server.ts";
import type { LegacyRunnerServer } from "../legacy/legacy-runner-server.ts";
import type { GitHubJobJournalEntry } from "../report/job-journal-entry.ts";
import type { JobReporterOptions } from "../report/job-reporter.ts";
import { LiveFeed } from "../report/live-feed.ts";
import { ResultsClient } from "../report/results-client.ts";
import { completeJob, renewJob } from "../run-service/run-service-client.ts";
import { userAgent } from "../version.ts";

// Where one job's lock renewals and report go: the only thing the two flows do differently. The
// broker flow renews and completes at the run service with the job's token, and reports to the
// results service and the feed WebSocket; the legacy flow renews the job request with the
// runner's token, and reports through the plan's timeline, logs, feed and JobCompleted event
// (legacy/legacy-job-server.ts). The translation, masking, journal and JobReport are shared.

/** What a job's transport is chosen from (its journal fields). */
export type TransportEntry = Pick<
  GitHubJobJournalEntry,
  "planId" | "jobId" | "billingOwnerId" | "connectionUrl" | "resultsEndpoint" | "feedStreamUrl" | "legacy"
>;

/** A job's calls. */
export interface JobTransport {
  /** One lock renewal: the new `lockedUntil` (ms). */
  readonly renew: (signal: AbortSignal) => Promise<number>;
  readonly results: JobReporterOptions["results"];
  readonly feed: JobReporterOptions["feed"];
  readonly completeJob: JobReporterOptions["completeJob"];
}

/** What building a transport needs. */
export interface TransportDeps {
  readonly fetch?: FetchFunction;
  /** The legacy server of a runner (legacy jobs renew and finish with the runner's token). */
  readonly legacyServer?: (serverUrl: string, poolId: number) => LegacyRunnerServer;
  readonly log: Logger;
}

/** The transport of a job, with its access token. Throws for a legacy job without a legacy server. */
export function jobTransport(entry: TransportEntry, token: string, deps: TransportDeps): JobTransport {
  const { fetch: fetchFn, log } = deps;
  const fetchOption = fetchFn === undefined ? {} : { fetch: fetchFn };
  const legacy = entry.legacy;
  if (legacy !== undefined) {
    if (deps.legacyServer === undefined)
      throw new Error("a legacy (GHES) job needs its runner's legacy server; none is configured");
    const server = deps.legacyServer(legacy.serverUrl, legacy.poolId);
    const jobServer = new LegacyJobServer({
      plan: {
        url: entry.connectionUrl,
        scopeIdentifier: legacy.scopeIdentifier,
        hub: legacy.hub,
        planId: entry.planId,
      },
      timelineId: legacy.timelineId,
      jobId: entry.jobId,
      jobName: legacy.jobName,
      requestId: legacy.requestId,
      planVersion: legacy.planVersion,
      token,
      finishRequest: (result) => server.finishRequest(legacy.requestId, result),
      ...fetchOption,
      onFeedError: (error) => log.debug({ err: error }, "timeline feed problem (best effort)"),
    });
    return {
      renew: (signal) => server.renewRequest(legacy.requestId, signal),
      results: jobServer,
      feed: jobServer,
      completeJob: (input) => jobServer.completeJob(input),
    };
  }
  const connection = { url: entry.connectionUrl, accessToken: token };
  const ids = {
    planId: entry.planId,
    jobId: entry.jobId,
    ...(entry.billingOwnerId === undefined ? {} : { billingOwnerId: entry.billingOwnerId }),
  };
  return {
    renew: (signal) => renewJob(connection, entry.planId, entry.jobId, { signal, ...fetchOption }),
    results:
      entry.resultsEndpoint === undefined
        ? undefined
        : new ResultsClient({ endpoint: entry.resultsEndpoint, token, ids, ...fetchOption }),
    feed:
      entry.feedStreamUrl === undefined
        ? undefined
        : new LiveFeed({
            url: entry.feedStreamUrl,
            token,
            userAgent: userAgent(),
            onError: (error) => log.debug({ err: error }, "live feed problem (best effort)"),
          }),
    completeJob: (body) => completeJob(connection, body, fetchOption),
  };
}
