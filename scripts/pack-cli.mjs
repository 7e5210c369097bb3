#!/usr/bin/env node
// Packs a CLI (cidev or ciadm) as ONE installable tarball that needs no checkout and no registry:
//
//   node scripts/pack-cli.mjs cidev [--out <dir>]     → <dir>/solstice-cidev-0.1.0.tgz (default dir: dist-pack/)
//   npm i -g ./dist-pack/solstice-cidev-0.1.0.tgz     → `cidev` on PATH
//
// Why a bundle: the CLIs import private workspace packages (@solstice/common, cli-kit, orchestrator,
// vm-engine) that no registry has, so a plain `pnpm pack` gives a tarball `npm i` cannot install.
// Here the CLI is built (tsc -b), deployed with `pnpm deploy` (workspace packages injected as real
// copies, production dependencies only, flat `hoisted` layout, from the lockfile and the local
// store: --offline), and that directory is packed with every dependency bundled
// (`bundleDependencies`). The deploy runs in a scratch copy of the workspace's manifests, so the
// checkout's node_modules and pnpm-lock.yaml are never written.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLIS = ["cidev", "ciadm"];

function usage(message) {
  process.stderr.write(
    `pack-cli: ${message}\nusage: node scripts/pack-cli.mjs <${CLIS.join("|")}> [--out <dir>]\n`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const name = args[0];
if (name === undefined || !CLIS.includes(name)) usage(`name a CLI: ${CLIS.join(" or ")}`);
let outDir = join(root, "dist-pack");
for (let i = 1; i < args.length; i++) {
  if (args[i] === "--out" && args[i + 1] !== undefined) outDir = resolve(args[++i]);
  else usage(`unknown argument ${args[i]}`);
}

const UNRUN = /\.(d\.[cm]?ts|map|md|markdown)$/i;

/** Deletes the files under `dir` that Node never loads (declarations, source maps, docs). */
function pruneUnrun(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) pruneUnrun(path);
    else if (entry.isFile() && UNRUN.test(entry.name)) rmSync(path);
  }
}

/** Runs a command; its output goes to stderr (stdout carries only the tarball's path). */
function run(cmd, cmdArgs, cwd) {
  const r = spawnSync(cmd, cmdArgs, { cwd, stdio: ["ignore", process.stderr, process.stderr] });
  if (r.status !== 0) {
    process.stderr.write(`pack-cli: ${cmd} ${cmdArgs.join(" ")} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}

if (process.env.PACK_CLI_NO_BUILD !== "1")
  run("pnpm", ["exec", "tsc", "-b", `packages/${name}/tsconfig.build.json`], root);

const scratch = mkdtempSync(join(tmpdir(), `pack-${name}-`));
try {
  // The workspace as pnpm sees it: manifests, lockfile, patches, and each package's built files.
  const workspace = join(scratch, "workspace");
  mkdirSync(workspace);
  for (const file of ["package.json", "pnpm-workspace.yaml", "pnpm-lock.yaml", ".npmrc"]) {
    if (existsSync(join(root, file))) cpSync(join(root, file), join(workspace, file));
  }
  if (existsSync(join(root, "patches")))
    cpSync(join(root, "patches"), join(workspace, "patches"), { recursive: true });
  // Workspace packages are injected as copies (what `pnpm pack` would ship), not symlinks.
  writeFileSync(join(workspace, ".npmrc"), "inject-workspace-packages=true\n", { flag: "a" });
  const projects = [
    ...readdirSync(join(root, "packages")).map((p) => join("packages", p)),
    ...(existsSync(join(root, "bench", "package.json")) ? ["bench"] : []),
  ];
  for (const project of projects) {
    if (!existsSync(join(root, project, "package.json"))) continue;
    mkdirSync(join(workspace, project), { recursive: true });
    cpSync(join(root, project, "package.json"), join(workspace, project, "package.json"));
    for (const built of ["dist", "bin"]) {
      const from = join(root, project, built);
      if (existsSync(from)) cpSync(from, join(workspace, project, built), { recursive: true });
    }
  }

  const deployed = join(scratch, "deployed");
  run(
    "pnpm",
    [
      "--filter",
      `@solstice/${name}`,
      "deploy",
      "--prod",
      "--offline",
      "--config.node-linker=hoisted",
      "--config.confirm-modules-purge=false",
      deployed,
    ],
    workspace,
  );

  // The deployed manifest names its workspace dependencies by scratch path: name their versions
  // instead, and bundle every dependency (with what they depend on) into the tarball.
  const manifestPath = join(deployed, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  const dependencies = {};
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    const installed = JSON.parse(readFileSync(join(deployed, "node_modules", dep, "package.json"), "utf8"));
    dependencies[dep] = installed.version;
  }
  manifest.dependencies = dependencies;
  manifest.bundleDependencies = Object.keys(dependencies);
  delete manifest.devDependencies;
  delete manifest.optionalDependencies;
  delete manifest.pnpm;
  // The source condition names files a tarball does not hold.
  for (const entry of Object.values(manifest.exports ?? {})) {
    if (typeof entry === "object" && entry !== null) delete entry["@solstice/source"];
  }
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  // The shipped image map, where an installed CLI looks for it (see image-map-location.ts).
  const map = join(root, "examples", "orchestrator-image-map.yaml");
  mkdirSync(join(deployed, "examples"), { recursive: true });
  cpSync(map, join(deployed, "examples", "orchestrator-image-map.yaml"));
  manifest.files = [...new Set([...(manifest.files ?? []), "examples"])];
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

  // Type declarations, source maps and docs are not run: without them the tarball holds half the
  // files (installing ~6,000 fewer files is most of the install's time).
  pruneUnrun(join(deployed, "node_modules"));

  mkdirSync(outDir, { recursive: true });
  // npm pack fails on this tree ("Exit handler never called"); pnpm packs bundled dependencies only
  // from a hoisted node_modules, which the deploy made.
  run("pnpm", ["pack", "--config.node-linker=hoisted", "--pack-destination", outDir], deployed);
  const tarball = join(outDir, `solstice-${name}-${manifest.version}.tgz`);
  if (!existsSync(tarball)) {
    process.stderr.write(`pack-cli: npm pack did not write ${tarball}\n`);
    process.exit(1);
  }
  process.stdout.write(`${tarball}\n`);
} finally {
  if (process.env.PACK_CLI_KEEP === "1") process.stderr.write(`pack-cli: kept ${scratch}\n`);
  else rmSync(scratch, { recursive: true, force: true });
}
