import type { ImageEntry, JobRequest } from "@solstice/common";
import type { VmSpec } from "./vm-types.ts";

/** Overrides of an image's default resources for one job. */
export interface VmResources {
  readonly cpu?: number | undefined;
  readonly ramMb?: number | undefined;
  readonly diskGb?: number | undefined;
}

/** The VM name of a job, as the original named its domains: `job-<request id>`. */
export function vmNameFor(requestId: string): string {
  return `job-${requestId}`;
}

/**
 * The VM for a job on an image: the image's files and defaults (cpu, ram, disk, accel, ssh user),
 * resources overridable, the job's fields for `/etc/solstice/job.yaml`.
 */
export function vmSpecFor(
  image: ImageEntry,
  request: JobRequest,
  options: { name?: string; resources?: VmResources } = {},
): VmSpec {
  return {
    ...imageSpecFor(image, options.resources),
    name: options.name ?? vmNameFor(request.request_id),
    job: {
      repo_url: request.repo_url,
      commit_sha: request.commit_sha,
      request_id: request.request_id,
      workflow_job_id: request.workflow_job_id,
      workflow_path: request.workflow_path,
      runs_on: request.runs_on,
    },
  };
}

/** What a VM spec takes from its image and resources (the image's defaults where none is asked). */
export function imageSpecFor(
  image: ImageEntry,
  resources: VmResources = {},
): Pick<VmSpec, "image" | "cpu" | "ramMb" | "diskGb" | "accel" | "sshUser"> {
  return {
    image: {
      label: image.label,
      diskPath: image.localPath,
      format: image.format,
      kernel: image.kernel,
      initrd: image.initrd,
      append: image.append,
    },
    cpu: resources.cpu ?? image.defaults.cpu,
    ramMb: resources.ramMb ?? image.defaults.ramMb,
    diskGb: resources.diskGb ?? image.defaults.diskGb,
    accel: image.accel,
    sshUser: image.sshUser,
  };
}
