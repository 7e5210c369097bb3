export type {
  ActionsJob,
  ActionsRunDefaults,
  ActionsStep,
  ActionsValue,
  ActionsWorkflow,
  TemplatePart,
} from "./actions-workflow.ts";
export { type DecodedScalars, decodedScalars } from "./decoded-scalars.ts";
export { evaluateValue } from "./evaluate-value.ts";
export { fromExpressionData, type JsonValue } from "./expression-data.ts";
export {
  type ActionsJobStatus,
  CONTEXT_NAMES,
  type ContextName,
  contextDictionary,
  type ExpressionContexts,
  ExpressionFailure,
  evaluateExpression,
  HASH_FILES_REFUSED,
} from "./expression-evaluator.ts";
export {
  type ActionsContexts,
  ActionsContextsSchema,
  defaultActionsEnv,
  type Need,
  NeedSchema,
} from "./job-contexts.ts";
export { applyJobToken, FORGEJO_TOKEN_SECRETS } from "./job-token.ts";
export { LogMasker, type LogMaskerOptions, unescapeCommandData } from "./log-masker.ts";
export { expandMatrix, type MatrixCombination } from "./matrix-expansion.ts";
export {
  type ActionsWorkflowValidation,
  parseActionsWorkflow,
  validateActionsWorkflow,
} from "./parse-actions-workflow.ts";
export {
  evaluateStepCondition,
  type RenderResult,
  type RuntimeStepResult,
  renderStepTemplate,
  resolveRuntimeStep,
  type StepConditionResult,
  type StepOutcome,
  type StepRecord,
  type StepRunState,
} from "./step-runtime.ts";
export { splitTemplate } from "./template-segments.ts";
export {
  type ActionsJobRequestFields,
  findActionsJob,
  type TranslatedJob,
  type TranslateJobInput,
  translateJob,
} from "./translate-job.ts";
export { formatTranslationWarning, type TranslationWarning } from "./translation-warning.ts";
