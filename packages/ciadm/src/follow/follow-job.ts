import type { LogEnd } from "@solstice/common";
import type { OrchestratorClient } from "../api/orchestrator-client.ts";
import { LogText } from "../output/job-text.ts";

/**
 * Waits until an orchestrator has recorded the job (a published request may wait in the queue),
 * then prints its log live until it finishes; resolves to how it ended.
 */
export async function followJob(
  api: OrchestratorClient,
  id: string,
  out: NodeJS.WritableStream,
  note: (line: string) => void,
  options: { pollMs?: number } = {},
): Promise<LogEnd> {
  let job = await api.findJob(id);
  if (job === undefined) {
    note(`waiting for an orchestrator to take job ${id}…`);
    while (job === undefined) {
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
      job = await api.findJob(id);
    }
  }
  const text = new LogText(job.request?.steps ?? []);
  return api.followLogs(id, (line) => out.write(text.line(line)));
}
