import { z } from "zod";

/**
 * An additive optional field: absent, or `null` (what serde writes for `None`), both read as
 * absent, so producers in any language can leave it out either way.
 */
export function optionalField<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? undefined : value), schema.optional());
}
