import type { FastifySchemaCompiler, FastifyTypeProvider } from "fastify";
import { z } from "zod";

/**
 * Lets route schemas be zod schemas: handlers see `request.query`, `params` and `body` typed as
 * the schemas' output (with coercions and defaults applied).
 *
 * @example
 *   const app = Fastify().withTypeProvider<ZodTypeProvider>();
 *   app.setValidatorCompiler(zodValidatorCompiler);
 *   app.get("/x", { schema: { querystring: z.object({ n: z.coerce.number() }) } }, (req) => req.query.n);
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  readonly validator: this["schema"] extends z.ZodType ? z.output<this["schema"]> : unknown;
  readonly serializer: this["schema"] extends z.ZodType ? z.input<this["schema"]> : unknown;
}

/** Validates with the route's zod schema; the error names each bad field (`limit: ...`). */
export const zodValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema }) => {
  if (!(schema instanceof z.ZodType)) {
    throw new TypeError("route schemas must be zod schemas (see src/http/zod-type-provider.ts)");
  }
  return (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    const message = result.error.issues
      .map((i) => (i.path.length === 0 ? i.message : `${i.path.map(String).join(".")}: ${i.message}`))
      .join("; ");
    return { error: new Error(message) };
  };
};
