import type { Migration } from "kysely/migration";
import { createJobs } from "./0001-jobs.ts";
import { createVms } from "./0002-vms.ts";
import { createJobLogs } from "./0003-job-logs.ts";
import { addJobEventSeq } from "./0004-job-event-seq.ts";
import { splitJobLogLines } from "./0005-job-log-lines.ts";
import { createFleetHosts } from "./0006-fleet-hosts.ts";
import { addFleetHostDrain } from "./0007-fleet-host-drain.ts";

/**
 * Every migration, by name. Names sort in the order they must run (kysely's Migrator orders by
 * name); a new migration takes the next number. Never rename or edit one that has shipped.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  "0001-jobs": createJobs,
  "0002-vms": createVms,
  "0003-job-logs": createJobLogs,
  "0004-job-event-seq": addJobEventSeq,
  "0005-job-log-lines": splitJobLogLines,
  "0006-fleet-hosts": createFleetHosts,
  "0007-fleet-host-drain": addFleetHostDrain,
};
