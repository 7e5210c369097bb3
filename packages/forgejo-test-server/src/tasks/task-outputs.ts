import type { TaskEntry } from "./task-record.ts";

// Forgejo's UpdateTask output handling (routers/api/actions/runner/runner.go): a key longer than
// 255 bytes or a value longer than 1 MiB is ignored; a key already stored keeps its first value
// (InsertTaskOutputIfNotExist); the answer's sent_outputs lists every stored key, so the runner
// resends only what is missing. Outputs are taken even after the task finished.

/** The longest output key Forgejo stores, in bytes. */
export const MAX_OUTPUT_KEY_BYTES = 255;
/** The longest output value Forgejo stores, in bytes. */
export const MAX_OUTPUT_VALUE_BYTES = 1024 * 1024;

/** Stores the outputs a runner sent; returns every stored key (UpdateTaskResponse.sent_outputs). */
export function storeOutputs(task: TaskEntry, outputs: Readonly<Record<string, string>>): string[] {
  for (const [key, value] of Object.entries(outputs)) {
    if (Buffer.byteLength(key) > MAX_OUTPUT_KEY_BYTES) continue;
    if (Buffer.byteLength(value) > MAX_OUTPUT_VALUE_BYTES) continue;
    if (!Object.hasOwn(task.outputs, key)) task.outputs[key] = value;
  }
  return Object.keys(task.outputs);
}
