import type { Entity, IngestResult, UrlReader } from '@bank/catalog';
import type { Integration } from './actions/providers.ts';
import type { Template } from './template.ts';
import type { Workspace } from './workspace.ts';

/** What the scaffolder needs of the catalogue (CatalogService from @bank/plugin-catalog fits). */
export interface CatalogPort {
  view(): Promise<{ readonly refs: ReadonlySet<string>; readonly byRef: ReadonlyMap<string, Entity> }>;
  ingest(roots?: string[]): Promise<IngestResult>;
  /** Register a URL location (CatalogService's addLocation), for catalog:register after publish:github. */
  addLocation?(target: string, opts: { type: 'url'; onConflict: 'refresh' }): Promise<unknown>;
  /** The catalogue's URL reader (CatalogService has one), reused for URL skeletons. */
  readonly reader?: UrlReader;
}

export interface ScaffolderEnv {
  /** The monorepo root (real path): services/ and templates/ are under it. */
  repoRoot: string;
  templatesDir: string;
  servicesDir: string;
  catalog: CatalogPort;
  /** Git providers the publish actions may call (allow-list with tokens); see actions/providers.ts. */
  integrations?: Integration[];
  /** The allow-listed URL reader fetch actions read URL skeletons through (the catalogue's). */
  reader?: UrlReader;
}

/** Who asked: recorded in the audit log, the commit author and `user.ref` in expressions. */
export interface TaskActor {
  id: string;
  kind?: string;
}

export type TaskEvent =
  | {
      type: 'step';
      stepId: string;
      name: string;
      status: 'processing' | 'completed' | 'failed' | 'skipped' | 'rolled-back' | 'cancelled';
      at: string;
      ms?: number;
    }
  | { type: 'log'; stepId?: string; message: string; at: string }
  | { type: 'completion'; status: 'completed' | 'failed' | 'cancelled'; message?: string; at: string };

/**
 * The compensations of a task: each side effect registers how to undo itself; a failed task undoes them
 * newest first. The undo of an undo that fails is reported, not retried.
 */
export class Transaction {
  private readonly undos: { what: string; fn: () => Promise<void> }[] = [];
  private readonly deferred: { stepId: string; done: Promise<void> }[] = [];
  /** Work a step started and the task must wait for (it fails the task, as that step, if it fails). */
  defer(stepId: string, done: Promise<void>): void {
    done.catch(() => undefined);
    this.deferred.push({ stepId, done });
  }
  /** Wait for deferred work; the first failure is thrown with the step that started it. */
  async settle(): Promise<void> {
    while (this.deferred.length) {
      const d = this.deferred.shift() as { stepId: string; done: Promise<void> };
      try {
        await d.done;
      } catch (err) {
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), { stepId: d.stepId });
      }
    }
  }
  onUndo(what: string, fn: () => Promise<void>): void {
    this.undos.push({ what, fn });
  }
  get pending(): number {
    return this.undos.length;
  }
  async rollback(log: (m: string) => void): Promise<string[]> {
    const failures: string[] = [];
    // Deferred work settles first, so an undo never races what it undoes.
    for (const d of this.deferred.splice(0)) await d.done.catch(() => undefined);
    while (this.undos.length) {
      const u = this.undos.pop();
      if (!u) break;
      try {
        await u.fn();
        log(`rolled back: ${u.what}`);
      } catch (err) {
        failures.push(`${u.what}: ${(err as Error).message}`);
        log(`rollback of "${u.what}" failed: ${(err as Error).message}`);
      }
    }
    return failures;
  }
}

export interface ActionContext {
  input: Record<string, unknown>;
  /** The field the input came from, for errors: `spec.steps[2].input`. */
  field: string;
  stepId: string;
  template: Template;
  workspace: Workspace;
  env: ScaffolderEnv;
  dryRun: boolean;
  taskId: string;
  actor: TaskActor;
  tx: Transaction;
  /** Published directories so far: repo-relative dir → workspace prefix (lets dry-run read "published" files). */
  published: Map<string, string>;
  log(message: string): void;
  output(name: string, value: unknown): void;
  /** Aborted when the task is cancelled: provider requests pass it to fetch. */
  signal?: AbortSignal;
  /** In a dry-run, the ids of the steps skipped so far because their action is not available here. */
  skipped?: readonly string[];
}

export interface Action {
  id: string;
  description: string;
  handler(ctx: ActionContext): Promise<void>;
}
