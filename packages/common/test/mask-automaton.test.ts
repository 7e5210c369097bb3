import { describe, expect, it } from "vitest";
import { LogMasker } from "../src/actions/log-masker.ts";
import { FEW_VALUES, MaskAutomaton, spansOf } from "../src/actions/mask-automaton.ts";

// The one-pass search must cover exactly what searching each value on its own covers: every
// occurrence, overlapping and adjacent ones merged.

/** The reference: every occurrence of every value, merged. */
function bruteSpans(text: string, values: readonly string[]): [number, number][] {
  const covered = new Array<boolean>(text.length).fill(false);
  const boundaries = new Set<number>();
  for (const value of values) {
    if (value === "") continue;
    for (let at = 0; at + value.length <= text.length; at += 1) {
      if (text.startsWith(value, at)) {
        for (let i = at; i < at + value.length; i += 1) covered[i] = true;
        boundaries.add(at + value.length);
      }
    }
  }
  const spans: [number, number][] = [];
  for (let i = 0; i < text.length; i += 1) {
    if (!covered[i]) continue;
    const last = spans.at(-1);
    if (last !== undefined && last[1] === i) last[1] = i + 1;
    else spans.push([i, i + 1]);
  }
  return spans;
}

/** A small deterministic generator (tests must not depend on Math.random's luck). */
function generator(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

describe("MaskAutomaton", () => {
  it("finds overlapping, nested, adjacent and repeated values as one-by-one search does", () => {
    const automaton = new MaskAutomaton(["abc", "bcd", "c", "abcdef", "ff", "xyz"]);
    const text = "zabcdeffxyzxyz--c-abcabc";
    expect(automaton.spans(text)).toEqual(bruteSpans(text, ["abc", "bcd", "c", "abcdef", "ff", "xyz"]));
    expect(automaton.spans(text)).toEqual([
      [1, 14],
      [16, 17],
      [18, 24],
    ]);
    expect(new MaskAutomaton([]).spans("anything")).toEqual([]);
  });

  it("agrees with the reference on random values and texts over a small alphabet", () => {
    const next = generator(19);
    const word = (max: number) => Array.from({ length: 1 + next(max) }, () => "abcé"[next(4)]).join("");
    for (let round = 0; round < 300; round += 1) {
      const values = Array.from({ length: 1 + next(40) }, () => word(5));
      const text = word(60);
      const expected = bruteSpans(text, values);
      expect(new MaskAutomaton(values).spans(text)).toEqual(expected);
      expect(spansOf(text, values, () => new MaskAutomaton(values))).toEqual(expected);
    }
  });

  it("is what LogMasker uses with many values: the same masked line as with a few", () => {
    const many = Array.from({ length: FEW_VALUES * 4 }, (_, i) => `secret-${i}-value`);
    const masker = new LogMasker(many);
    const line = `a secret-3-value and secret-63-valuesecret-10-value, not secret-x`;
    expect(masker.mask(line)).toBe("a *** and ***, not secret-x");
    const few = new LogMasker(["secret-3-value", "secret-63-value", "secret-10-value"]);
    expect(few.mask(line)).toBe(masker.mask(line));
  });
});
