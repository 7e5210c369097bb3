import type { AgentJobRequestMessage } from "./job-message.ts";
import { variable } from "./job-message.ts";

// What must never reach a log of this job, as the reference runner's worker registers it
// (Worker.InitializeSecretMasker, HostContext's value encoders): every secret variable (whole
// and line by line; ACTIONS_STEP_DEBUG and ACTIONS_RUNNER_DEBUG excepted), every endpoint
// authorization parameter (the job's AccessToken), the mask hints (regular expressions; their
// text too), and the base64 forms of all of these — also shifted by one and two bytes, because
// a secret inside `base64(user:secret)` starts at any byte offset — plus
// base64(`x-access-token:<github token>`), the header actions/checkout sends.

const NOT_MASKED = new Set(["actions_step_debug", "actions_runner_debug"]);

/**
 * The base64 forms of `value`: of its bytes, and of them without the first one and two bytes
 * (ValueEncoders.Base64StringEscape*), each also cut to the characters that do not depend on
 * what follows (8 characters or more), so that the value is found inside a longer encoding.
 *
 * @example
 *   base64Forms("hunter22"); // ["aHVudGVyMjI=", "aHVudGVyMj", "dW50ZXIyMg==", …]
 */
export function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const out = new Set<string>();
  for (const shift of [0, 1, 2]) {
    const part = bytes.length > shift ? bytes.subarray(shift) : bytes;
    const encoded = part.toString("base64");
    out.add(encoded);
    const stable = encoded.slice(0, Math.floor((part.length * 8) / 6));
    if (stable.length >= 8) out.add(stable);
  }
  return [...out];
}

/** The values (and regular expressions) to mask in this job's logs. */
export interface JobMasks {
  readonly values: readonly string[];
  /** Mask hints of type regex, as JavaScript regular expression sources. */
  readonly patterns: readonly string[];
}

/** The job's masks. */
export function jobMasks(message: AgentJobRequestMessage): JobMasks {
  const secrets: string[] = [];
  for (const [name, v] of Object.entries(message.variables)) {
    if (!v.isSecret || NOT_MASKED.has(name.toLowerCase())) continue;
    const value = (v.value ?? "").trim();
    if (value === "") continue;
    secrets.push(value, ...value.split(/[\r\n]+/).map((l) => l.trim()));
  }
  for (const endpoint of message.resources.endpoints) {
    for (const value of Object.values(endpoint.authorization?.parameters ?? {})) {
      if (value !== null && value !== "") secrets.push(value);
    }
  }
  const patterns: string[] = [];
  for (const hint of message.mask ?? []) {
    const isRegex = hint.type === 1 || String(hint.type).toLowerCase() === "regex";
    if (!isRegex || hint.value === "") continue;
    patterns.push(hint.value);
    secrets.push(hint.value);
  }
  const token = variable(message, "system.github.token");
  const values = new Set<string>();
  for (const secret of secrets) {
    if (secret === "") continue;
    values.add(secret);
    for (const form of base64Forms(secret)) values.add(form);
  }
  if (token !== undefined && token !== "") {
    for (const form of base64Forms(`x-access-token:${token}`)) values.add(form);
  }
  return { values: [...values], patterns: patterns.filter(isValidPattern) };
}

function isValidPattern(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
