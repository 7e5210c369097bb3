import { describe, expect, it } from "vitest";
import {
  etaSeconds,
  type FetchProgress,
  formatBytes,
  formatDuration,
  formatProgress,
  logProgress,
  RateMeter,
  terminalProgress,
} from "../src/images/fetch-progress.ts";

const report = (overrides: Partial<FetchProgress> = {}): FetchProgress => ({
  label: "ubuntu-24.04",
  source: "https://example.org/u.img",
  bytes: 300 * 1024 * 1024,
  total: 600 * 1024 * 1024,
  written: 300 * 1024 * 1024,
  bytesPerSecond: 25 * 1024 * 1024,
  etaSeconds: 12,
  elapsedSeconds: 12,
  done: false,
  ...overrides,
});

describe("formatting", () => {
  it("formats bytes and durations for people", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.0 GiB");
    expect(formatDuration(42)).toBe("42s");
    expect(formatDuration(187)).toBe("3m07s");
    expect(formatDuration(3720)).toBe("1h02m");
  });

  it("formats a progress line with size, percentage, rate and ETA", () => {
    expect(formatProgress(report())).toBe("ubuntu-24.04: 300.0 MiB / 600.0 MiB (50%) at 25.0 MiB/s, ETA 12s");
    expect(formatProgress(report({ total: undefined, etaSeconds: undefined }))).toBe(
      "ubuntu-24.04: 300.0 MiB at 25.0 MiB/s",
    );
    expect(formatProgress(report({ done: true, written: 900 * 1024 * 1024 }))).toBe(
      "ubuntu-24.04: fetched 300.0 MiB, 900.0 MiB on disk in 12s",
    );
  });
});

describe("RateMeter and ETA", () => {
  it("averages over the first window, then follows the recent rate", () => {
    const meter = new RateMeter(0, 1000);
    expect(meter.update(1000, 500)).toBe(2000);
    expect(meter.update(2000, 1000)).toBe(2000);
    // The rate drops to zero: the estimate decays towards it instead of staying at the average.
    let rate = 0;
    for (let t = 2000; t <= 10_000; t += 1000) rate = meter.update(2000, t);
    expect(rate).toBeLessThan(10);
    expect(meter.elapsedSeconds(10_000)).toBe(10);
  });

  it("computes the ETA only when it can", () => {
    expect(etaSeconds(50, 150, 10)).toBe(10);
    expect(etaSeconds(50, undefined, 10)).toBeUndefined();
    expect(etaSeconds(50, 150, 0)).toBeUndefined();
  });
});

describe("renderers", () => {
  it("redraws one terminal line on a TTY and ends it when done", () => {
    const writes: string[] = [];
    const render = terminalProgress({ isTTY: true, columns: 200, write: (text) => writes.push(text) > 0 }, 0);
    render(report());
    render(report({ done: true }));
    expect(writes[0]).toBe(`\r${formatProgress(report())}\x1b[K`);
    expect(writes[1]!.endsWith("\x1b[K\n")).toBe(true);
  });

  it("truncates to the terminal width", () => {
    const writes: string[] = [];
    const render = terminalProgress({ isTTY: true, columns: 30, write: (text) => writes.push(text) > 0 }, 0);
    render(report());
    expect(writes[0]).toBe(`\r${formatProgress(report()).slice(0, 29)}\x1b[K`);
  });

  it("writes plain lines, throttled, when the stream is not a TTY", () => {
    const writes: string[] = [];
    const render = terminalProgress({ isTTY: false, write: (text) => writes.push(text) > 0 });
    render(report());
    render(report()); // within 5 s: dropped
    render(report({ done: true })); // the final line always goes out
    expect(writes).toEqual([`${formatProgress(report())}\n`, `${formatProgress(report({ done: true }))}\n`]);
  });

  it("logs structured fields, throttled, and always the final report", () => {
    const lines: Array<[Record<string, unknown>, string]> = [];
    const render = logProgress({ info: (fields, message) => lines.push([fields, message]) }, 60_000);
    render(report());
    render(report());
    render(report({ done: true }));
    expect(lines.map(([, message]) => message)).toEqual(["fetching image", "image fetched"]);
    expect(lines[0]![0]).toMatchObject({ label: "ubuntu-24.04", bytes: 300 * 1024 * 1024, eta_seconds: 12 });
  });
});
