import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { type CliResult, REPO_ROOT } from "./cli-runner.ts";

// A CLI as a user without a checkout gets it: packed by scripts/pack-cli.mjs (one tarball holding
// the CLI and every dependency), installed with `npm i -g --prefix <tmp>`, run from its `bin`.

const exec = promisify(execFile);

/** An installed CLI: run its command with a bare environment; `remove()` deletes the install. */
export interface InstalledCli {
  /** The tarball `pnpm pack` wrote, and its size in bytes. */
  readonly tarball: string;
  /** The `npm i -g` prefix: the command is `<prefix>/bin/<name>`. */
  readonly prefix: string;
  run(args: readonly string[], options?: { cwd?: string; env?: Record<string, string> }): Promise<CliResult>;
  remove(): Promise<void>;
}

/**
 * Packs `name` (cidev or ciadm) with scripts/pack-cli.mjs and installs the tarball into a new
 * prefix with `npm i -g --offline` (everything is bundled: no registry is asked).
 * `--ignore-scripts`: the install scripts only rebuild ssh2's optional native crypto, which the
 * tarball already holds as built here (and without which ssh2 runs in JavaScript).
 */
export async function packAndInstallCli(name: "cidev" | "ciadm"): Promise<InstalledCli> {
  const dir = await mkdtemp(join(tmpdir(), `${name}-package-`));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const packed = await exec(
      process.execPath,
      [join(REPO_ROOT, "scripts", "pack-cli.mjs"), name, "--out", join(dir, "pack")],
      { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 },
    );
    const tarball = packed.stdout.trim().split("\n").at(-1) ?? "";
    const prefix = join(dir, "prefix");
    await exec(
      "npm",
      ["i", "-g", "--prefix", prefix, "--offline", "--ignore-scripts", "--no-audit", "--no-fund", tarball],
      { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
    );
    const command = join(prefix, "bin", name);
    return {
      tarball,
      prefix,
      remove,
      run: (args, options = {}) =>
        new Promise((resolve, reject) => {
          // A bare environment: no checkout on the path, nothing from the test runner but node.
          const env = {
            PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
            HOME: dir,
            NO_COLOR: "1",
            ...options.env,
          };
          execFile(
            command,
            [...args],
            { cwd: options.cwd ?? dir, env, timeout: 60_000 },
            (error, stdout, stderr) => {
              if (error !== null && typeof error.code !== "number") reject(error);
              else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
            },
          );
        }),
    };
  } catch (error) {
    await remove();
    throw error;
  }
}
