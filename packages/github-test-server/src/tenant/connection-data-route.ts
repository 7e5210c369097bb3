import { randomUUID } from "node:crypto";
import { sendJson } from "../http/http-io.ts";
import type { Route } from "../http/router.ts";
import type { ServerContext } from "../server-context.ts";

// `{tenant}_apis/connectionData`: what a VssConnection reads when it connects to the tenant
// (`.runner` ServerUrl). An anonymous endpoint; the runner only needs it to answer with the
// identity, instance and location data a VSS client expects.

/** The location service's owner GUID for a hosted service. */
const SERVICE_OWNER = "00025394-6065-48ca-87d9-7f5672854ef7";

/** The connectionData route. */
export function connectionDataRoutes(context: ServerContext): Route[] {
  const base = new URL(context.urls.tenant).pathname;
  const instanceId = randomUUID();
  const user = {
    id: randomUUID(),
    descriptor: "System:PublicAccess;aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
    subjectDescriptor: "s2s.runner",
    providerDisplayName: "Solstice GitHub test server",
    isActive: true,
    properties: {},
    resourceVersion: 2,
    metaTypeId: -1,
  };
  return [
    {
      method: "GET",
      pattern: new RegExp(`^${base}_apis/connectionData$`),
      endpoint: "connection-data",
      handler: (ctx) => {
        sendJson(ctx.res, 200, {
          authenticatedUser: user,
          authorizedUser: user,
          instanceId,
          deploymentId: instanceId,
          deploymentType: "hosted",
          locationServiceData: {
            serviceOwner: SERVICE_OWNER,
            defaultAccessMappingMoniker: "PublicAccessMapping",
            lastChangeId: 1,
            lastChangeId64: 1,
            clientCacheFresh: false,
            clientCacheTimeToLive: 3600,
            accessMappings: [
              {
                displayName: "Public Access Mapping",
                moniker: "PublicAccessMapping",
                accessPoint: context.urls.tenant,
                serviceOwner: SERVICE_OWNER,
                virtualDirectory: "",
              },
            ],
            serviceDefinitions: [],
          },
          webApplicationRelativeDirectory: base,
        });
      },
    },
  ];
}
