/** What replaces a secret in logs, events and stored text. */
export const MASK = "***";
