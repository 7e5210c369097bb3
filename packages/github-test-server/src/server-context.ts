import type { KeyObject } from "node:crypto";
import type { TokenIssuer } from "./auth/token-issuer.ts";
import type { MessageQueue } from "./broker/message-queue.ts";
import type { SessionRegistry } from "./broker/session-registry.ts";
import type { CallLog } from "./http/call-log.ts";
import type { JobStore } from "./jobs/job-store.ts";
import type { RepositoryRegistry } from "./repositories/repository-registry.ts";
import type { CredentialStore } from "./rest/credential-store.ts";
import type { AppendBlobStore } from "./results/append-blob-store.ts";
import type { RunnerRegistry } from "./runners/runner-registry.ts";

// What the route modules share: the registries, the URLs the server hands out, its settings.

/** The URLs the server gives runners, all under its public URL. */
export interface ServerUrls {
  /** `http://host:port`: github.com-style instance and API base (no trailing slash). */
  readonly base: string;
  /** The REST API base (`base`, github.com style); `${base}/api/v3` is served too. */
  readonly api: string;
  /** The tenant (`.runner` ServerUrl, runner-registration `url`), with a trailing slash. */
  readonly tenant: string;
  /** The OAuth token endpoint (the runner's `authorization_url`). */
  readonly oauth: string;
  /** The broker (`.runner` ServerUrlV2, `server_url`), with a trailing slash. */
  readonly broker: string;
  /** The run service (`run_service_url`, SystemVssConnection url), with a trailing slash. */
  readonly runService: string;
  /** The results service (`system.github.results_endpoint`), with a trailing slash. */
  readonly results: string;
  /** Signed blob URLs start with this (no trailing slash). */
  readonly blobs: string;
  /** The live feed WebSocket base (`ws://…/feed`, no trailing slash). */
  readonly feed: string;
}

/** The server's settings, defaults applied. */
export interface ServerSettings {
  readonly messageHoldMs: number;
  readonly idleMessageStatus: 200 | 202 | 204;
  readonly accessTokenLifetimeMs: number;
  readonly jobTokenLifetimeMs: number;
  readonly jobLockMs: number;
  readonly runnerTokenLifetimeMs: number;
  readonly installationTokenLifetimeMs: number;
  readonly acceptRs256: boolean;
  readonly shouldAcknowledge: boolean;
  readonly minimumRunnerVersion: string | undefined;
  readonly app: { readonly appId: string; readonly publicKey: KeyObject } | undefined;
  /** False: the legacy GHES flow (pools, agents, encrypted sessions, timelines); see legacy/. */
  readonly useV2Flow: boolean;
  /** The plan version of legacy job messages: 8 and later complete by a JobCompleted plan event. */
  readonly legacyPlanVersion: number;
}

/** Everything a route module may use. */
export interface ServerContext {
  readonly urls: ServerUrls;
  readonly settings: ServerSettings;
  readonly repositories: RepositoryRegistry;
  readonly credentials: CredentialStore;
  readonly runners: RunnerRegistry;
  readonly sessions: SessionRegistry;
  readonly messages: MessageQueue;
  readonly jobs: JobStore;
  readonly tokens: TokenIssuer;
  readonly blobs: AppendBlobStore;
  readonly calls: CallLog;
  /** Aborted when the server closes (held long polls answer at once). */
  readonly closing: AbortSignal;
}
