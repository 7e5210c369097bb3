import { rm } from "node:fs/promises";
import { Writable } from "node:stream";
import { parseRunnerLabels } from "@solstice/runner-core";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerRunner } from "../src/cli/register-command.ts";
import { AlreadyRegisteredError } from "../src/errors.ts";
import { readRunnerState } from "../src/state/runner-state.ts";
import { ForgejoRig, LABEL } from "./forgejo-support.ts";

// Registration and credentials against the Forgejo protocol test server (no VM): a bad
// registration token is refused clearly, re-registering is explicit, and a runner whose token is
// revoked says so once and keeps polling slowly instead of crashing in a loop.

let rig: ForgejoRig;
beforeAll(async () => {
  rig = await ForgejoRig.start("auth", { withOrchestrator: false });
});
afterAll(async () => {
  await rig?.stop();
});

function quietContext() {
  const out: string[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _e, done) => {
      out.push(chunk.toString());
      done();
    },
  });
  return {
    ctx: { stdout: sink, stderr: sink, env: {}, cwd: rig.dir, action: () => async () => undefined },
    out,
  };
}

describe("solstice-forgejo-runner register", () => {
  it("refuses a bad registration token with a clear error and writes no state", async () => {
    const { ctx } = quietContext();
    const attempt = registerRunner(ctx, {
      instance: rig.server.url,
      token: "not-a-token",
      name: "bad",
      labels: parseRunnerLabels([LABEL]),
      stateFile: `${rig.stateFile}.bad`,
      force: false,
    });
    await expect(attempt).rejects.toThrow(
      /registration refused by http:\/\/127\.0\.0\.1:\d+: Forgejo Register: /,
    );
    await expect(attempt).rejects.toMatchObject({ hint: expect.stringContaining("registration token") });
    await expect(readRunnerState(`${rig.stateFile}.bad`)).rejects.toThrow(/no such file/);
    expect(rig.server.runners()).toHaveLength(0);
  });

  it("registers, stores uuid and token, and re-registers only with --force", async () => {
    await rig.register();
    const state = await readRunnerState(rig.stateFile);
    const [runner] = rig.server.runners();
    expect(state).toMatchObject({ uuid: runner?.uuid, token: runner?.token, name: "solstice-test" });
    expect(state.labels).toEqual([LABEL, "fast"]);
    const { ctx } = quietContext();
    await expect(
      registerRunner(ctx, {
        instance: rig.server.url,
        token: rig.server.createRegistrationToken(),
        name: "again",
        labels: parseRunnerLabels([LABEL]),
        stateFile: rig.stateFile,
        force: false,
      }),
    ).rejects.toBeInstanceOf(AlreadyRegisteredError);
  });
});

describe("solstice-forgejo-runner daemon", () => {
  it("declares its labels, then on a revoked token says so clearly and polls slowly without crashing", async () => {
    const daemon = await rig.startDaemon({ authRetryMs: 1000 });
    const uuid = (await readRunnerState(rig.stateFile)).uuid;
    await eventually("the labels declared", () => rig.server.runners()[0]?.declared !== undefined, 10_000);
    expect(rig.server.runners()[0]?.declared?.labels).toEqual([LABEL, "fast"]);
    await eventually(
      "a few fetches",
      () => rig.server.calls.filter((c) => c.procedure === "FetchTask").length >= 2,
      10_000,
    );

    rig.server.revokeRunner(uuid);
    await eventually("the poller to notice", () => daemon.poller.health === "unauthorized", 10_000);
    const refusedAt = rig.server.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const refused = rig.server.calls.slice(refusedAt).filter((c) => c.procedure === "FetchTask");
    // authRetryMs 1000: about two more attempts in 2.5 s, not hundreds.
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(4);
    expect(refused.every((c) => c.code === "Unauthenticated")).toBe(true);
    const said = rig.log.lines.filter((l) => String(l["msg"]).includes("refused this runner's credentials"));
    expect(said).toHaveLength(1);
    expect(JSON.stringify(said[0])).toContain("register it again");
    await daemon.stop();
    rig.daemon = undefined;
    await rm(`${rig.stateFile}.tasks`, { recursive: true, force: true });
  });
});
