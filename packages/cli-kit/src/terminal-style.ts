import { styleText } from "node:util";

/** Text styles for a terminal; each returns the text unchanged when colour is off. */
export interface TerminalStyle {
  readonly enabled: boolean;
  dim(text: string): string;
  bold(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

/** A style that never colours (pipes, files, `--no-color`, `NO_COLOR`). */
export const PLAIN_STYLE: TerminalStyle = {
  enabled: false,
  dim: (t) => t,
  bold: (t) => t,
  red: (t) => t,
  green: (t) => t,
  yellow: (t) => t,
  cyan: (t) => t,
};

const COLOURED: TerminalStyle = {
  enabled: true,
  dim: (t) => styleText("dim", t, { validateStream: false }),
  bold: (t) => styleText("bold", t, { validateStream: false }),
  red: (t) => styleText("red", t, { validateStream: false }),
  green: (t) => styleText("green", t, { validateStream: false }),
  yellow: (t) => styleText("yellow", t, { validateStream: false }),
  cyan: (t) => styleText("cyan", t, { validateStream: false }),
};

/**
 * Colours when `stream` is a terminal that has them (`hasColors()` honours `NO_COLOR` and
 * `FORCE_COLOR`) and `wanted` is not false (`--no-color`).
 */
export function terminalStyle(stream: NodeJS.WritableStream, wanted = true): TerminalStyle {
  const tty = stream as Partial<NodeJS.WriteStream>;
  const can = tty.isTTY === true && typeof tty.hasColors === "function" ? tty.hasColors() : false;
  const forced = process.env["FORCE_COLOR"] !== undefined && process.env["FORCE_COLOR"] !== "0";
  return wanted && (can || forced) ? COLOURED : PLAIN_STYLE;
}
