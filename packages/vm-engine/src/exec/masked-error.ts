// An error that ends a job leaves the engine (in `JobRunResult.error`, in the engine's log) only
// masked: its message may quote a step's command (a secret in it) or the repository URL (a token
// in it), and its fields repeat them (a checkout error's `repoUrl` and output lines).

/** How deep causes are followed (a cause chain is short; a cycle must not loop). */
const MAX_DEPTH = 8;

/**
 * `error` with `mask` applied to its message, its stack, the text of its own fields (strings and
 * arrays of strings) and its causes. The error itself when nothing changes; otherwise a copy of
 * the same class with the same fields (its `code`, `hint` and the like), masked.
 *
 * @example
 *   maskError(new WorkspaceCheckoutError({ repoUrl: "https://u:tok@h/r", ... }), redactUrlCredentials).repoUrl
 *   // "https://***@h/r"
 */
export function maskError<E extends Error>(error: E, mask: (text: string) => string): E {
  return maskErrorAt(error, mask, 0);
}

function maskErrorAt<E extends Error>(error: E, mask: (text: string) => string, depth: number): E {
  const changed = new Map<string, unknown>();
  for (const key of Object.getOwnPropertyNames(error)) {
    const value: unknown = Reflect.get(error, key);
    const masked = maskValue(value, mask, depth);
    if (masked !== value) changed.set(key, masked);
  }
  if (changed.size === 0) return error;
  const copy: E = Object.create(Object.getPrototypeOf(error));
  for (const key of Object.getOwnPropertyNames(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key);
    if (descriptor === undefined) continue;
    if (changed.has(key)) {
      // A plain value (V8's `stack` is an accessor on the instance).
      Object.defineProperty(copy, key, {
        value: changed.get(key),
        writable: true,
        enumerable: descriptor.enumerable ?? false,
        configurable: true,
      });
    } else {
      Object.defineProperty(copy, key, descriptor);
    }
  }
  return copy;
}

function maskValue(value: unknown, mask: (text: string) => string, depth: number): unknown {
  if (typeof value === "string") return mask(value);
  if (value instanceof Error) return depth >= MAX_DEPTH ? value : maskErrorAt(value, mask, depth + 1);
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    const masked = value.map((item: string) => mask(item));
    return masked.every((item, i) => item === value[i]) ? value : masked;
  }
  return value;
}
