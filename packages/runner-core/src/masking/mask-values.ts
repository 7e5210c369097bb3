// The values a runner masks in every log line it sends to the forge: the job's secrets and
// tokens as given, and, for tokens, the forms in which a log can leak them too: base64 of the
// token and of `x-access-token:<token>` (what git's Basic authentication and many tools print).
// The orchestrator masks the same values at the source; this is the runner's own line of defence.

/** The base64 forms of a token as logs show them (padded and unpadded). */
export function base64Forms(token: string): string[] {
  const forms = new Set<string>();
  for (const text of [token, `x-access-token:${token}`]) {
    const encoded = Buffer.from(text, "utf8").toString("base64");
    forms.add(encoded);
    forms.add(encoded.replace(/=+$/, ""));
  }
  return [...forms];
}

/**
 * Every value to mask: `secrets` as they are, `tokens` as they are and in their base64 forms;
 * duplicates and empty values dropped (the masker decides how short a value it masks).
 */
export function maskValues(secrets: Iterable<string>, tokens: Iterable<string> = []): string[] {
  const out = new Set<string>();
  for (const value of secrets) if (value !== "") out.add(value);
  for (const token of tokens) {
    if (token === "") continue;
    out.add(token);
    for (const form of base64Forms(token)) out.add(form);
  }
  return [...out];
}
