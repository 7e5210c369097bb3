import { WorkflowSyntaxError } from "../errors.ts";
import type { KdlReadFailure } from "./kdl-read.ts";
import { type KdlVersion, otherKdlVersion } from "./kdl-version.ts";

/** The other version's first error, when a file was tried as both. */
export interface KdlOtherVersionError {
  readonly version: KdlVersion;
  readonly line: number;
  readonly column: number;
  readonly detail: string;
}

const DEFAULT_HINT = "a workflow is KDL 1 or KDL 2; see docs/workflows-kdl.md for the differences";

/**
 * A workflow that is not KDL, in either version. `detail` is the error of the version the file
 * most likely is (`kdlVersion`); when the other version was tried too, `note` says so in one line
 * (at `otherVersion`'s place), and `message` / `toString()` carry it as a second line:
 *
 *     ci.kdl:4:20: unexpected `ubuntu`; expected a value
 *     ci.kdl:3:36: note: read as KDL 1; KDL 2 was tried too and stops earlier: `true` is not a KDL 2 value; write #true
 */
export class KdlSyntaxError extends WorkflowSyntaxError {
  /** The KDL version whose error this is. */
  readonly kdlVersion: KdlVersion;
  /** The version the file's `/- kdl-version` first line names, if it has one. */
  readonly markedVersion: KdlVersion | undefined;
  /** The other version's error, when the file is unmarked and neither version reads it. */
  readonly otherVersion: KdlOtherVersionError | undefined;
  /** One line saying the other version was tried too (without the location), when it was. */
  readonly note: string | undefined;

  constructor(failure: KdlReadFailure, file: string) {
    const { problem, marked, other } = failure;
    const hint =
      other === "valid"
        ? `the file is valid KDL ${otherKdlVersion(problem.version)}: make its first line /- kdl-version ${otherKdlVersion(problem.version)}`
        : (problem.hint ?? DEFAULT_HINT);
    super({ file, ...problem.location }, problem.detail, { cause: problem.cause, hint });
    this.kdlVersion = problem.version;
    this.markedVersion = marked;
    if (other === undefined || other === "valid") {
      this.otherVersion = undefined;
      this.note = undefined;
      return;
    }
    this.otherVersion = { version: other.version, ...other.location, detail: other.detail };
    const samePlace =
      other.location.line === problem.location.line && other.location.column === problem.location.column;
    this.note =
      samePlace && other.detail === problem.detail
        ? `read as KDL ${problem.version}; KDL ${other.version} was tried too, with the same error`
        : `read as KDL ${problem.version}; KDL ${other.version} was tried too and stops ${samePlace ? "at the same place" : "earlier"}: ${other.detail}`;
    this.message = `${this.message}\n${file}:${other.location.line}:${other.location.column}: note: ${this.note}`;
  }
}
