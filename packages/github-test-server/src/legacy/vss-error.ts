import { HttpError } from "../http/http-io.ts";

// Errors of the legacy (Azure DevOps-style) services: the VSS error body whose `typeKey` the
// reference runner maps to its exceptions (TaskAgentSessionConflictException,
// TaskAgentNotFoundException, TaskAgentJobNotFoundException…).

/** A VSS error answer. */
export function vssError(status: number, typeKey: string, message: string): HttpError {
  return new HttpError(status, {
    $id: "1",
    innerException: null,
    message,
    typeName: `GitHub.DistributedTask.WebApi.${typeKey}, GitHub.DistributedTask.WebApi`,
    typeKey,
    errorCode: 0,
    eventId: 3000,
  });
}

/** A body the service cannot read. */
export function invalidVssBody(problem: string): HttpError {
  return vssError(400, "ArgumentException", problem);
}
