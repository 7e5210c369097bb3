import { SolsticeError } from "@solstice/common";

/** The runner's state file is missing, unreadable or not what we wrote. */
export class RunnerStateError extends SolsticeError {
  readonly file: string;

  constructor(file: string, problem: string, options: { cause?: unknown; hint?: string } = {}) {
    super("FORGEJO_RUNNER_STATE_INVALID", `${file}: ${problem}`, {
      cause: options.cause,
      hint:
        options.hint ??
        "register the runner with `solstice-forgejo-runner register --instance <url> --token <registration token>`",
    });
    this.file = file;
  }
}

/** `register` was asked while a state file exists: re-registering must be explicit. */
export class AlreadyRegisteredError extends SolsticeError {
  readonly file: string;

  constructor(file: string, name: string, address: string) {
    super("FORGEJO_RUNNER_ALREADY_REGISTERED", `${file} already holds runner "${name}" of ${address}`, {
      hint: "pass --force to register again (the old registration stays in Forgejo until you delete it there)",
    });
    this.file = file;
  }
}

/** A task Solstice CI cannot turn into a job (bad payload, unknown context shape). */
export class TaskTranslationError extends SolsticeError {
  readonly taskId: string;

  constructor(taskId: string, problem: string, options: { cause?: unknown } = {}) {
    super("FORGEJO_TASK_INVALID", `task ${taskId}: ${problem}`, {
      cause: options.cause,
      hint: "the task is reported failed in Forgejo with this message in its log",
    });
    this.taskId = taskId;
  }
}
