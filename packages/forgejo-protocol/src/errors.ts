import { Code, ConnectError } from "@connectrpc/connect";
import { SolsticeError } from "@solstice/common";

/** An instance URL that cannot be a Forgejo base URL. */
export class ForgejoInstanceUrlError extends SolsticeError {
  readonly url: string;

  constructor(url: string, problem: string) {
    super("FORGEJO_INSTANCE_URL_INVALID", `instance URL ${JSON.stringify(url)}: ${problem}`, {
      hint: "give the Forgejo URL users open in a browser, e.g. https://codeberg.org or http://forgejo.lan:3000",
    });
    this.url = url;
  }
}

/** The stable codes of {@link ForgejoRpcError}, by Connect code. */
const CODES: Partial<Record<Code, string>> = {
  [Code.Unauthenticated]: "FORGEJO_UNAUTHENTICATED",
  [Code.PermissionDenied]: "FORGEJO_PERMISSION_DENIED",
  [Code.InvalidArgument]: "FORGEJO_INVALID_ARGUMENT",
  [Code.NotFound]: "FORGEJO_NOT_FOUND",
  [Code.AlreadyExists]: "FORGEJO_ALREADY_EXISTS",
  [Code.Unimplemented]: "FORGEJO_UNIMPLEMENTED",
  [Code.Unavailable]: "FORGEJO_UNAVAILABLE",
  [Code.DeadlineExceeded]: "FORGEJO_TIMEOUT",
  [Code.Canceled]: "FORGEJO_CANCELED",
};

function hintFor(procedure: string, code: Code): string | undefined {
  if (code === Code.Unauthenticated || code === Code.PermissionDenied) {
    return procedure === "Register"
      ? "the registration token was refused: create a new one in Forgejo (site, organisation or repository settings → Actions → Runners) and register again"
      : "Forgejo no longer knows this runner (deleted, or its token revoked): register it again with `solstice-forgejo-runner register --instance <url> --token <registration token>`";
  }
  if (procedure === "Register" && code === Code.InvalidArgument) {
    return "check the registration token (Forgejo: Settings → Actions → Runners → Create new runner); tokens are single-use on some versions";
  }
  if (code === Code.Unavailable || code === Code.DeadlineExceeded) {
    return "is the Forgejo instance up and reachable from this host? the runner retries with backoff";
  }
  if (code === Code.Unimplemented) return "the Forgejo instance is too old for this call";
  return undefined;
}

/**
 * A call to Forgejo's runner API failed. `procedure` names the RPC (`FetchTask`), `rpcCode` the
 * Connect code (`unauthenticated`), so callers decide: retry, stop, or re-register.
 */
export class ForgejoRpcError extends SolsticeError {
  /** The RPC, e.g. `FetchTask`. */
  readonly procedure: string;
  /** The Connect code; `Code.Unauthenticated` is HTTP 401. */
  readonly rpcCode: Code;

  constructor(procedure: string, cause: ConnectError) {
    super(
      CODES[cause.code] ?? "FORGEJO_RPC_FAILED",
      `Forgejo ${procedure}: ${Code[cause.code]?.toLowerCase() ?? cause.code}: ${cause.rawMessage}`,
      { cause, hint: hintFor(procedure, cause.code) },
    );
    this.procedure = procedure;
    this.rpcCode = cause.code;
  }

  /** The runner's credentials (or a registration token) were refused: retrying cannot help. */
  get isAuthFailure(): boolean {
    return this.rpcCode === Code.Unauthenticated || this.rpcCode === Code.PermissionDenied;
  }
}

/** Wraps any error of a call as a {@link ForgejoRpcError}. */
export function toForgejoError(procedure: string, error: unknown): ForgejoRpcError {
  if (error instanceof ForgejoRpcError) return error;
  return new ForgejoRpcError(procedure, ConnectError.from(error));
}
