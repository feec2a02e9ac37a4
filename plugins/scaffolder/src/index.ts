export {
  builtinActions,
  type CatalogDiff,
  DATASTORE_PORTS,
  globToRegExp,
  readSkeleton,
  serviceIdOf,
} from './actions/index.ts';
export { registerScaffolderCommands } from './cli.ts';
export {
  type FilePreview,
  type RunOptions,
  Scaffolder,
  type ScaffolderOptions,
  type ScaffoldResult,
  StepFailedError,
} from './engine.ts';
export { ExpressionError, evaluate, parseExpression, truthy } from './expr/expression.ts';
export { FILTERS } from './expr/filters.ts';
export { compileTemplate, renderString, renderTemplate, renderValue } from './expr/render.ts';
export { commitOnCurrentBranch, gitTopLevel } from './git.ts';
export {
  type ManifestObject,
  type ManifestReport,
  networkEdges,
  parseManifests,
  validateManifests,
} from './manifests.ts';
export {
  coerceSets,
  MAX_SERVICE_NAME,
  ParameterConflictError,
  ParameterError,
  type ParameterProblem,
  validateParameters,
} from './parameters.ts';
export { PathError, resolveSafeChildPath, safeRelative } from './paths.ts';
export {
  asPortalError,
  createScaffolderRouter,
  describeTemplate,
  repoRootFor,
  type ScaffolderRouterDeps,
} from './server/router.ts';
export {
  publicTask,
  RESTARTED_REASON,
  redactParameters,
  ScaffolderTaskStore,
  type StoredTaskEvent,
  type Task,
  type TaskQuery,
  type TaskResult,
  type TaskStatus,
} from './tasks.ts';
export { loadTemplate, loadTemplates, parseTemplate, type Template, TemplateError } from './template.ts';
export type { Action, ActionContext, CatalogPort, ScaffolderEnv, TaskActor, TaskEvent } from './types.ts';
export { Transaction } from './types.ts';
export { Workspace } from './workspace.ts';
