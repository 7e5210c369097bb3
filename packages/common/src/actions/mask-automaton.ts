// Finds where any of many values occur in a text in one pass (Aho–Corasick over UTF-16 code
// units): building is linear in the values' total length, a search linear in the text's length,
// however many values there are. One `indexOf` pass per value costs a log line O(values × length):
// with 1,000 secrets, milliseconds per line. With a few values those native passes are faster
// than one pass here, so below `FEW_VALUES` `spansOf` uses them (a bounded number of passes:
// still linear in the text).

/** Up to this many values, one native `indexOf` pass each; more, the automaton. */
export const FEW_VALUES = 16;

/**
 * The spans of `text` that `values` cover, merged (overlapping or adjacent ones become one), in
 * order, as [start, end) pairs; `automaton` is used when there are more than `FEW_VALUES` values.
 */
export function spansOf(
  text: string,
  values: readonly string[],
  automaton: () => MaskAutomaton,
): [number, number][] {
  if (values.length > FEW_VALUES) return automaton().spans(text);
  const spans: [number, number][] = [];
  for (const value of values) {
    if (value === "") continue;
    for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
      spans.push([at, at + value.length]);
    }
  }
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: [number, number][] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last !== undefined && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push([span[0], span[1]]);
  }
  return merged;
}

/** An automaton over a fixed set of non-empty values. */
export class MaskAutomaton {
  /** Per state: its transitions by code unit. State 0 is the root. */
  readonly #next: Map<number, number>[] = [new Map()];
  /** Per state: the state of its longest proper suffix in the trie. */
  readonly #fail: number[] = [0];
  /** Per state: the length of the longest value ending here (0: none). */
  readonly #longest: number[] = [0];
  /** 1 for the code units some value starts with: from the root, any other is skipped at once. */
  readonly #starts = new Uint8Array(0x10000);

  constructor(values: Iterable<string>) {
    for (const value of values) this.#insert(value);
    this.#link();
  }

  /**
   * The spans of `text` that values cover, merged (overlapping or adjacent ones become one),
   * in order, as [start, end) pairs.
   */
  spans(text: string): [number, number][] {
    const merged: [number, number][] = [];
    // Locals, not private fields, in the loop that runs once per code unit.
    const next = this.#next;
    const failOf = this.#fail;
    const longest = this.#longest;
    const starts = this.#starts;
    let state = 0;
    for (let i = 0; i < text.length; i += 1) {
      const unit = text.charCodeAt(i);
      if (state === 0 && starts[unit] === 0) continue;
      let to = next[state]?.get(unit);
      while (to === undefined && state !== 0) {
        state = failOf[state] ?? 0;
        to = next[state]?.get(unit);
      }
      state = to ?? 0;
      const length = longest[state] ?? 0;
      if (length === 0) continue;
      // Every shorter value ending here lies inside this span; earlier spans it reaches merge in.
      let start = i + 1 - length;
      const end = i + 1;
      for (let top = merged.at(-1); top !== undefined && top[1] >= start; top = merged.at(-1)) {
        start = Math.min(start, top[0]);
        merged.pop();
      }
      merged.push([start, end]);
    }
    return merged;
  }

  #insert(value: string): void {
    if (value === "") return;
    this.#starts[value.charCodeAt(0)] = 1;
    let state = 0;
    for (let i = 0; i < value.length; i += 1) {
      const unit = value.charCodeAt(i);
      const transitions = this.#next[state] as Map<number, number>;
      let to = transitions.get(unit);
      if (to === undefined) {
        to = this.#next.length;
        this.#next.push(new Map());
        this.#fail.push(0);
        this.#longest.push(0);
        transitions.set(unit, to);
      }
      state = to;
    }
    this.#longest[state] = value.length;
  }

  /** Failure links, breadth first; each state's longest value includes its suffixes'. */
  #link(): void {
    const queue: number[] = [];
    for (const child of (this.#next[0] as Map<number, number>).values()) queue.push(child);
    for (let head = 0; head < queue.length; head += 1) {
      const state = queue[head] as number;
      for (const [unit, child] of this.#next[state] as Map<number, number>) {
        let fallback = this.#fail[state] as number;
        while (fallback !== 0 && !this.#next[fallback]?.has(unit)) fallback = this.#fail[fallback] as number;
        const target = this.#next[fallback]?.get(unit);
        const fail = target !== undefined && target !== child ? target : 0;
        this.#fail[child] = fail;
        // A value ending at the child itself is the longest; else the longest of its suffix.
        if (this.#longest[child] === 0) this.#longest[child] = this.#longest[fail] ?? 0;
        queue.push(child);
      }
    }
  }
}
