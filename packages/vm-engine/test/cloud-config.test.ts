import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { JOB_FILE_PATH, renderJobFile, renderMetaData, renderUserData } from "../src/seed/cloud-config.ts";

const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDt6k7t5dVQvPtjNMYmuYnRPdbQ8vaETB6hxx1G6wpCp solstice-job";
const job = {
  repo_url: "https://example.org/org/repo.git",
  commit_sha: "0123456789abcdef0123456789abcdef01234567",
  request_id: "6f1c1b0e-6c39-4c55-9d43-6c3f4c9b1f7a",
};

function parseCloudConfig(text: string): Record<string, unknown> {
  expect(text.startsWith("#cloud-config\n")).toBe(true);
  return parse(text) as Record<string, unknown>;
}

describe("renderUserData", () => {
  it("for root: disable_root false, the key in ssh_authorized_keys, no password logins, the job file", () => {
    const config = parseCloudConfig(renderUserData({ sshUser: "root", sshPublicKey: key, job }));
    expect(config).toEqual({
      disable_root: false,
      ssh_pwauth: false,
      ssh_authorized_keys: [key],
      write_files: [
        {
          path: "/etc/solstice/job.yaml",
          permissions: "0644",
          owner: "root:root",
          content: `repo_url: ${job.repo_url}\ncommit_sha: ${job.commit_sha}\nrequest_id: ${job.request_id}\n`,
        },
      ],
    });
  });

  it("for another user: a users entry after the default user, with the key and sudo", () => {
    const config = parseCloudConfig(renderUserData({ sshUser: "ubuntu", sshPublicKey: key, job }));
    expect(config["disable_root"]).toBeUndefined();
    expect(config["users"]).toEqual([
      "default",
      { name: "ubuntu", ssh_authorized_keys: [key], sudo: "ALL=(ALL) NOPASSWD:ALL", lock_passwd: true },
    ]);
    expect(config["ssh_authorized_keys"]).toEqual([key]);
    expect(config["ssh_pwauth"]).toBe(false);
  });

  it("keeps the key on one line (simple seed readers grep for it)", () => {
    const text = renderUserData({ sshUser: "root", sshPublicKey: key, job });
    expect(text.split("\n")).toContain(`  - ${key}`);
  });

  it("writes permissions as a string, so cloud-init does not read an octal number", () => {
    const text = renderUserData({ sshUser: "root", sshPublicKey: key, job });
    expect(text).toMatch(/permissions: "0644"|permissions: '0644'/);
  });

  it("cannot be injected into by hostile values", () => {
    const hostile = {
      ...job,
      repo_url: 'https://x/y.git\nssh_authorized_keys: ["ssh-rsa EVIL"]\nruncmd: [reboot]',
      workflow_job_id: "a: b\n- c",
    };
    const config = parseCloudConfig(renderUserData({ sshUser: "root", sshPublicKey: key, job: hostile }));
    expect(Object.keys(config).sort()).toEqual([
      "disable_root",
      "ssh_authorized_keys",
      "ssh_pwauth",
      "write_files",
    ]);
    expect(config["ssh_authorized_keys"]).toEqual([key]);
    const files = config["write_files"] as Array<{ content: string }>;
    expect(parse(files[0]!.content)).toEqual({
      repo_url: hostile.repo_url,
      commit_sha: job.commit_sha,
      request_id: job.request_id,
      workflow_job_id: hostile.workflow_job_id,
    });
  });

  it("refuses a key with a newline and a bad user", () => {
    expect(() => renderUserData({ sshUser: "root", sshPublicKey: `${key}\nssh-rsa X`, job })).toThrow(
      TypeError,
    );
    expect(() => renderUserData({ sshUser: "a b", sshPublicKey: key, job })).toThrow(TypeError);
  });
});

describe("renderJobFile", () => {
  it("writes repo_url and commit_sha as the original did, then request_id and the optional fields", () => {
    expect(renderJobFile(job)).toBe(
      `repo_url: ${job.repo_url}\ncommit_sha: ${job.commit_sha}\nrequest_id: ${job.request_id}\n`,
    );
    expect(
      parse(
        renderJobFile({
          ...job,
          workflow_job_id: "build",
          workflow_path: ".solstice/workflow.kdl",
          runs_on: null,
        }),
      ),
    ).toEqual({ ...job, workflow_job_id: "build", workflow_path: ".solstice/workflow.kdl" });
    expect(JOB_FILE_PATH).toBe("/etc/solstice/job.yaml");
  });
});

describe("renderMetaData", () => {
  it("has instance-id and local-hostname", () => {
    const text = renderMetaData({ instanceId: "solstice-6f1c1b0e", hostname: "solstice-6f1c1b0e" });
    expect(text).toBe("instance-id: solstice-6f1c1b0e\nlocal-hostname: solstice-6f1c1b0e\n");
    expect(parse(renderMetaData({ instanceId: "a: b", hostname: "h" }))).toEqual({
      "instance-id": "a: b",
      "local-hostname": "h",
    });
  });
});
