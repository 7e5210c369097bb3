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
