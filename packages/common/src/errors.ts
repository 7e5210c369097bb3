/**
 * The base of every error Solstice CI raises on purpose. `code` is stable (scripts and tests
 * match on it); `hint`, when present, says what the user can do about it.
 *
 * @example
 *   throw new WorkflowParseError({ file, line: 3, column: 5, message: "job without id" });
 */
export class SolsticeError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options?.hint;
  }
}

/** One problem found in a message, with the path of the field it concerns (`steps[1].run`). */
export interface MessageIssue {
  /** The field's path in the message, `steps[1].run`; empty for the message itself. */
  readonly path: string;
  /** What is wrong with it, e.g. `expected string, got number`. */
  readonly message: string;
}

/**
 * A message (JobRequest, job event, cancel request) that does not match its schema, or is not
 * JSON. The message names the path of each bad field: `steps[1].run: expected string, got number`.
 */
export class MessageValidationError extends SolsticeError {
  /** Which message kind was expected, e.g. `JobRequest`. */
  readonly messageType: string;
  /** Every problem found, in the order the schema found them. */
  readonly issues: readonly MessageIssue[];

  constructor(messageType: string, issues: readonly MessageIssue[], options?: { cause?: unknown }) {
    const list = issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ");
    super("MESSAGE_INVALID", `invalid ${messageType}: ${list}`, {
      cause: options?.cause,
      hint: "the sender and this service disagree on the message format; see docs/messages.md",
    });
    this.messageType = messageType;
    this.issues = issues;
  }
}

// ---- The queue (src/mq) ----

/** A queue setting (environment variable, flag or override) that is not valid. */
export class MqConfigError extends SolsticeError {
  /** The environment variable that carries the setting, e.g. `AMQP_PREFETCH`. */
  readonly setting: string;
  /** The value that was refused. */
  readonly value: unknown;

  constructor(setting: string, value: unknown, problem: string) {
    super("MQ_CONFIG_INVALID", `${setting}=${JSON.stringify(value)}: ${problem}`, {
      hint: `set ${setting} (or its --flag) to a valid value; see docs/queue.md`,
    });
    this.setting = setting;
    this.value = value;
  }
}

/**
 * The broker could not be reached (or did not confirm) within the time the caller allowed. The
 * message may or may not have reached the broker when the wait ran out during a confirm.
 */
export class BrokerUnavailableError extends SolsticeError {
  /** The broker URL, password masked. */
  readonly url: string;
  /** How long the caller waited, in milliseconds. */
  readonly waitedMs: number;

  constructor(url: string, waitedMs: number, detail: string, options?: { cause?: unknown }) {
    super("MQ_BROKER_UNAVAILABLE", `RabbitMQ at ${url} unavailable after ${waitedMs} ms: ${detail}`, {
      cause: options?.cause,
      hint: "check that RabbitMQ is running and AMQP_URL is right (bash scripts/services.sh status)",
    });
    this.url = url;
    this.waitedMs = waitedMs;
  }
}

/** A `mandatory` publish that no queue was bound to receive (the broker returned it). */
export class UnroutableError extends SolsticeError {
  readonly exchange: string;
  readonly routingKey: string;
  readonly messageId: string;
  /** The broker's reply, e.g. 312 NO_ROUTE. */
  readonly replyCode: number;
  readonly replyText: string;

  constructor(fields: {
    exchange: string;
    routingKey: string;
    messageId: string;
    replyCode: number;
    replyText: string;
  }) {
    super(
      "MQ_UNROUTABLE",
      `message ${fields.messageId} to exchange "${fields.exchange}" with routing key "${fields.routingKey}" ` +
        `was returned: ${fields.replyCode} ${fields.replyText}`,
      { hint: "no queue is bound for this routing key: start the consumer, or check the topology names" },
    );
    this.exchange = fields.exchange;
    this.routingKey = fields.routingKey;
    this.messageId = fields.messageId;
    this.replyCode = fields.replyCode;
    this.replyText = fields.replyText;
  }
}

/** The broker refused to take responsibility for a message (publisher confirm `nack`). */
export class PublishNackedError extends SolsticeError {
  readonly exchange: string;
  readonly routingKey: string;
  readonly messageId: string;

  constructor(fields: { exchange: string; routingKey: string; messageId: string }) {
    super(
      "MQ_PUBLISH_NACKED",
      `the broker nacked message ${fields.messageId} to exchange "${fields.exchange}" ` +
        `(routing key "${fields.routingKey}")`,
      { hint: "the broker could not store it (queue full with reject-publish, or an internal error): retry" },
    );
    this.exchange = fields.exchange;
    this.routingKey = fields.routingKey;
    this.messageId = fields.messageId;
  }
}

/** The queue was closed: no more publishing or consuming through it. */
export class QueueClosedError extends SolsticeError {
  constructor(operation: string) {
    super("MQ_CLOSED", `cannot ${operation}: the queue is closed`);
  }
}

/**
 * The broker refused a declaration: a queue or exchange exists with other properties (type,
 * durability, arguments) than Solstice declares.
 */
export class TopologyMismatchError extends SolsticeError {
  /** The queue or exchange name. */
  readonly entity: string;

  constructor(entity: string, brokerMessage: string, options?: { cause?: unknown }) {
    super("MQ_TOPOLOGY_MISMATCH", `declaring "${entity}" failed: ${brokerMessage}`, {
      cause: options?.cause,
      hint: `"${entity}" exists with different settings; delete it (rabbitmqctl delete_queue) or pick another name`,
    });
    this.entity = entity;
  }
}

/**
 * Thrown by a message handler to say "this message can never be handled": it goes to the
 * dead-letter queue at once, with this error's message and code as the reason. Any other error
 * is retried (nack and requeue after a delay) up to the consumer's attempt limit.
 *
 * @example
 *   if (!knownLabel(req.runs_on)) throw new PermanentError(`unknown label ${req.runs_on}`, { code: "UNKNOWN_LABEL" });
 */
export class PermanentError extends SolsticeError {
  constructor(message: string, options?: { code?: string; cause?: unknown; hint?: string }) {
    super(options?.code ?? "MQ_PERMANENT_FAILURE", message, {
      ...(options?.cause === undefined ? {} : { cause: options.cause }),
      ...(options?.hint === undefined ? {} : { hint: options.hint }),
    });
  }
}

/**
 * A message larger than its consumer takes: refused on its size alone, before it is decoded, and
 * dead-lettered with this reason (a PermanentError).
 */
export class MessageTooLargeError extends PermanentError {
  /** Which message kind the consumer expected, e.g. `JobRequest`. */
  readonly messageType: string;
  readonly bytes: number;
  readonly maxBytes: number;

  constructor(messageType: string, bytes: number, maxBytes: number) {
    super(
      `${messageType} refused: the message is ${bytes} bytes, more than the ${maxBytes} this consumer takes`,
      {
        code: "MESSAGE_TOO_LARGE",
        hint: "send less (fewer or shorter steps, smaller env), or raise the consumer's limit",
      },
    );
    this.messageType = messageType;
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** No message with this id is in the dead-letter queue. */
export class DeadLetterNotFoundError extends SolsticeError {
  readonly messageId: string;
  readonly queue: string;

  constructor(queue: string, messageId: string) {
    super("MQ_DEAD_LETTER_NOT_FOUND", `no message with id ${messageId} in dead-letter queue "${queue}"`, {
      hint: "list the queue (ciadm dlq list) to see the ids it holds",
    });
    this.messageId = messageId;
    this.queue = queue;
  }
}

/**
 * A job request whose label no orchestrator serves: no queue is bound for its label route. The
 * router dead-letters it with this reason (and tells the request's owner), so it is neither
 * lost nor failed silently.
 */
export class UnservedLabelError extends PermanentError {
  readonly label: string;

  constructor(label: string) {
    super(`no orchestrator serves label ${label}`, {
      code: "JOB_LABEL_UNSERVED",
      hint: "start an orchestrator whose image map has this label, then replay the request (ciadm dlq replay)",
    });
    this.label = label;
  }
}

/** A label whose queue name or routing key would exceed AMQP's 255 bytes. */
export class LabelRouteTooLongError extends SolsticeError {
  readonly label: string;

  constructor(label: string) {
    super(
      "MQ_LABEL_TOO_LONG",
      `label "${label.slice(0, 80)}…" is too long to route (AMQP names hold 255 bytes)`,
      {
        hint: "use a shorter label in the image map (an alias may keep the long name for workflows)",
      },
    );
    this.label = label;
  }
}

/** A job event handed to the sequencer or reorderer of another job (a routing bug). */
export class JobEventMismatchError extends SolsticeError {
  readonly expectedRequestId: string;
  readonly actualRequestId: string;

  constructor(expectedRequestId: string, actualRequestId: string) {
    super(
      "JOB_EVENT_WRONG_JOB",
      `job event for request ${actualRequestId} given to the event stream of request ${expectedRequestId}`,
      { hint: "keep one EventSequencer/EventReorderer per request_id" },
    );
    this.expectedRequestId = expectedRequestId;
    this.actualRequestId = actualRequestId;
  }
}

/** Where in which file a workflow problem is. */
export interface WorkflowErrorLocation {
  /** The file as the user named it (or `<input>`). */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/**
 * A problem in a KDL workflow, at a file, line and column. `message` and `toString()` read
 * `file:line:column: what is wrong`; `detail` is only the what. Subclasses say which kind.
 */
export class WorkflowError extends SolsticeError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** What is wrong, without the location. */
  readonly detail: string;

  constructor(
    code: string,
    at: WorkflowErrorLocation,
    detail: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(code, `${at.file}:${at.line}:${at.column}: ${detail}`, options);
    this.file = at.file;
    this.line = at.line;
    this.column = at.column;
    this.detail = detail;
  }

  /** `file:line:column: what is wrong`, the form editors and `cidev validate` print. */
  override toString(): string {
    return this.message;
  }
}

/** The file is not valid KDL (neither version 1 nor 2); the location is where the parser stopped. */
export class WorkflowSyntaxError extends WorkflowError {
  constructor(at: WorkflowErrorLocation, detail: string, options?: { cause?: unknown; hint?: string }) {
    super("WORKFLOW_SYNTAX", at, detail, {
      cause: options?.cause,
      hint: options?.hint ?? "the file must be KDL (version 1 or 2); see docs/workflows-kdl.md",
    });
  }
}

/** No `workflow` node at the top of the file. */
export class WorkflowNoRootError extends WorkflowError {
  constructor(at: WorkflowErrorLocation, detail: string) {
    super("WORKFLOW_NO_ROOT", at, detail, {
      hint: 'wrap the jobs in a root node: workflow name="CI" { job id="build" { ... } }',
    });
  }
}

/** A node lacks a property it needs (`job` without `id`, `step` without `run`). */
export class WorkflowMissingPropertyError extends WorkflowError {
  readonly node: string;
  readonly property: string;

  constructor(at: WorkflowErrorLocation, node: string, property: string, hint: string) {
    super("WORKFLOW_MISSING_PROPERTY", at, `\`${node}\` without \`${property}\``, { hint });
    this.node = node;
    this.property = property;
  }
}

/** Two jobs with the same `id`. */
export class WorkflowDuplicateJobError extends WorkflowError {
  readonly jobId: string;
  /** Where the first job with that id is. */
  readonly first: { readonly line: number; readonly column: number };

  constructor(at: WorkflowErrorLocation, jobId: string, first: { line: number; column: number }) {
    super(
      "WORKFLOW_DUPLICATE_JOB",
      at,
      `duplicate job id "${jobId}" (first defined at ${first.line}:${first.column})`,
      { hint: "give every job a distinct id" },
    );
    this.jobId = jobId;
    this.first = first;
  }
}

/** A property has a value of the wrong type (`run=1`, `timeout="60"`). */
export class WorkflowTypeError extends WorkflowError {
  readonly property: string;
  readonly expected: string;
  readonly actual: string;

  constructor(at: WorkflowErrorLocation, property: string, expected: string, actual: string, hint?: string) {
    super("WORKFLOW_WRONG_TYPE", at, `\`${property}\` must be ${expected}, not ${actual}`, {
      hint: hint ?? "see docs/workflows-kdl.md for each property's type",
    });
    this.property = property;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A property has the right type but an unusable value (`id=""`, `timeout=0`). */
export class WorkflowValueError extends WorkflowError {
  readonly property: string;

  constructor(at: WorkflowErrorLocation, property: string, detail: string, hint: string) {
    super("WORKFLOW_BAD_VALUE", at, detail, { hint });
    this.property = property;
  }
}

/** Something the format does not have: an unknown property or node, an argument, a second root. */
export class WorkflowUnknownError extends WorkflowError {
  constructor(at: WorkflowErrorLocation, detail: string, hint?: string) {
    super("WORKFLOW_UNKNOWN", at, detail, {
      hint: hint ?? "see docs/workflows-kdl.md for the nodes and properties a workflow has",
    });
  }
}

/** A workflow, or a job, with nothing in it. */
export class WorkflowEmptyError extends WorkflowError {
  constructor(at: WorkflowErrorLocation, detail: string, hint: string) {
    super("WORKFLOW_EMPTY", at, detail, { hint });
  }
}

/** The workflow file cannot be read. */
export class WorkflowReadError extends SolsticeError {
  readonly file: string;

  constructor(file: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super("WORKFLOW_READ", `cannot read workflow file ${file}: ${reason}`, {
      cause,
      hint: "check the path (a KDL workflow usually lives at .solstice/workflow.kdl)",
    });
    this.file = file;
  }
}

// ---- Actions workflows (src/actions) — begin ----

/**
 * The Actions workflow file is not valid YAML (the location is where the YAML parser stopped).
 * `cidev validate` prints it as `file:line:column: message`.
 */
export class ActionsWorkflowSyntaxError extends WorkflowError {
  constructor(at: WorkflowErrorLocation, detail: string) {
    super("ACTIONS_WORKFLOW_SYNTAX", at, detail, {
      hint: "the file must be valid YAML (spaces, not tabs, for indentation; quote values that start with { [ * & ! | > ' \" % @ `)",
    });
  }
}

/**
 * The workflow is valid YAML but not a valid Actions workflow: an unknown or missing key, a value
 * of the wrong type, an expression that does not parse, a duplicate step id. The message is the
 * one GitHub's own parser (`@actions/workflow-parser`) gives.
 */
export class ActionsWorkflowSchemaError extends WorkflowError {
  constructor(at: WorkflowErrorLocation, detail: string) {
    super("ACTIONS_WORKFLOW_INVALID", at, detail, {
      hint: "see https://docs.github.com/actions/reference/workflow-syntax-for-github-actions and docs/actions-translation.md",
    });
  }
}

/** Every problem found in an Actions workflow file, thrown by `parseActionsWorkflow`. */
export class ActionsWorkflowInvalidError extends SolsticeError {
  readonly file: string;
  /** Every error, in file order. */
  readonly errors: readonly WorkflowError[];

  constructor(file: string, errors: readonly WorkflowError[]) {
    const count = errors.length === 1 ? "1 error" : `${errors.length} errors`;
    super("ACTIONS_WORKFLOW_ERRORS", `${file}: ${count}\n${errors.map((e) => e.toString()).join("\n")}`, {
      hint: errors[0]?.hint ?? "fix the workflow file",
    });
    this.file = file;
    this.errors = errors;
  }
}

/** The job asked for is not in the workflow (or the workflow has several and none was named). */
export class ActionsJobNotFoundError extends SolsticeError {
  readonly file: string;
  /** The id asked for; undefined when none was given and the workflow has several jobs. */
  readonly jobId: string | undefined;
  /** The job ids the workflow has. */
  readonly available: readonly string[];

  constructor(file: string, jobId: string | undefined, available: readonly string[]) {
    const list = available.length === 0 ? "none" : available.join(", ");
    super(
      "ACTIONS_JOB_NOT_FOUND",
      jobId === undefined
        ? `${file}: the workflow has ${available.length} jobs (${list}): say which one to translate`
        : `${file}: no job "${jobId}" in the workflow (jobs: ${list})`,
      { hint: "name one of the workflow's jobs (cidev: --job <id>)" },
    );
    this.file = file;
    this.jobId = jobId;
    this.available = available;
  }
}

/**
 * A job-level expression (`runs-on`, job `env`, `timeout-minutes`, `strategy`, `defaults`) that
 * cannot be evaluated: the job cannot be translated. (A step's expression that fails makes that
 * step fail instead, as in Actions.)
 */
export class ActionsExpressionError extends WorkflowError {
  /** The expression, without `${{ }}`. */
  readonly expression: string;

  constructor(at: WorkflowErrorLocation, expression: string, problem: string) {
    super("ACTIONS_EXPRESSION", at, `cannot evaluate \${{ ${expression} }}: ${problem}`, {
      hint: "check the contexts the expression reads (docs/actions-translation.md lists what is available)",
    });
    this.expression = expression;
  }
}

/** A job Solstice CI cannot run at all (a reusable-workflow call, a job without steps). */
export class ActionsUnsupportedJobError extends WorkflowError {
  readonly jobId: string;

  constructor(at: WorkflowErrorLocation, jobId: string, detail: string, hint: string) {
    super("ACTIONS_UNSUPPORTED_JOB", at, detail, { hint });
    this.jobId = jobId;
  }
}

// ---- Actions workflows (src/actions) — end ----

/** The message of an error's cause, or the cause as text when it is not an Error. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
