import { newJobRequest } from "@solstice/common";
import { describe, expect, test } from "vitest";
import {
  KEY_FILTER_START,
  PRIVATE_KEY_REDACTED,
  PUBLIC_KEY_REDACTED,
  redactKeyMaterial,
} from "../src/persistence/key-material-filter.ts";
import { redactJobRequest } from "../src/persistence/redact-request.ts";

const base = { source: "forgejo", repo_url: "https://x/y.git", commit_sha: "abc" } as const;

describe("redactJobRequest", () => {
  test("without mask: the request as it is, requeueable", () => {
    const req = newJobRequest({ ...base, env: { A: "b" }, steps: [{ run: "make" }] });
    const { stored, hadSecrets } = redactJobRequest(req);
    expect(hadSecrets).toBe(false);
    expect(stored).toEqual(JSON.parse(JSON.stringify(req)));
    expect(stored).not.toHaveProperty("mask");
  });

  test("every occurrence of every masked value, in any string, becomes ***", () => {
    const req = newJobRequest({
      ...base,
      env: { TOKEN: "abc-secret", URL: "https://u:abc-secret@host/" },
      steps: [
        {
          name: "use abc-secret",
          run: "echo abc-secret; echo abc-secret-long",
          env: { LONG: "abc-secret-long" },
        },
      ],
      labels: ["abc-secret"],
      mask: ["abc-secret", "abc-secret-long"],
    });
    const { stored, hadSecrets } = redactJobRequest(req);
    expect(hadSecrets).toBe(true);
    expect(stored).not.toHaveProperty("mask");
    expect(stored["env"]).toEqual({ TOKEN: "***", URL: "https://***@host/" });
    // The longer secret is replaced whole, not as "***-long".
    expect(stored["steps"]).toEqual([{ name: "use ***", run: "echo ***; echo ***", env: { LONG: "***" } }]);
    expect(stored["labels"]).toEqual(["***"]);
    expect(JSON.stringify(stored)).not.toContain("abc-secret");
    // The request itself is not changed.
    expect(req.env?.["TOKEN"]).toBe("abc-secret");
  });

  test("a secret used as an env name is replaced too", () => {
    const req = newJobRequest({ ...base, env: { "weird-s3cret": "v" }, mask: ["s3cret"] });
    expect(redactJobRequest(req).stored["env"]).toEqual({ "weird-***": "v" });
  });

  test("URL credentials: stripped from repo_url, replaced in every other string, not requeueable", () => {
    const req = newJobRequest({
      ...base,
      repo_url: "https://oauth2:tok-5e1f@forge.example/me/app.git",
      env: { MIRROR: "https://tok-5e1f@mirror.example/me/app.git" },
      steps: [{ run: "git remote add up https://u:tok-5e1f@forge.example/up/app" }],
    });
    const redacted = redactJobRequest(req);
    expect(redacted.repoUrl).toBe("https://forge.example/me/app.git");
    expect(redacted.stored["repo_url"]).toBe("https://forge.example/me/app.git");
    expect(redacted.stored["env"]).toEqual({ MIRROR: "https://***@mirror.example/me/app.git" });
    expect(redacted.stored["steps"]).toEqual([{ run: "git remote add up https://***@forge.example/up/app" }]);
    expect(JSON.stringify(redacted.stored)).not.toContain("tok-5e1f");
    // What is stored is not what ran: a restart must not run it again.
    expect(redacted.hadSecrets).toBe(true);
    // The request itself keeps them (the engine clones with them).
    expect(req.repo_url).toBe("https://oauth2:tok-5e1f@forge.example/me/app.git");
  });

  test("SOLSTICE_DEBUG_SSH_KEY: keys are redacted, other entries dropped with the reason", () => {
    const req = newJobRequest({
      ...base,
      env: {
        SOLSTICE_DEBUG_SSH_KEY: `${ED25519} me@laptop\nmy-password-by-mistake\n-----BEGIN OPENSSH PRIVATE KEY-----`,
      },
    });
    const { stored } = redactJobRequest(req);
    expect(stored["env"]).toEqual({
      SOLSTICE_DEBUG_SSH_KEY: [
        `${PUBLIC_KEY_REDACTED} me@laptop`,
        "<entry 2 dropped: not an OpenSSH public key>",
        "<entry 3 dropped: not an OpenSSH public key>",
      ].join("\n"),
    });
    expect(JSON.stringify(stored)).not.toContain("my-password-by-mistake");
    expect(JSON.stringify(stored)).not.toContain("PRIVATE KEY");
  });
});

const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxUmdGzkPl4XfE0k7r1Xq9kqB2vY4aUcfYbL8Z2Zr2J";
const RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7v/+Q==";

describe("redactKeyMaterial", () => {
  test.each([
    ["plain text", "plain text"],
    [`${ED25519} me@host`, `${PUBLIC_KEY_REDACTED} me@host`],
    [`keys: ${RSA}, ${ED25519}`, `keys: ${PUBLIC_KEY_REDACTED}, ${PUBLIC_KEY_REDACTED}`],
    ["ecdsa-sha2-nistp256 AAAAE2VjZHNh", PUBLIC_KEY_REDACTED],
    ["sk-ssh-ed25519@openssh.com AAAAGnNr", PUBLIC_KEY_REDACTED],
    ["ssh-ed25519 is the key type we use", "ssh-ed25519 is the key type we use"],
    ["x -----BEGIN PRIVATE KEY-----MIIEvQ-----END PRIVATE KEY----- y", `x ${PRIVATE_KEY_REDACTED}`],
  ])("%j", (line, expected) => {
    const { lines, state } = redactKeyMaterial([line], KEY_FILTER_START);
    expect(lines).toEqual([expected]);
    expect(state.insidePrivateKey).toBe(false);
  });

  test("a private key block is redacted line by line, across calls", () => {
    const first = redactKeyMaterial(
      ["before", "-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA"],
      KEY_FILTER_START,
    );
    expect(first.lines).toEqual(["before", PRIVATE_KEY_REDACTED, PRIVATE_KEY_REDACTED]);
    expect(first.state.insidePrivateKey).toBe(true);
    const second = redactKeyMaterial(
      ["QyNTUxOQAAACBsVJnRs5D5eF", "-----END OPENSSH PRIVATE KEY-----", "after"],
      first.state,
    );
    expect(second.lines).toEqual([PRIVATE_KEY_REDACTED, PRIVATE_KEY_REDACTED, "after"]);
    expect(second.state).toEqual(KEY_FILTER_START);
  });

  test("PEM, RSA and EC private keys too", () => {
    for (const kind of ["", "RSA ", "EC ", "ENCRYPTED "]) {
      const { lines } = redactKeyMaterial(
        [`-----BEGIN ${kind}PRIVATE KEY-----`, "MIIB", `-----END ${kind}PRIVATE KEY-----`, "ok"],
        KEY_FILTER_START,
      );
      expect(lines).toEqual([PRIVATE_KEY_REDACTED, PRIVATE_KEY_REDACTED, PRIVATE_KEY_REDACTED, "ok"]);
    }
  });

  test("a BEGIN without END does not swallow the rest of the log", () => {
    const body = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    const { lines } = redactKeyMaterial(["-----BEGIN PRIVATE KEY-----", ...body], KEY_FILTER_START);
    expect(lines.filter((l) => l === PRIVATE_KEY_REDACTED)).toHaveLength(257);
    expect(lines[lines.length - 1]).toBe("line 299");
  });
});
