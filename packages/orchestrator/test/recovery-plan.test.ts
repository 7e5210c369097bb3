import type { ProcessStatus } from "@solstice/vm-engine";
import { describe, expect, test } from "vitest";
import type { JobRecord, VmRecord } from "../src/persistence/job-records.ts";
import { planRecovery, RESTART_REASON, type RecoveryInput } from "../src/recovery/recovery-plan.ts";

const at = new Date("2026-03-01T12:00:00Z");

function job(id: string, fields: Partial<JobRecord> = {}): JobRecord {
  return {
    requestId: id,
    source: "forgejo",
    repoUrl: "https://code.example.org/acme/app.git",
    commitSha: "0123456789abcdef0123456789abcdef01234567",
    runsOn: "ubuntu",
    label: "ubuntu-24.04",
    state: "running",
    conclusion: null,
    reason: null,
    hostId: "host-a",
    owner: null,
    request: {},
    requeueable: true,
    stepsStarted: false,
    attempt: 1,
    receivedAt: at,
    startedAt: at,
    finishedAt: null,
    updatedAt: at,
    ...fields,
  };
}

function vm(name: string, fields: Partial<VmRecord> = {}): VmRecord {
  return {
    vmName: name,
    requestId: "r",
    hostId: "host-a",
    state: "running",
    sshPort: 10022,
    pid: null,
    workDir: `/var/lib/solstice/vms/${name}`,
    overlayPath: null,
    seedPath: null,
    debugUntil: null,
    createdAt: at,
    updatedAt: at,
    destroyedAt: null,
    ...fields,
  };
}

function input(fields: Partial<RecoveryInput>): RecoveryInput {
  return { vms: [], processes: new Map(), jobs: [], ...fields };
}

describe("planRecovery: jobs", () => {
  test.each([
    ["running, steps started", { stepsStarted: true }, "fail", "its steps had started"],
    ["running, before any step", {}, "requeue", undefined],
    ["accepted, never ran", { state: "accepted", startedAt: null }, "requeue", undefined],
    [
      "request had secrets",
      { requeueable: false },
      "fail",
      "its request carried secrets, which are not stored",
    ],
    [
      "accepted with secrets",
      { state: "accepted", requeueable: false },
      "fail",
      "its request carried secrets, which are not stored",
    ],
    ["third attempt", { attempt: 3 }, "fail", "it was already started 3 times"],
    ["second attempt", { attempt: 2 }, "requeue", undefined],
  ] as const)("%s → %s", (_name, fields, decision, why) => {
    const plan = planRecovery(input({ jobs: [job("j", fields)] }));
    if (decision === "requeue") {
      expect(plan.requeueJobs).toEqual(["j"]);
      expect(plan.failJobs).toEqual([]);
    } else {
      expect(plan.requeueJobs).toEqual([]);
      expect(plan.failJobs).toEqual([{ requestId: "j", reason: RESTART_REASON, why }]);
    }
  });

  test("the reason is the one the issue names", () => {
    expect(RESTART_REASON).toBe("orchestrator restarted");
  });

  test("maxAttempts is configurable", () => {
    expect(planRecovery(input({ jobs: [job("j", { attempt: 4 })], maxAttempts: 5 })).requeueJobs).toEqual([
      "j",
    ]);
    expect(planRecovery(input({ jobs: [job("j", { attempt: 1 })], maxAttempts: 1 })).requeueJobs).toEqual([]);
  });

  test("finished jobs are left alone; every unfinished job is settled", () => {
    const jobs = [
      job("a", { stepsStarted: true }),
      job("b", { state: "finished", conclusion: "success" }),
      job("c"),
      job("d", { state: "accepted" }),
    ];
    const plan = planRecovery(input({ jobs }));
    expect(plan.failJobs.map((f) => f.requestId)).toEqual(["a"]);
    expect(plan.requeueJobs).toEqual(["c", "d"]);
  });
});

describe("planRecovery: VMs and processes", () => {
  test.each<[string, number | null, ProcessStatus | undefined, boolean, boolean]>([
    // name, pid, status, killed, noted
    ["QEMU still ours", 100, "ours", true, false],
    ["QEMU gone", 100, "gone", false, false],
    ["pid reused by another program", 100, "foreign", false, true],
    ["never started (no pid)", null, undefined, false, false],
    ["pid not probed", 100, undefined, false, false],
  ])("%s", (_name, pid, status, killed, noted) => {
    const processes = new Map<string, ProcessStatus>(status === undefined ? [] : [["vm1", status]]);
    const plan = planRecovery(input({ vms: [vm("vm1", { pid })], processes }));
    expect(plan.kill).toEqual(killed ? [{ pid, vmName: "vm1" }] : []);
    expect(plan.notes).toHaveLength(noted ? 1 : 0);
    if (noted) expect(plan.notes[0]).toMatch(/vm1: pid 100 now belongs to another program/);
    // Whatever the process, the VM cannot be used again: its directory goes and it is destroyed.
    expect(plan.removeWorkDirs).toEqual(["/var/lib/solstice/vms/vm1"]);
    expect(plan.markVmsDestroyed).toEqual(["vm1"]);
  });

  test("QEMU processes found under the VM directory are killed once, recorded or not", () => {
    const plan = planRecovery(
      input({
        vms: [vm("vm1", { pid: 100 }), vm("vm2", { pid: 200, state: "debug_hold" })],
        processes: new Map<string, ProcessStatus>([
          ["vm1", "ours"],
          ["vm2", "ours"],
        ]),
        qemuProcesses: [{ pid: 300 }, { pid: 100 }, { pid: 200 }],
      }),
    );
    expect(plan.kill).toEqual([
      { pid: 100, vmName: "vm1" },
      { pid: 200, vmName: "vm2" },
      { pid: 300, vmName: null },
    ]);
    expect(plan.markVmsDestroyed).toEqual(["vm1", "vm2"]);
  });

  test("stray work directories on disk are removed with the recorded ones, each once", () => {
    const plan = planRecovery(
      input({
        vms: [vm("vm1"), vm("vm2", { state: "preparing" })],
        workDirsOnDisk: ["/var/lib/solstice/vms/vm1", "/var/lib/solstice/vms/orphan"],
      }),
    );
    expect(plan.removeWorkDirs).toEqual([
      "/var/lib/solstice/vms/orphan",
      "/var/lib/solstice/vms/vm1",
      "/var/lib/solstice/vms/vm2",
    ]);
  });

  test("nothing left behind: an empty plan", () => {
    expect(planRecovery(input({}))).toEqual({
      kill: [],
      removeWorkDirs: [],
      markVmsDestroyed: [],
      failJobs: [],
      requeueJobs: [],
      notes: [],
    });
  });
});
