import type { RunnerRecord } from "../runners/runner-registry.ts";
import type { ServerUrls } from "../server-context.ts";

// The legacy flow's resources as the tenant answers them: the agent pool (a runner group) and
// the TaskAgent, whose `authorization` tells the runner its OAuth client.

/** The only pool: the default runner group (`isInternal`, which the runner picks by default). */
export const LEGACY_POOL = {
  id: 1,
  name: "Default",
  isHosted: false,
  isInternal: true,
  poolType: "automation",
  size: 0,
} as const;

/** A TaskAgent. `withAuthorization`: the answer to add and replace (the OAuth client). */
export function taskAgentJson(
  runner: RunnerRecord,
  busy: boolean,
  urls: ServerUrls,
  withAuthorization: boolean,
): Record<string, unknown> {
  const agent: Record<string, unknown> = {
    id: runner.id,
    name: runner.name,
    version: runner.version,
    osDescription: runner.lastOs ?? "",
    enabled: true,
    status: runner.lastPollAt === undefined ? "offline" : "online",
    provisioningState: "Provisioned",
    maxParallelism: 1,
    ephemeral: runner.ephemeral,
    disableUpdate: runner.disableUpdate,
    createdOn: runner.createdAt.toISOString(),
    labels: runner.labels.map((label, i) => ({ id: i + 1, name: label.name, type: label.type })),
    assignedRequest: busy ? { requestId: 0 } : null,
  };
  if (withAuthorization) {
    const jwk = runner.publicKey.export({ format: "jwk" });
    agent.authorization = {
      authorizationUrl: urls.oauth,
      clientId: runner.clientId,
      publicKey: {
        exponent: Buffer.from(jwk.e ?? "", "base64url").toString("base64"),
        modulus: Buffer.from(jwk.n ?? "", "base64url").toString("base64"),
      },
    };
    // PropertiesCollection as .NET serializes it; the runner defaults the flag to true anyway.
    agent.properties = { RequireFipsCryptography: { $type: "System.Boolean", $value: true } };
  }
  return agent;
}
