import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ImageEntry, ServiceLogger } from "@solstice/common";
import { silentLogger } from "@solstice/common";
import { findQemuProcesses, killAndWait } from "../vm/qemu-processes.ts";
import type { QemuHypervisor } from "../vm/qemu-vm.ts";
import { imageSpecFor, type VmResources } from "../vm/vm-spec.ts";
import type { VmHandle, VmSpec } from "../vm/vm-types.ts";
import { type BuiltTemplate, buildTemplate } from "./template-build.ts";
import { gatherTemplateFacts, templateId } from "./template-identity.ts";
import { restoreFromTemplate } from "./warm-restore.ts";

// The warm templates of one engine: made on demand (the first job of an image configuration
// boots cold, and its template is built beside it), or on request (pre-warm, `ciadm images warm`);
// used by every later job of that configuration; dropped when they fail a restore, when their
// image or QEMU changed, and when the engine closes. Their keys live in this object only, so a
// new process starts by removing whatever an old one left in the directory.

/** What the settle command is when an image names none: cloud-init's own wait where it exists. */
export const DEFAULT_SETTLE =
  "if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null; fi; sync";

/** A template's state. */
export type TemplateState = "building" | "ready" | "bad";

/** A template as operators see it (`/v1/images`). */
export interface TemplateView {
  readonly id: string;
  readonly label: string;
  readonly state: TemplateState;
  readonly cpu: number;
  readonly ramMb: number;
  readonly diskGb: number;
  readonly builtAt: string | undefined;
  readonly buildSeconds: number | undefined;
  readonly stateBytes: number | undefined;
  /** Jobs started from it. */
  readonly restores: number;
  /** Why it is bad (a failed build or restore). */
  readonly error: string | undefined;
}

/** How a job's VM was started. */
export type StartKind = "warm" | "cold" | "fallback";

/** What {@link WarmTemplates} reports (for metrics). */
export type WarmEvent =
  | {
      readonly type: "start";
      readonly label: string;
      readonly kind: StartKind;
      readonly restoreSeconds?: number;
    }
  | { readonly type: "build"; readonly label: string; readonly ok: boolean; readonly seconds: number };

/** Options of {@link WarmTemplates}. */
export interface WarmTemplatesOptions {
  /** Where template files live (made 0700; emptied at {@link WarmTemplates.init}). */
  readonly dir: string;
  /** The settle command of an image (its `settle` in the image map). Default: {@link DEFAULT_SETTLE}. */
  readonly settleFor?: (image: ImageEntry) => string | undefined;
  /** Whether an image is warm-started (its `warm_start`). Default: always. */
  readonly enabledFor?: (image: ImageEntry) => boolean;
  /** Builds at once (each is a VM beside the jobs). Default 1. */
  readonly maxConcurrentBuilds?: number;
  /**
   * A template whose builds failed this many times in a row, or whose restores failed this many
   * times without a good one between, is not rebuilt on demand (`warm` still rebuilds it). Default 2.
   */
  readonly maxBuildFailures?: number;
  readonly logger?: ServiceLogger;
  readonly onEvent?: (event: WarmEvent) => void;
  /** Budget of a template's cold boot to SSH. Default 300 s. */
  readonly sshTimeoutMs?: number;
  /**
   * The hypervisor template boots run on. Default: the jobs' own. The engine gives one whose work
   * directories are under `dir` (sharing the jobs' SSH ports), so that a template's boot VM is
   * never mistaken for a job's VM.
   */
  readonly builder?: QemuHypervisor;
}

interface Entry {
  readonly id: string;
  readonly label: string;
  /** label + resources: entries of one configuration replace each other. */
  readonly configuration: string;
  readonly spec: VmSpec;
  readonly settle: string;
  state: TemplateState;
  template: BuiltTemplate | undefined;
  building: Promise<void> | undefined;
  builtAt: string | undefined;
  buildSeconds: number | undefined;
  restores: number;
  /** Failed builds in a row. */
  failures: number;
  /** Failed restores since the last good one: a template that keeps failing is not rebuilt for ever. */
  badRestores: number;
  error: string | undefined;
}

/** Options of {@link WarmTemplates.startVm}. */
export interface StartVmOptions {
  readonly signal?: AbortSignal | undefined;
  readonly onVm?: (vm: VmHandle) => Promise<void>;
  /** A line for the job's log. */
  readonly log?: (line: string) => void;
}

/**
 * @example
 *   const warm = new WarmTemplates(hypervisor, { dir: join(stateDir, "templates") });
 *   await warm.init();
 *   const started = await warm.startVm(image, spec, { signal });
 *   if (started.vm === undefined) { ... boot cold (a template is being built meanwhile) ... }
 */
export class WarmTemplates {
  readonly #hv: QemuHypervisor;
  readonly #builder: QemuHypervisor;
  readonly #options: WarmTemplatesOptions;
  readonly #logger: ServiceLogger;
  readonly #entries = new Map<string, Entry>();
  readonly #queue: (() => void)[] = [];
  #runningBuilds = 0;
  #closed = false;
  readonly #abort = new AbortController();
  #ready: Promise<void> | undefined;

  constructor(hv: QemuHypervisor, options: WarmTemplatesOptions) {
    this.#hv = hv;
    this.#builder = options.builder ?? hv;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Make the directory and remove what a previous process left there (its keys are gone). Idempotent. */
  init(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.#options.dir, { recursive: true, mode: 0o700 });
      // A previous process's template boot may still run (it was killed mid-build).
      for (const { pid } of await findQemuProcesses(this.#options.dir)) await killAndWait(pid);
      for (const name of await readdir(this.#options.dir)) {
        await rm(join(this.#options.dir, name), { recursive: true, force: true });
        this.#logger.info({ template: name }, "stale warm template removed");
      }
    })();
    return this.#ready;
  }

  /** Whether `image` is warm-started at all. */
  enabled(image: ImageEntry): boolean {
    return this.#options.enabledFor?.(image) ?? true;
  }

  /**
   * Start `spec`'s VM from a ready template of its configuration. Resolves `{ vm }` (running, the
   * job's key installed) or `{ vm: undefined }`: no template yet (one is then built in the
   * background) or the restore failed (the template is marked bad, one log line, a `fallback`
   * event) — the caller boots cold. Rejects only when `signal` aborts.
   */
  async startVm(
    image: ImageEntry,
    spec: VmSpec,
    options: StartVmOptions = {},
  ): Promise<{ vm: VmHandle | undefined; kind: StartKind }> {
    if (this.#closed || !this.enabled(image)) return this.#started(image.label, "cold");
    let entry: Entry;
    try {
      entry = await this.#entryFor(image, spec);
    } catch (error) {
      this.#logger.warn(
        { label: image.label, err: error },
        "warm template identity unavailable; booting cold",
      );
      return this.#started(image.label, "cold");
    }
    const template = entry.template;
    if (entry.state !== "ready" || template === undefined) {
      const limit = this.#options.maxBuildFailures ?? 2;
      if (entry.state !== "building" && entry.failures < limit && entry.badRestores < limit)
        this.#build(entry);
      return this.#started(image.label, "cold");
    }
    const started = Date.now();
    try {
      const vm = await restoreFromTemplate(this.#hv, spec, template, {
        signal: options.signal,
        logger: this.#logger,
        ...(options.onVm === undefined ? {} : { onVm: options.onVm }),
      });
      entry.restores++;
      entry.badRestores = 0;
      const restoreSeconds = (Date.now() - started) / 1000;
      this.#options.onEvent?.({ type: "start", label: image.label, kind: "warm", restoreSeconds });
      options.log?.(`VM restored from warm template ${entry.id} in ${restoreSeconds.toFixed(1)} s`);
      return { vm, kind: "warm" };
    } catch (error) {
      options.signal?.throwIfAborted();
      const message = error instanceof Error ? error.message : String(error);
      this.#logger.warn(
        { label: image.label, template: entry.id, err: error },
        "warm start failed; booting cold",
      );
      options.log?.(`Warm start failed (${message}); booting cold`);
      await this.#markBad(entry, message);
      return this.#started(image.label, "fallback");
    }
  }

  /**
   * Build (or rebuild) the template of `spec`'s configuration now and wait for it: pre-warming
   * and `ciadm images warm`. Resolves with its view (`ready`, or `bad` with the error).
   */
  async warm(image: ImageEntry, resources: VmResources = {}): Promise<TemplateView> {
    const entry = await this.#entryFor(image, templateSpecFor(image, resources));
    if (entry.state === "building" && entry.building !== undefined) await entry.building;
    else {
      entry.failures = 0;
      entry.badRestores = 0;
      await this.#build(entry);
    }
    return view(entry);
  }

  /**
   * The ready template of `id` with its files and key (in memory), for the engine's own use and
   * tests; undefined when it is not ready.
   */
  templateFor(id: string): BuiltTemplate | undefined {
    return this.#entries.get(id)?.template;
  }

  /** Every template, for `/v1/images`. */
  list(): TemplateView[] {
    return [...this.#entries.values()].map(view);
  }

  /** Remove every template of `label` (or all): files deleted, keys forgotten. Builds under way finish first. */
  async remove(label?: string): Promise<void> {
    for (const entry of [...this.#entries.values()]) {
      if (label !== undefined && entry.label !== label) continue;
      await entry.building?.catch(() => undefined);
      await this.#drop(entry);
    }
  }

  /** No new builds; wait for the running ones; remove every template. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort(new Error("the warm templates are closing"));
    for (const start of this.#queue.splice(0)) start();
    await this.remove();
    await this.#ready?.catch(() => undefined);
    for (const name of await readdir(this.#options.dir).catch(() => [])) {
      await rm(join(this.#options.dir, name), { recursive: true, force: true });
    }
  }

  async #entryFor(image: ImageEntry, spec: VmSpec): Promise<Entry> {
    await this.init();
    const settle = this.#options.settleFor?.(image) ?? DEFAULT_SETTLE;
    const facts = await gatherTemplateFacts(spec, { qemuBinary: this.#hv.qemuBinary, settle });
    const id = templateId(facts);
    const configuration = `${image.label}\n${spec.cpu}\n${spec.ramMb}\n${spec.diskGb}`;
    const known = this.#entries.get(id);
    if (known !== undefined) return known;
    // A new identity for a known configuration: its image or QEMU changed, the old one is stale.
    for (const other of this.#entries.values()) {
      if (other.configuration === configuration && other.state !== "building") {
        this.#logger.info({ label: image.label, template: other.id }, "warm template stale; removed");
        await this.#drop(other);
      }
    }
    const entry: Entry = {
      id,
      label: image.label,
      configuration,
      spec: {
        ...spec,
        name: `tpl-${id.slice(0, 8)}`,
        job: { repo_url: "", commit_sha: "", request_id: `template-${id}` },
      },
      settle,
      state: "bad",
      template: undefined,
      building: undefined,
      builtAt: undefined,
      buildSeconds: undefined,
      restores: 0,
      failures: 0,
      badRestores: 0,
      error: "not built yet",
    };
    this.#entries.set(id, entry);
    return entry;
  }

  #build(entry: Entry): Promise<void> {
    entry.state = "building";
    entry.error = undefined;
    const building = (async () => {
      await this.#slot();
      const started = Date.now();
      try {
        if (this.#closed) throw new Error("the engine is closing");
        await this.#dropFiles(entry);
        const name = `${entry.spec.name}-${randomBytes(3).toString("hex")}`;
        const template = await buildTemplate(
          this.#hv,
          { ...entry.spec, name },
          {
            id: entry.id,
            dir: join(this.#options.dir, `${entry.id}-${randomBytes(3).toString("hex")}`),
            settle: entry.settle,
            logger: this.#logger,
            signal: this.#abort.signal,
            ...(this.#options.sshTimeoutMs === undefined ? {} : { sshTimeoutMs: this.#options.sshTimeoutMs }),
          },
        );
        if (this.#closed || this.#entries.get(entry.id) !== entry) {
          template.credentials.forget();
          await rm(template.dir, { recursive: true, force: true });
          throw new Error("the template was removed while it was built");
        }
        entry.template = template;
        entry.state = "ready";
        entry.failures = 0;
        entry.builtAt = new Date().toISOString();
        entry.buildSeconds = (Date.now() - started) / 1000;
        this.#options.onEvent?.({ type: "build", label: entry.label, ok: true, seconds: entry.buildSeconds });
      } catch (error) {
        entry.state = "bad";
        entry.failures++;
        entry.error = error instanceof Error ? error.message : String(error);
        this.#logger.warn(
          { label: entry.label, template: entry.id, err: error },
          "warm template build failed",
        );
        this.#options.onEvent?.({
          type: "build",
          label: entry.label,
          ok: false,
          seconds: (Date.now() - started) / 1000,
        });
      } finally {
        entry.building = undefined;
        this.#release();
      }
    })();
    entry.building = building;
    return building;
  }

  async #markBad(entry: Entry, error: string): Promise<void> {
    entry.state = "bad";
    entry.error = error;
    entry.badRestores++;
    await this.#dropFiles(entry);
  }

  async #drop(entry: Entry): Promise<void> {
    this.#entries.delete(entry.id);
    await this.#dropFiles(entry);
  }

  async #dropFiles(entry: Entry): Promise<void> {
    const template = entry.template;
    entry.template = undefined;
    if (template === undefined) return;
    template.credentials.forget();
    await rm(template.dir, { recursive: true, force: true });
  }

  async #slot(): Promise<void> {
    if (this.#runningBuilds < (this.#options.maxConcurrentBuilds ?? 1)) {
      this.#runningBuilds++;
      return;
    }
    await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#runningBuilds++;
  }

  #release(): void {
    this.#runningBuilds--;
    this.#queue.shift()?.();
  }

  #started(label: string, kind: StartKind): { vm: undefined; kind: StartKind } {
    this.#options.onEvent?.({ type: "start", label, kind });
    return { vm: undefined, kind };
  }
}

function view(entry: Entry): TemplateView {
  return {
    id: entry.id,
    label: entry.label,
    state: entry.state,
    cpu: entry.spec.cpu,
    ramMb: entry.spec.ramMb,
    diskGb: entry.spec.diskGb,
    builtAt: entry.builtAt,
    buildSeconds: entry.buildSeconds,
    stateBytes: entry.template?.stateBytes,
    restores: entry.restores,
    error: entry.error,
  };
}

/** The VM spec of `image` with `resources`, as a job's would be (`vmSpecFor`) but with no job. */
function templateSpecFor(image: ImageEntry, resources: VmResources): VmSpec {
  return {
    ...imageSpecFor(image, resources),
    name: "template",
    job: { repo_url: "", commit_sha: "", request_id: "template" },
  };
}
