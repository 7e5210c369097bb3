// Forgejo's UpdateLog acknowledgement (routers/api/actions/runner/runner.go, UpdateLog): the
// server holds `ack` rows; a request says its rows start at `index`. Nothing is written — and
// `ack` is answered — when there are no rows, when they start past what the server holds (a
// gap), or when they end at or before it (all already held). Otherwise the rows from `ack` on are
// appended and the new length is answered. Only then is an archived log an error, and only then
// does `no_more` archive it.

/** What to do with an UpdateLog request. */
export type LogWriteDecision =
  | { readonly write: false }
  | {
      readonly write: true;
      /** The offset in the request's rows of the first row to append (`ack - index`). */
      readonly from: number;
    };

/** Decides an UpdateLog request against the `ack` rows held. */
export function decideLogWrite(ack: number, index: number, rowCount: number): LogWriteDecision {
  if (rowCount === 0 || index > ack || index + rowCount <= ack) return { write: false };
  return { write: true, from: ack - index };
}
