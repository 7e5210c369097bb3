import { stringify } from "yaml";

// The NoCloud user-data and meta-data for a job's VM. Both are emitted with the yaml package from
// plain objects, so no value (a repository URL, a key comment) can inject YAML.

/** What `/etc/solstice/job.yaml` tells the guest (the original wrote `repo_url` and `commit_sha`). */
export interface JobFileFields {
  readonly repo_url: string;
  readonly commit_sha: string;
  readonly request_id: string;
  readonly workflow_job_id?: string | null | undefined;
  readonly workflow_path?: string | null | undefined;
  readonly runs_on?: string | null | undefined;
}

/** Inputs of {@link renderUserData}. */
export interface UserDataInput {
  /** The user SSH logs in as (the image's `ssh_user`; `root` by default). */
  readonly sshUser: string;
  /** One `ssh-ed25519 AAAA... comment` line. */
  readonly sshPublicKey: string;
  readonly job: JobFileFields;
}

/** Where the guest finds the job (read by the in-VM runner of the original). */
export const JOB_FILE_PATH = "/etc/solstice/job.yaml";

const YAML_OPTIONS = { lineWidth: 0, minContentWidth: 0 } as const;

/**
 * A `#cloud-config` that lets the per-job key in and writes the job file.
 *
 * - The key is always in the top-level `ssh_authorized_keys` (cloud-init gives it to the image's
 *   default user, and to root when `disable_root` is false; simple seed readers look there too).
 * - For `root`: `disable_root: false`, so root's authorized_keys holds the key without the
 *   "please login as" forced command.
 * - For another user: a `users:` entry (after `default`) with the key and passwordless sudo.
 * - Password logins off; `/etc/solstice/job.yaml` written 0644 root:root.
 *
 * @example
 *   renderUserData({ sshUser: "root", sshPublicKey: keys.publicKey,
 *     job: { repo_url, commit_sha, request_id } })
 */
export function renderUserData(input: UserDataInput): string {
  const key = input.sshPublicKey.trim();
  if (key === "" || /[\r\n]/.test(key))
    throw new TypeError("sshPublicKey must be a single authorized_keys line");
  if (input.sshUser === "" || /[\s:]/.test(input.sshUser))
    throw new TypeError(`bad sshUser "${input.sshUser}"`);

  const config: Record<string, unknown> = {};
  if (input.sshUser === "root") {
    config["disable_root"] = false;
  } else {
    config["users"] = [
      "default",
      {
        name: input.sshUser,
        ssh_authorized_keys: [key],
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        lock_passwd: true,
      },
    ];
  }
  config["ssh_pwauth"] = false;
  config["ssh_authorized_keys"] = [key];
  config["write_files"] = [
    {
      path: JOB_FILE_PATH,
      permissions: "0644",
      owner: "root:root",
      content: renderJobFile(input.job),
    },
  ];
  return `#cloud-config\n${stringify(config, YAML_OPTIONS)}`;
}

/** The content of `/etc/solstice/job.yaml`: `repo_url`, `commit_sha`, `request_id`, then the optional ones. */
export function renderJobFile(job: JobFileFields): string {
  const fields: Record<string, string> = {
    repo_url: job.repo_url,
    commit_sha: job.commit_sha,
    request_id: job.request_id,
  };
  if (job.workflow_job_id) fields["workflow_job_id"] = job.workflow_job_id;
  if (job.workflow_path) fields["workflow_path"] = job.workflow_path;
  if (job.runs_on) fields["runs_on"] = job.runs_on;
  return stringify(fields, YAML_OPTIONS);
}

/**
 * NoCloud meta-data: `instance-id` (a new one per VM makes cloud-init run again on a reused
 * image) and `local-hostname`, as the original wrote them.
 */
export function renderMetaData(input: { instanceId: string; hostname: string }): string {
  return stringify({ "instance-id": input.instanceId, "local-hostname": input.hostname }, YAML_OPTIONS);
}
