/**
 * Exits with `code` once stdout and stderr have handed everything written so far to the OS.
 * `process.exit` right after writing loses output when stdout is a pipe whose reader is slower
 * than the writer (`ciadm logs | wc -l`): Node writes to pipes asynchronously.
 */
export async function exitWhenDrained(
  code: number,
  streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr],
): Promise<never> {
  await Promise.all(
    streams.map(
      (stream) =>
        new Promise<void>((resolve) => {
          // An empty write calls back once every earlier write has been flushed.
          if (stream.destroyed || !stream.writable) resolve();
          else stream.write("", () => resolve());
        }),
    ),
  );
  process.exit(code);
}
