import { z } from "zod";
import { JobMessageError } from "../errors.ts";
import { type PipelineContextDataJson, PipelineContextDataSchema } from "./context-data.ts";
import { TemplateTokenSchema } from "./template-token.ts";

// The job message acquirejob answers (AgentJobRequestMessage), serialized with camel-cased
// names. Newtonsoft reads names in any case, so the names of the message's own objects are
// normalised first (but never the keys of data: variables, endpoint data and parameters,
// context data, template tokens).

/** The first letter of each key lower-cased (one level). */
function camelKeys(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key.charAt(0).toLowerCase() + key.slice(1)] = item;
  return out;
}

const camel = <S extends z.ZodType>(schema: S) => z.preprocess(camelKeys, schema);

/** `reference` of a step: `type` is a name (`script`, `repository`, `containerRegistry`) or its number (3, 1, 2). */
export const StepReferenceSchema = camel(
  z.object({
    type: z.union([z.string(), z.number()]),
    name: z.string().nullish(),
    ref: z.string().nullish(),
    repositoryType: z.string().nullish(),
    path: z.string().nullish(),
    image: z.string().nullish(),
  }),
);
/** @see StepReferenceSchema */
export type StepReference = z.infer<typeof StepReferenceSchema>;

/** The reference's kind, from its name or number. */
export function referenceKind(
  reference: StepReference,
): "script" | "repository" | "containerRegistry" | "unknown" {
  const t = reference.type;
  const name =
    typeof t === "number"
      ? ({ 1: "repository", 2: "containerregistry", 3: "script" } as Record<number, string>)[t]
      : t.toLowerCase();
  if (name === "script") return "script";
  if (name === "repository") return "repository";
  if (name === "containerregistry") return "containerRegistry";
  return "unknown";
}

/** One step (ActionStep). */
export const JobMessageStepSchema = camel(
  z.object({
    type: z.union([z.string(), z.number()]).nullish(),
    reference: StepReferenceSchema,
    id: z.string().min(1),
    name: z.string().nullish(),
    displayName: z.string().nullish(),
    displayNameToken: TemplateTokenSchema.optional(),
    contextName: z.string().nullish(),
    condition: z.string().nullish(),
    continueOnError: TemplateTokenSchema.optional(),
    timeoutInMinutes: TemplateTokenSchema.optional(),
    environment: TemplateTokenSchema.optional(),
    inputs: TemplateTokenSchema.optional(),
    enabled: z.boolean().nullish(),
  }),
);
/** @see JobMessageStepSchema */
export type JobMessageStep = z.infer<typeof JobMessageStepSchema>;

/** A service endpoint (SystemVssConnection is the one the job's calls use). */
export const ServiceEndpointSchema = camel(
  z.object({
    name: z.string(),
    url: z.string().nullish(),
    authorization: camel(
      z.object({
        scheme: z.string().nullish(),
        parameters: z.record(z.string(), z.string().nullable()).default({}),
      }),
    ).nullish(),
    data: z.record(z.string(), z.string().nullable()).default({}),
  }),
);
/** @see ServiceEndpointSchema */
export type ServiceEndpoint = z.infer<typeof ServiceEndpointSchema>;

/** A variable: `{value, isSecret}`. */
export const VariableValueSchema = camel(
  z.object({
    value: z.string().nullish(),
    isSecret: z.boolean().default(false),
    isReadOnly: z.boolean().optional(),
  }),
);

/** A mask hint: `{type: "regex", value}`. */
export const MaskHintSchema = camel(z.object({ type: z.union([z.string(), z.number()]), value: z.string() }));

/** The job message. */
export const AgentJobRequestMessageSchema = camel(
  z.object({
    messageType: z.string().nullish(),
    plan: camel(
      z.object({
        planId: z.string().min(1),
        planType: z.string().nullish(),
        scopeIdentifier: z.string().nullish(),
        version: z.number().nullish(),
      }),
    ),
    timeline: camel(z.object({ id: z.string().min(1) }).passthrough()).nullish(),
    jobId: z.string().min(1),
    jobDisplayName: z.string().nullish(),
    jobName: z.string().nullish(),
    requestId: z.number().nullish(),
    lockedUntil: z.string().nullish(),
    resources: camel(
      z.object({
        endpoints: z.array(ServiceEndpointSchema).default([]),
        repositories: z.array(z.unknown()).nullish(),
      }),
    ).default({ endpoints: [] }),
    contextData: z.record(z.string(), PipelineContextDataSchema).default({}),
    variables: z.record(z.string(), VariableValueSchema).default({}),
    mask: z.array(MaskHintSchema).nullish(),
    steps: z.array(JobMessageStepSchema).default([]),
    defaults: z.array(TemplateTokenSchema).nullish(),
    environmentVariables: z.array(TemplateTokenSchema).nullish(),
    fileTable: z.array(z.string()).nullish(),
    workspace: z.unknown().optional(),
    jobOutputs: TemplateTokenSchema.optional(),
    jobContainer: TemplateTokenSchema.optional(),
    jobServiceContainers: TemplateTokenSchema.optional(),
    billingOwnerId: z.string().nullish(),
  }),
);
/** @see AgentJobRequestMessageSchema */
export type AgentJobRequestMessage = z.infer<typeof AgentJobRequestMessageSchema>;

/** Parses a job message; throws `JobMessageError` naming the field. */
export function parseJobMessage(json: unknown): AgentJobRequestMessage {
  const parsed = AgentJobRequestMessageSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const jobId =
    typeof json === "object" && json !== null ? String((json as Record<string, unknown>)["jobId"] ?? "") : "";
  throw new JobMessageError(
    jobId === "" ? undefined : jobId,
    `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
  );
}

function lookup<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  const found = Object.keys(record).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : record[found];
}

/** The SystemVssConnection endpoint. */
export function systemConnection(message: AgentJobRequestMessage): ServiceEndpoint | undefined {
  return message.resources.endpoints.find((e) => e.name.toLowerCase() === "systemvssconnection");
}

/** The job's own connection: SystemVssConnection `url` and its `AccessToken`. Throws `JobMessageError`. */
export function jobConnection(message: AgentJobRequestMessage): { url: string; accessToken: string } {
  const endpoint = systemConnection(message);
  const url = endpoint?.url ?? "";
  const token = endpoint?.authorization
    ? (lookup(endpoint.authorization.parameters, "AccessToken") ?? "")
    : "";
  if (url === "" || token === "") {
    throw new JobMessageError(
      message.jobId,
      "the message has no SystemVssConnection with a url and an AccessToken",
    );
  }
  return { url, accessToken: token };
}

/** A variable's value (names case-insensitive). */
export function variable(message: AgentJobRequestMessage, name: string): string | undefined {
  return lookup(message.variables, name)?.value ?? undefined;
}

/** The results service (`system.github.results_endpoint`), when the job reports there. */
export function resultsEndpoint(message: AgentJobRequestMessage): string | undefined {
  const value =
    variable(message, "system.github.results_endpoint") ??
    systemConnection(message)?.data["ResultsServiceUrl"];
  return value === undefined || value === null || value === "" ? undefined : value;
}

/** The live console feed (`FeedStreamUrl` of SystemVssConnection's data). */
export function feedStreamUrl(message: AgentJobRequestMessage): string | undefined {
  const endpoint = systemConnection(message);
  const value = endpoint === undefined ? undefined : lookup(endpoint.data, "FeedStreamUrl");
  return value === undefined || value === null || value === "" ? undefined : value;
}

/** A context of the message as serialized data. */
export function contextData(
  message: AgentJobRequestMessage,
  name: string,
): PipelineContextDataJson | undefined {
  return lookup(message.contextData, name);
}
