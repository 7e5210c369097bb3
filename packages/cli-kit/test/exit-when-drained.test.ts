import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempFiles } from "@solstice/test-support";
import { afterAll, describe, expect, it } from "vitest";

// A CLI's output through a slow pipe: everything written before the exit arrives.

const LINES = 200_000;
const INDEX = join(import.meta.dirname, "..", "src", "index.ts");
const dirs: { remove(): Promise<void> }[] = [];
afterAll(async () => {
  for (const d of dirs) await d.remove();
});

async function bytesThroughSlowPipe(exitCall: string): Promise<number> {
  const dir = await tempFiles({});
  dirs.push(dir);
  const script = join(dir.path, "writer.ts");
  await writeFile(
    script,
    `import { exitWhenDrained } from ${JSON.stringify(INDEX)};\n` +
      `void exitWhenDrained;\n` +
      `for (let i = 0; i < ${LINES}; i++) process.stdout.write("line " + i + "\\n");\n` +
      `${exitCall};\n`,
  );
  const child = spawn(process.execPath, ["--conditions=@solstice/source", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let bytes = 0;
  child.stdout.pause();
  // The reader starts late and reads slowly, like `| wc -l` on a busy machine.
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.stdout.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
  });
  child.stdout.resume();
  await new Promise((resolve) => child.once("close", resolve));
  return bytes;
}

describe("exitWhenDrained", () => {
  it("exits only once stdout has passed on every line written before", async () => {
    let expected = 0;
    for (let i = 0; i < LINES; i++) expected += `line ${i}\n`.length;
    expect(await bytesThroughSlowPipe("await exitWhenDrained(0)")).toBe(expected);
  });

  it("(process.exit alone loses output through the same pipe: the reason it exists)", async () => {
    let expected = 0;
    for (let i = 0; i < LINES; i++) expected += `line ${i}\n`.length;
    expect(await bytesThroughSlowPipe("process.exit(0)")).toBeLessThan(expected);
  });
});
