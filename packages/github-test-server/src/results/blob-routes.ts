import { readBody, sendText } from "../http/http-io.ts";
import type { Route, RouteContext } from "../http/router.ts";
import type { ServerContext } from "../server-context.ts";
import type { BlobOutcome } from "./append-blob-store.ts";

// The signed blob URLs, answered as Azure Blob Storage answers: PUT creates (x-ms-blob-type),
// `comp=appendblock` appends (sealing with `seal=true` or `x-ms-blob-sealed: true`, as the
// runner asks), `comp=seal` seals; errors are Azure's XML with `x-ms-error-code`.

function sendOutcome(ctx: RouteContext, outcome: BlobOutcome): void {
  const headers = { "x-ms-version": "2023-11-03", "x-ms-request-id": crypto.randomUUID() };
  if (outcome.ok) {
    sendText(ctx.res, outcome.status, "", headers);
    return;
  }
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${outcome.code}</Code><Message>${outcome.message}</Message></Error>`;
  sendText(ctx.res, outcome.status, xml, {
    ...headers,
    "content-type": "application/xml",
    "x-ms-error-code": outcome.code,
  });
}

/** The blob routes. */
export function blobRoutes(context: ServerContext): Route[] {
  const base = new URL(context.urls.blobs).pathname;
  const pattern = new RegExp(`^${base}/(?<id>[0-9a-f]+)$`);
  return [
    {
      method: "PUT",
      pattern,
      endpoint: "blob-upload",
      handler: async (ctx) => {
        const id = ctx.params.id ?? "";
        const content = await readBody(ctx.req);
        const signature = context.blobs.checkSignature(id, ctx.url.searchParams);
        if (!signature.ok) {
          sendOutcome(ctx, signature);
          return;
        }
        const comp = ctx.url.searchParams.get("comp");
        const header = (name: string): string | undefined => {
          const value = ctx.req.headers[name];
          return Array.isArray(value) ? value[0] : value;
        };
        let outcome: BlobOutcome;
        if (comp === null) {
          outcome = context.blobs.putBlob(id, header("x-ms-blob-type"), content, header("if-none-match"));
        } else if (comp === "appendblock") {
          const seal =
            ctx.url.searchParams.get("seal")?.toLowerCase() === "true" ||
            header("x-ms-blob-sealed")?.toLowerCase() === "true";
          outcome = context.blobs.appendBlock(id, content, seal);
        } else if (comp === "seal") {
          outcome = context.blobs.seal(id);
        } else {
          outcome = {
            ok: false,
            status: 400,
            code: "InvalidQueryParameterValue",
            message: `comp=${comp} is not supported`,
          };
        }
        sendOutcome(ctx, outcome);
      },
    },
    {
      method: "GET",
      pattern,
      endpoint: "blob-download",
      handler: (ctx) => {
        const id = ctx.params.id ?? "";
        const signature = context.blobs.checkSignature(id, ctx.url.searchParams);
        const blob = context.blobs.get(id);
        if (!signature.ok || blob?.blobType === undefined) {
          sendOutcome(
            ctx,
            signature.ok
              ? {
                  ok: false,
                  status: 404,
                  code: "BlobNotFound",
                  message: "The specified blob does not exist.",
                }
              : signature,
          );
          return;
        }
        const body = Buffer.concat(blob.chunks.map((c) => c.data));
        ctx.res
          .writeHead(200, {
            "content-type": "text/plain",
            "content-length": String(body.length),
            "x-ms-blob-type": blob.blobType,
          })
          .end(body);
      },
    },
  ];
}
