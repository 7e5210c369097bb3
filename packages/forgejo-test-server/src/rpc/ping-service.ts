import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { PingResponseSchema, type PingService } from "@solstice/forgejo-protocol";
import type { CallLog } from "./call-log.ts";

/** ping.v1.PingService as Forgejo serves it (routers/api/actions/ping): no authentication. */
export function pingServiceImpl(calls: CallLog): ServiceImpl<typeof PingService> {
  return {
    ping: (request) =>
      calls.record("Ping", null, () => create(PingResponseSchema, { data: `Hello, ${request.data}!` })),
  };
}
