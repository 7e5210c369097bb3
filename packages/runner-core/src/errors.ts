import { SolsticeError } from "@solstice/common";

// The errors of what every forge runner shares. Each has a stable `code` and a hint.

/** A label that cannot be offered to a forge. */
export class RunnerLabelError extends SolsticeError {
  readonly label: string;

  constructor(label: string, problem: string) {
    super("RUNNER_LABEL_INVALID", `label ${JSON.stringify(label)}: ${problem}`, {
      hint: "labels are name[:scheme[:arg]], e.g. omnios-bloody or ubuntu-24.04:solstice",
    });
    this.label = label;
  }
}

/** No source names any label: neither the flag, nor the image map, nor the registration. */
export class NoRunnerLabelsError extends SolsticeError {
  constructor(flagHint: string) {
    super("RUNNER_LABELS_MISSING", "no labels to offer", {
      hint: `pass ${flagHint} or --config (ORCH_CONFIG, the image map)`,
    });
  }
}

/** `--http-addr` is not `host:port`. */
export class RunnerHttpAddrError extends SolsticeError {
  readonly value: string;

  constructor(value: string) {
    super("RUNNER_HTTP_ADDR_INVALID", `HTTP address ${JSON.stringify(value)}: expected host:port`, {
      hint: "e.g. 127.0.0.1:9465, [::1]:9465, or 0.0.0.0:9465 to listen on every interface",
    });
    this.value = value;
  }
}

/** The health and metrics port could not be opened (in use, no permission). */
export class RunnerHttpListenError extends SolsticeError {
  constructor(addr: string, cause: unknown) {
    super(
      "RUNNER_HTTP_LISTEN_FAILED",
      `cannot listen on ${addr}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, hint: "choose another --http-addr, or leave it unset to run without the HTTP port" },
    );
  }
}
