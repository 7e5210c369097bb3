import { MASK } from "../telemetry/secret-masker.ts";
import { MaskAutomaton, spansOf } from "./mask-automaton.ts";

// Masking a job's log before it leaves a runner service, as the Actions runners do: every
// registered value (secrets, the token, a JobRequest's `mask`) and each line of a multi-line
// value becomes `***`, and a step can register more with the workflow command
// `::add-mask::VALUE` (or the older `##[add-mask]VALUE`), masked from that line on.
//
// Occurrences of all values are found in the original line first and the spans they cover are
// merged, so overlapping or adjacent secrets never leave a piece of one visible (replacing one
// value after the other could cut another one in two and leave its tail). They are found in one
// pass over the line however many values there are (mask-automaton.ts).
//
// Like GitHub's and Forgejo's runners, any non-empty value is masked, however short (a one-letter
// secret masks that letter everywhere: better a shredded log than a leaked secret); values are
// trimmed, and empty or whitespace-only ones ignored. `minLength` can raise the floor.

/** The workflow command that registers a value to mask; its value is hidden in the echo. */
const ADD_MASK_V2 = /^(\s*::add-mask(?:\s[^:]*)?::)(.*)$/;
const ADD_MASK_V1 = /^(\s*##\[add-mask(?:\s[^\]]*)?\])(.*)$/;

/** Options of {@link LogMasker}. */
export interface LogMaskerOptions {
  /** Values shorter than this (after trimming) are not registered. Default 1: any non-empty value. */
  readonly minLength?: number;
}

/** The data of a workflow command, unescaped (`%25` → `%`, `%0D` → CR, `%0A` → LF). */
export function unescapeCommandData(value: string): string {
  return value.replace(/%0D|%0A|%25/gi, (sequence) => {
    const upper = sequence.toUpperCase();
    if (upper === "%0D") return "\r";
    if (upper === "%0A") return "\n";
    return "%";
  });
}

/**
 * Masks secrets in log lines.
 *
 * @example
 *   const masker = new LogMasker(request.mask ?? []);
 *   masker.maskLine("token=s3cr3t");          // "token=***"
 *   masker.maskLine("::add-mask::hunter2");   // "::add-mask::***" (and hunter2 is masked from now on)
 *   masker.maskLine("pw is hunter2");         // "pw is ***"
 */
export class LogMasker {
  readonly #values = new Set<string>();
  readonly #minLength: number;
  #list: string[] | undefined;
  #automaton: MaskAutomaton | undefined;

  constructor(values: Iterable<string> = [], options: LogMaskerOptions = {}) {
    this.#minLength = Math.max(1, options.minLength ?? 1);
    for (const value of values) this.add(value);
  }

  /** How many distinct values are masked. */
  get size(): number {
    return this.#values.size;
  }

  /** Registers a value: the whole (trimmed) and, for a multi-line value, each trimmed line. */
  add(value: string): void {
    const normalised = value.replace(/\r\n?/g, "\n");
    const parts = normalised.includes("\n") ? [normalised, ...normalised.split("\n")] : [normalised];
    for (const part of parts) {
      const trimmed = part.trim();
      if (trimmed.length < this.#minLength || this.#values.has(trimmed)) continue;
      this.#values.add(trimmed);
      this.#list = undefined;
      this.#automaton = undefined;
    }
  }

  /**
   * One line of a step's output as it may be shown: an `add-mask` command registers its value
   * and shows as `::add-mask::***`; any other line is masked.
   */
  maskLine(line: string): string {
    const match = ADD_MASK_V2.exec(line) ?? ADD_MASK_V1.exec(line);
    if (match !== null) {
      const value = unescapeCommandData(match[2] ?? "");
      if (value.trim() === "") return this.mask(line);
      this.add(value);
      return `${match[1]}${MASK}`;
    }
    return this.mask(line);
  }

  /** `text` with every registered value replaced by `***` (no command handling). */
  mask(text: string): string {
    if (this.#values.size === 0 || text === "") return text;
    this.#list ??= [...this.#values];
    const spans = spansOf(text, this.#list, () => {
      this.#automaton ??= new MaskAutomaton(this.#values);
      return this.#automaton;
    });
    if (spans.length === 0) return text;
    let out = "";
    let cursor = 0;
    for (const [start, end] of spans) {
      out += text.slice(cursor, start) + MASK;
      cursor = end;
    }
    return out + text.slice(cursor);
  }
}
