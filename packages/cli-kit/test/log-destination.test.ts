import { describe, expect, test } from "vitest";
import { humanLogLine, logDestination, logFormatFor } from "../src/log-destination.ts";

// The embedded services' log lines in a CLI: short and human on a terminal, JSON when asked or
// when stderr is not a terminal.

describe("CLI log lines", () => {
  test("the format: LOG_FORMAT, else human on a TTY and JSON otherwise", () => {
    expect(logFormatFor({ isTTY: true }, {})).toBe("human");
    expect(logFormatFor({}, {})).toBe("json");
    expect(logFormatFor({ isTTY: true }, { LOG_FORMAT: "json" })).toBe("json");
    expect(logFormatFor({}, { LOG_FORMAT: "Human" })).toBe("human");
  });

  test("a pino line as a person reads it", () => {
    const kvm = JSON.stringify({
      level: "warn",
      time: "2026-12-04T16:48:45.807Z",
      service: "cidev",
      reason: "/dev/kvm is not usable (ENOENT)",
      msg: "KVM is not usable here: VMs run under TCG (software emulation), many times slower",
    });
    expect(humanLogLine(kvm)).toBe(
      "warning: KVM is not usable here: VMs run under TCG (software emulation), many times slower (/dev/kvm is not usable (ENOENT))\n",
    );
    expect(humanLogLine(JSON.stringify({ level: "error", msg: "boom", err: { message: "disk full" } }))).toBe(
      "error: boom (disk full)\n",
    );
    expect(humanLogLine("not json")).toBe("not json\n");
  });

  test("the destination writes each line, human or unchanged JSON", () => {
    let out = "";
    const stream = {
      write: (text: string) => {
        out += text;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    const line = `${JSON.stringify({ level: "info", msg: "hello" })}\n`;
    logDestination(stream, "human", (t) => `<${t}>`).write(line);
    expect(out).toBe("<info: hello>\n");
    out = "";
    logDestination(stream, "json").write(line);
    expect(out).toBe(line);
  });
});
