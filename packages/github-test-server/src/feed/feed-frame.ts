import { z } from "zod";

// A live console feed frame, as the runner's ResultsServer writes it: a
// TimelineRecordFeedLinesWrapper serialized with the runner's JSON settings, so camelCase —
// `{"count": 2, "value": ["line", …], "stepId": "<guid>", "startLine": 1}` (`startLine` may be
// absent). PascalCase keys are a mistake the server refuses (it records why).

const Frame = z.object({
  count: z.number().int().nonnegative(),
  value: z.array(z.string()),
  stepId: z.string().regex(/^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/, "expected a GUID"),
  startLine: z.number().int().optional(),
});

/** A frame read. */
export interface FeedFrame {
  readonly stepId: string;
  readonly lines: readonly string[];
  readonly startLine: number | undefined;
}

export type FeedFrameParse =
  | { readonly ok: true; readonly frame: FeedFrame }
  | { readonly ok: false; readonly reason: string };

/** Reads one frame's text. */
export function parseFeedFrame(text: string): FeedFrameParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the frame is not JSON" };
  }
  const result = Frame.safeParse(value);
  if (!result.success) {
    const keys = typeof value === "object" && value !== null ? Object.keys(value) : [];
    const pascal = keys.some((k) => ["Count", "Value", "StepId", "StartLine"].includes(k));
    const problems = result.error.issues
      .map((i) => `${i.path.join(".") || "(frame)"}: ${i.message}`)
      .join("; ");
    return {
      ok: false,
      reason: pascal ? `keys must be camelCase (count, value, stepId, startLine): ${problems}` : problems,
    };
  }
  const frame = result.data;
  if (frame.count !== frame.value.length) {
    return {
      ok: false,
      reason: `count ${frame.count} does not match the ${frame.value.length} lines in value`,
    };
  }
  return {
    ok: true,
    frame: { stepId: frame.stepId.toLowerCase(), lines: frame.value, startLine: frame.startLine },
  };
}
