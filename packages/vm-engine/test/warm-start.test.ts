import { describe, expect, it } from "vitest";
import { generateEphemeralKeyPair } from "../src/ssh/ssh-keys.ts";
import { buildQemuArgs } from "../src/vm/qemu-command.ts";
import { keyBlob, keySwapCommand, renderKeySwapScript } from "../src/warm/guest-key-swap.ts";
import { type TemplateFacts, templateId } from "../src/warm/template-identity.ts";

// The pure parts of warm starts: the restore's command line, the guest-side key swap script and
// the template identity. The real restore is proven in warm-start.vm.test.ts.

const facts: TemplateFacts = {
  label: "fast",
  files: [{ path: "/img/disk.qcow2", size: 10, mtimeMs: 1, ino: 2 }],
  format: "qcow2",
  append: "console=ttyS0",
  cpu: 1,
  ramMb: 512,
  diskGb: 1,
  accel: "auto",
  sshUser: "root",
  settle: "true",
  qemu: "QEMU emulator version 7.2.22",
};

describe("templateId", () => {
  it("is stable for the same facts and changes with any of them", () => {
    expect(templateId(facts)).toMatch(/^[0-9a-f]{16}$/);
    expect(templateId({ ...facts })).toBe(templateId(facts));
    const variants: TemplateFacts[] = [
      { ...facts, files: [{ path: "/img/disk.qcow2", size: 10, mtimeMs: 2, ino: 2 }] },
      { ...facts, ramMb: 1024 },
      { ...facts, diskGb: 2 },
      { ...facts, qemu: "QEMU emulator version 8.0.0" },
      { ...facts, settle: "cloud-init status --wait" },
      { ...facts, append: "console=ttyS0 quiet" },
    ];
    for (const variant of variants) expect(templateId(variant)).not.toBe(templateId(facts));
  });
});

describe("buildQemuArgs with -incoming", () => {
  it("adds -incoming last and keeps every other option as for a cold boot", () => {
    const spec = {
      name: "job-1",
      accel: "tcg" as const,
      cpu: 1,
      ramMb: 512,
      overlayPath: "/s/job-1/overlay.qcow2",
      seedPath: "/s/templates/t/seed.iso",
      qmpSocket: "/s/job-1/qmp.sock",
      consoleSocket: "/s/job-1/console.sock",
      pidFile: "/s/job-1/qemu.pid",
      sshPort: 10050,
      paused: true,
    };
    const cold = buildQemuArgs(spec);
    const warm = buildQemuArgs({ ...spec, incoming: "exec:cat '/s/templates/t/state'" });
    expect(warm.slice(0, cold.length)).toEqual(cold);
    expect(warm.slice(cold.length)).toEqual(["-incoming", "exec:cat '/s/templates/t/state'"]);
  });
});

describe("renderKeySwapScript", () => {
  const template = generateEphemeralKeyPair("solstice-template-x");
  const job = generateEphemeralKeyPair("solstice-job-1");
  const input = {
    templatePublicKey: template.publicKey,
    jobPublicKey: job.publicKey,
    hostname: "job-1",
    nowMs: 1_700_000_000_123,
    jobFile: "repo_url: git://h/r\ncommit_sha: abc\nrequest_id: it's\n",
    entropyHex: "00ff",
  };

  it("replaces the template key's blob by the job key's, checks both, sets clock, host name and job file", () => {
    const script = renderKeySwapScript(input);
    expect(script).toContain(`tpl='${keyBlob(template.publicKey)}'`);
    expect(script).toContain(`job='${keyBlob(job.publicKey)}'`);
    expect(script).toContain('sed -i "s#$tpl#$job#g" "$f"');
    expect(script).toContain("exit 3");
    expect(script).toContain("exit 4");
    expect(script).toContain('date -u -s "@1700000000"');
    expect(script).toContain("hostname 'job-1'");
    expect(script).toContain(
      `printf '%s' 'repo_url: git://h/r\ncommit_sha: abc\nrequest_id: it'\\''s\n' >/etc/solstice/job.yaml`,
    );
    // No private key material in what is sent to the guest.
    expect(script).not.toContain("PRIVATE");
  });

  it("refuses what could break out of the script", () => {
    expect(() => renderKeySwapScript({ ...input, hostname: "a;reboot" })).toThrow(TypeError);
    expect(() => renderKeySwapScript({ ...input, entropyHex: "zz" })).toThrow(TypeError);
    expect(() => renderKeySwapScript({ ...input, jobPublicKey: "ssh-ed25519 not#base64" })).toThrow(
      TypeError,
    );
  });

  it("runs as root: directly for root, through sudo -n for another user", () => {
    expect(keySwapCommand("root")).toBe('sh -s -- "$HOME"');
    expect(keySwapCommand("debian")).toBe('sudo -n sh -s -- "$HOME"');
  });
});
