import type { FleetView } from "@solstice/common";
import { describe, expect, test } from "vitest";
import { formatAge, formatFleet, labelsText } from "../src/output/fleet-text.ts";

// `ciadm fleet`'s text from fixed GET /v1/fleet answers.

const host = (id: string, state: string, labels: Record<string, number>, ageSecs: number) => ({
  host_id: id,
  state,
  labels,
  capacity: 4,
  running_jobs: state === "up" ? 2 : 0,
  version: "0.1.0",
  started_at: "2026-03-01T11:00:00.000Z",
  last_seen: "2026-03-01T12:00:00.000Z",
  last_seen_secs: ageSecs,
  heartbeat_secs: 15,
  draining_since: null,
});

const VIEW: FleetView = {
  checked_at: "2026-03-01T12:00:04.000Z",
  host_id: "alpha",
  hosts: [
    host("alpha", "up", { "ubuntu-24.04": 2, "omnios-bloody": 1 }, 4),
    host("beta", "stale", { "omnios-bloody": 2 }, 125),
    host("gamma", "stopped", {}, 90_000),
  ],
  queues: [
    {
      label: "omnios-bloody",
      queue: "solstice.jobs.v1.label.omnios-bloody",
      messages: 7,
      consumers: 1,
      hosts: ["alpha"],
    },
    {
      label: "ubuntu-24.04",
      queue: "solstice.jobs.v1.label.ubuntu-24.04",
      messages: 0,
      consumers: 0,
      hosts: [],
    },
  ],
  missing_queues: ["freebsd-14"],
  original: { queue: "solstice.jobs.v1", messages: 2, consumers: 1 },
  dead_letters: { queue: "solstice.jobs.v1.dlq", messages: 1, consumers: 0 },
  queue_error: null,
};

describe("ciadm fleet text", () => {
  test("ages are short and exact to the shown unit", () => {
    expect([0, 4, 59, 60, 125, 3_599, 3_600, 11_220, 86_399, 90_000, 1_000_000].map(formatAge)).toEqual([
      "0s",
      "4s",
      "59s",
      "1m00s",
      "2m05s",
      "59m59s",
      "1h00m",
      "3h07m",
      "23h59m",
      "1d01h",
      "11d13h",
    ]);
    expect(formatAge(-3)).toBe("0s");
  });

  test("labels with their capacity, sorted", () => {
    expect(labelsText({ labels: { b: 1, a: 2 } })).toBe("a=2, b=1");
    expect(labelsText({ labels: {} })).toBe("-");
  });

  test("hosts, then label queues, then what else waits, then which hosts are stale", () => {
    expect(formatFleet(VIEW)).toBe(
      [
        "HOST   STATE    LABELS (CAPACITY)                CAPACITY  RUNNING  LAST SEEN  VERSION",
        "alpha  up       omnios-bloody=1, ubuntu-24.04=2  4         2        4s ago     0.1.0",
        "beta   stale    omnios-bloody=2                  4         0        2m05s ago  0.1.0",
        "gamma  stopped  -                                4         0        1d01h ago  0.1.0",
        "",
        "LABEL          QUEUED  CONSUMERS  SERVED BY",
        "omnios-bloody  7       1          alpha",
        "ubuntu-24.04   0       0          no host up",
        "",
        "labels with no queue yet: freebsd-14",
        "2 request(s) wait for a router in solstice.jobs.v1",
        "1 dead-lettered request(s) in solstice.jobs.v1.dlq (ciadm dlq list)",
        "",
        "stale: no heartbeat for more than 3 intervals (the host died, or lost the database): beta",
        "",
      ].join("\n"),
    );
  });

  test("without queue depths or hosts it says so", () => {
    const text = formatFleet({
      ...VIEW,
      hosts: [],
      queues: [],
      queue_error: "the broker did not answer within 5000 ms",
    });
    expect(text).toBe(
      "no orchestrator host has recorded itself yet\n\nqueue depths not shown: the broker did not answer within 5000 ms\n",
    );
    expect(
      formatFleet({ ...VIEW, hosts: [], queues: [], missing_queues: [], original: null, dead_letters: null }),
    ).toBe("no orchestrator host has recorded itself yet\n\nno label queue exists yet\n");
  });
});
