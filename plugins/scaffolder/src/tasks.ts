/**
 * Tasks: each run of a template, kept in the catalogue's database (ScaffolderTask, ScaffolderTaskEvent in
 * catalog/prisma/models.prisma.part), so a restart keeps who ran what, with which parameters (secrets
 * redacted), every step, its log and the outcome. Events are written before they are announced to
 * followers, in order, one task's events queued behind each other. A task whose process died while it ran
 * is marked failed ("portal restarted while this task ran") by the next process that opens the store, or
 * by any replica once the heartbeat of its runner is stale.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { SqlDriver } from '@bank/catalog';
import type { ScaffoldResult } from './engine.ts';
import { pageFields } from './parameters.ts';
import type { ParameterPage } from './template.ts';
import type { TaskActor, TaskEvent } from './types.ts';

export type TaskStatus = 'processing' | 'completed' | 'failed' | 'cancelled';

/** What a completed task made, as readers see it (no file contents, no internal data). */
export interface TaskResult {
  dir?: string;
  entityRef?: string;
  files: string[];
  branch?: string;
  commitHash?: string;
  repoUrl?: string;
  modified?: string[];
  output: ScaffoldResult['output'];
  durationMs: number;
}

export interface TaskError {
  message: string;
  step?: string;
  status: number;
}

export interface Task {
  id: string;
  /** The template's ref, `template:default/<name>`. */
  template: string;
  version: string | null;
  createdBy: string;
  status: TaskStatus;
  /** The parameters as given, secret ones redacted. */
  parameters: Record<string, unknown>;
  createdAt: string;
  completedAt?: string;
  /** When its runner last said it was alive (the creation time for a finished task's last word). */
  lastHeartbeatAt: string;
  result?: TaskResult;
  error?: TaskError;
  /** Log lines refused once the task had its maximum. */
  droppedLogLines: number;
}

export type StoredTaskEvent = TaskEvent & { id: number };

export interface TaskQuery {
  createdBy?: string;
  status?: TaskStatus;
  limit?: number;
  offset?: number;
}

/** Why a task whose process went away is failed. */
export const RESTARTED_REASON = 'portal restarted while this task ran';

/** The value that replaces a secret parameter in what is stored and shown. */
export const REDACTED = '[redacted]';

const SECRET_NAME = /(secret|token|password|passwd|credential|api[-_]?key|private[-_]?key)/i;
/** A log line longer than this is stored cut, with a note of how much was cut. */
const MAX_LOG_LINE = 4096;

export interface TaskStoreOptions {
  /** Log lines kept per task (PORTAL_SCAFFOLDER_LOG_LINES, default 2000); later ones are counted, not kept. */
  maxLogLines?: number;
  /** A processing task whose runner has not said it is alive for this long is failed (default 60 s). */
  staleMs?: number;
  /** This process's runner id (default host:pid:random). */
  runner?: string;
  now?: () => number;
}

interface TaskRow {
  id: string;
  template: string;
  version: string | null;
  createdBy: string;
  status: string;
  parameters: string;
  createdAtMs: number | string | bigint;
  completedAtMs: number | string | bigint | null;
  result: string | null;
  error: string | null;
  runner: string;
  heartbeatAtMs: number | string | bigint;
  droppedLogLines: number | string;
}

const TASK_COLUMNS =
  '"id", "template", "version", "createdBy", "status", "parameters", "createdAtMs", "completedAtMs", "result", "error", "runner", "heartbeatAtMs", "droppedLogLines"';

const iso = (ms: number | string | bigint) => new Date(Number(ms)).toISOString();

function taskOf(r: TaskRow): Task {
  return {
    id: r.id,
    template: r.template,
    version: r.version,
    createdBy: r.createdBy,
    status: r.status as TaskStatus,
    parameters: JSON.parse(r.parameters) as Record<string, unknown>,
    createdAt: iso(r.createdAtMs),
    ...(r.completedAtMs === null ? {} : { completedAt: iso(r.completedAtMs) }),
    lastHeartbeatAt: iso(r.heartbeatAtMs),
    ...(r.result === null ? {} : { result: JSON.parse(r.result) as TaskResult }),
    ...(r.error === null ? {} : { error: JSON.parse(r.error) as TaskError }),
    droppedLogLines: Number(r.droppedLogLines),
  };
}

/** A runner id: which host and process runs a task (and a random part, for a pid used again). */
function runnerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** Is the process that wrote `runner` gone? Only known for this host; elsewhere the heartbeat decides. */
function runnerGone(runner: string, own: string): boolean {
  if (runner === own) return false;
  const [host, pid] = runner.split(':');
  if (host !== hostname()) return false;
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0 || n === process.pid) return true; // an earlier life of this pid
  try {
    process.kill(n, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class ScaffolderTaskStore {
  readonly runner: string;
  readonly maxLogLines: number;
  private readonly staleMs: number;
  private readonly now: () => number;
  /** Per running task of this process: the next event number and the log lines kept so far. */
  private readonly running = new Map<string, { next: number; logs: number }>();
  /** Per task, the tail of its queued writes: one task's events are written in order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly listeners = new Map<string, Set<(e: StoredTaskEvent) => void>>();
  /** Told the id of each task of this process that was cancelled (here at once, by another replica at the sweep). */
  private readonly cancelListeners = new Set<(taskId: string) => void>();
  private readonly cancelNoticed = new Set<string>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly sql: SqlDriver,
    opts: TaskStoreOptions = {},
  ) {
    this.runner = opts.runner ?? runnerId();
    this.maxLogLines = opts.maxLogLines ?? numberFromEnv('PORTAL_SCAFFOLDER_LOG_LINES') ?? 2000;
    this.staleMs = opts.staleMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The store, with every task left processing by a process that is gone marked failed, and a sweep every
   * third of `staleMs` (heartbeats of this process's tasks, and tasks of replicas that stopped).
   */
  static async open(sql: SqlDriver, opts: TaskStoreOptions & { sweep?: boolean } = {}) {
    const store = new ScaffolderTaskStore(sql, opts);
    await store.recoverInterrupted();
    if (opts.sweep !== false) store.startSweeping();
    return store;
  }

  startSweeping(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(
      () => {
        void this.heartbeat()
          .then(() => this.recoverInterrupted())
          .catch((err: Error) => process.stderr.write(`scaffolder: task sweep failed: ${err.message}\n`));
      },
      Math.max(1000, Math.floor(this.staleMs / 3)),
    );
    this.sweeper.unref();
  }

  /** Stop the sweep and wait for every queued write. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await Promise.all([...this.queues.values()].map((q) => q.catch(() => undefined)));
  }

  private async heartbeat(): Promise<void> {
    if (this.running.size === 0) return;
    await this.sql.exec(
      'UPDATE "ScaffolderTask" SET "heartbeatAtMs" = ? WHERE "runner" = ? AND "status" = ?',
      [this.now(), this.runner, 'processing'],
    );
    // Tasks of this process another replica cancelled since the last sweep.
    const rows = await this.sql.query<{ id: string }>(
      'SELECT "id" FROM "ScaffolderTask" WHERE "runner" = ? AND "status" = ?',
      [this.runner, 'cancelled'],
    );
    for (const r of rows) if (this.running.has(r.id)) this.noticeCancelled(r.id);
  }

  private noticeCancelled(taskId: string): void {
    if (this.cancelNoticed.has(taskId)) return;
    this.cancelNoticed.add(taskId);
    for (const fn of this.cancelListeners) fn(taskId);
  }

  /** Hear of this process's tasks being cancelled (the runner stops them). */
  onCancelled(fn: (taskId: string) => void): () => void {
    this.cancelListeners.add(fn);
    return () => this.cancelListeners.delete(fn);
  }

  /**
   * Cancel a processing task: its status is `cancelled` at once; the process running it stops before its
   * next step (this process at once, another replica at its next sweep) and stores the completion.
   * False when the task is not processing.
   */
  async cancel(taskId: string): Promise<boolean> {
    const at = this.now();
    const moved = await this.sql.exec(
      'UPDATE "ScaffolderTask" SET "status" = ?, "completedAtMs" = ? WHERE "id" = ? AND "status" = ?',
      ['cancelled', at, taskId, 'processing'],
    );
    if (moved !== 1) return false;
    if (this.running.has(taskId)) this.noticeCancelled(taskId);
    return true;
  }

  /**
   * Run a failed or cancelled task again under the same id (Backstage's retry): processing again, run by
   * this process, its new events after the old ones. Undefined when the task is not failed or cancelled, or
   * its last run has not stored its completion yet (it is still stopping).
   */
  async restart(taskId: string): Promise<Task | undefined> {
    if (this.running.has(taskId)) return undefined;
    const last = await this.sql.query<{ seq: number | string; type: string }>(
      'SELECT "seq", "type" FROM "ScaffolderTaskEvent" WHERE "taskId" = ? ORDER BY "seq" DESC LIMIT 1',
      [taskId],
    );
    if (last[0]?.type !== 'completion') return undefined;
    const at = this.now();
    const moved = await this.sql.exec(
      'UPDATE "ScaffolderTask" SET "status" = ?, "result" = NULL, "error" = NULL, "completedAtMs" = NULL, "runner" = ?, "heartbeatAtMs" = ? WHERE "id" = ? AND "status" IN (?, ?)',
      ['processing', this.runner, at, taskId, 'failed', 'cancelled'],
    );
    if (moved !== 1) return undefined;
    const logs = await this.sql.query<{ n: number | string }>(
      'SELECT COUNT(*) AS "n" FROM "ScaffolderTaskEvent" WHERE "taskId" = ? AND "type" = ?',
      [taskId, 'log'],
    );
    this.running.set(taskId, { next: Number(last[0].seq) + 1, logs: Number(logs[0]?.n ?? 0) });
    this.cancelNoticed.delete(taskId);
    return this.get(taskId);
  }

  /**
   * Fail every processing task whose runner is gone (a process on this host that no longer exists, or an
   * earlier life of this one) or silent for `staleMs`. Returns the ids failed now.
   */
  async recoverInterrupted(): Promise<string[]> {
    const rows = await this.sql.query<{ id: string; runner: string; heartbeatAtMs: number | string }>(
      'SELECT "id", "runner", "heartbeatAtMs" FROM "ScaffolderTask" WHERE "status" = ?',
      ['processing'],
    );
    const failed: string[] = [];
    for (const r of rows) {
      if (this.running.has(r.id)) continue;
      const silentMs = this.now() - Number(r.heartbeatAtMs);
      if (!runnerGone(r.runner, this.runner) && silentMs < this.staleMs) continue;
      const error: TaskError = { message: RESTARTED_REASON, status: 500 };
      const at = this.now();
      const done = await this.sql.transaction(async (tx) => {
        const moved = await tx.exec(
          'UPDATE "ScaffolderTask" SET "status" = ?, "error" = ?, "completedAtMs" = ? WHERE "id" = ? AND "status" = ?',
          ['failed', JSON.stringify(error), at, r.id, 'processing'],
        );
        if (moved !== 1) return false; // another replica got there first
        const max = await tx.query<{ seq: number | string | null }>(
          'SELECT MAX("seq") AS "seq" FROM "ScaffolderTaskEvent" WHERE "taskId" = ?',
          [r.id],
        );
        const seq = max[0]?.seq === null || max[0]?.seq === undefined ? 0 : Number(max[0].seq) + 1;
        const event: TaskEvent = {
          type: 'completion',
          status: 'failed',
          message: RESTARTED_REASON,
          at: iso(at),
        };
        await tx.exec(
          'INSERT INTO "ScaffolderTaskEvent" ("taskId", "seq", "type", "atMs", "body") VALUES (?, ?, ?, ?, ?)',
          [r.id, seq, 'completion', at, JSON.stringify(event)],
        );
        return true;
      });
      if (done) failed.push(r.id);
    }
    return failed;
  }

  /** A new task, stored before anyone is told its id. */
  async create(input: {
    template: string;
    version?: string | null;
    actor: TaskActor;
    parameters: Record<string, unknown>;
    id?: string;
  }): Promise<Task> {
    const id = input.id ?? randomUUID();
    const at = this.now();
    await this.sql.exec(
      `INSERT INTO "ScaffolderTask" (${TASK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        input.template,
        input.version ?? null,
        input.actor.id,
        'processing',
        JSON.stringify(input.parameters),
        at,
        null,
        null,
        null,
        this.runner,
        at,
        0,
      ],
    );
    this.running.set(id, { next: 0, logs: 0 });
    return (await this.get(id)) as Task;
  }

  /** Run `work` after every write queued for this task (writes of one task land in order). */
  private enqueue<T>(taskId: string, work: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(taskId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(work);
    const tail = next.catch(() => undefined);
    this.queues.set(taskId, tail);
    void tail.then(() => {
      if (this.queues.get(taskId) === tail) this.queues.delete(taskId);
    });
    return next;
  }

  /**
   * Store one event of a task this process runs, then tell its followers. A log line past the task's
   * maximum is counted (droppedLogLines), not kept: the answer is then undefined.
   */
  append(taskId: string, event: TaskEvent): Promise<StoredTaskEvent | undefined> {
    return this.enqueue(taskId, () => this.write(taskId, event));
  }

  private async write(taskId: string, event: TaskEvent): Promise<StoredTaskEvent | undefined> {
    const state = this.running.get(taskId);
    if (!state) throw new Error(`task ${taskId} is not run by this process`);
    const at = this.now();
    if (event.type === 'log') {
      if (state.logs >= this.maxLogLines) {
        await this.sql.exec(
          'UPDATE "ScaffolderTask" SET "droppedLogLines" = "droppedLogLines" + 1, "heartbeatAtMs" = ? WHERE "id" = ?',
          [at, taskId],
        );
        return undefined;
      }
      if (event.message.length > MAX_LOG_LINE)
        event = {
          ...event,
          message: `${event.message.slice(0, MAX_LOG_LINE)}… (${event.message.length - MAX_LOG_LINE} more characters)`,
        };
    }
    const stored: StoredTaskEvent = { ...event, id: state.next };
    await this.sql.transaction(async (tx) => {
      await tx.exec(
        'INSERT INTO "ScaffolderTaskEvent" ("taskId", "seq", "type", "atMs", "body") VALUES (?, ?, ?, ?, ?)',
        [taskId, stored.id, event.type, at, JSON.stringify(event)],
      );
      await tx.exec('UPDATE "ScaffolderTask" SET "heartbeatAtMs" = ? WHERE "id" = ?', [at, taskId]);
    });
    state.next++;
    if (event.type === 'log') state.logs++;
    for (const fn of this.listeners.get(taskId) ?? []) fn(stored);
    return stored;
  }

  /** Finish a task this process runs: its outcome and the completion event, after every queued event. */
  finish(
    taskId: string,
    outcome:
      | { status: 'completed'; result: TaskResult }
      | { status: 'failed' | 'cancelled'; error: TaskError },
  ): Promise<void> {
    return this.enqueue(taskId, async () => {
      const state = this.running.get(taskId);
      if (!state) throw new Error(`task ${taskId} is not run by this process`);
      const at = this.now();
      const event: TaskEvent = {
        type: 'completion',
        status: outcome.status,
        ...(outcome.status !== 'completed' ? { message: outcome.error.message } : {}),
        at: iso(at),
      };
      const stored: StoredTaskEvent = { ...event, id: state.next };
      await this.sql.transaction(async (tx) => {
        await tx.exec(
          'UPDATE "ScaffolderTask" SET "status" = ?, "result" = ?, "error" = ?, "completedAtMs" = ?, "heartbeatAtMs" = ? WHERE "id" = ?',
          [
            outcome.status,
            outcome.status === 'completed' ? JSON.stringify(outcome.result) : null,
            outcome.status !== 'completed' ? JSON.stringify(outcome.error) : null,
            at,
            at,
            taskId,
          ],
        );
        await tx.exec(
          'INSERT INTO "ScaffolderTaskEvent" ("taskId", "seq", "type", "atMs", "body") VALUES (?, ?, ?, ?, ?)',
          [taskId, stored.id, 'completion', at, JSON.stringify(event)],
        );
      });
      this.running.delete(taskId);
      this.cancelNoticed.delete(taskId);
      for (const fn of this.listeners.get(taskId) ?? []) fn(stored);
      this.listeners.delete(taskId);
    });
  }

  async get(id: string): Promise<Task | undefined> {
    const rows = await this.sql.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM "ScaffolderTask" WHERE "id" = ?`,
      [id],
    );
    return rows[0] ? taskOf(rows[0]) : undefined;
  }

  /** Tasks newest first, filtered by who created them and status; with how many match in all. */
  async list(q: TaskQuery = {}): Promise<{ items: Task[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.createdBy !== undefined) {
      where.push('"createdBy" = ?');
      params.push(q.createdBy);
    }
    if (q.status !== undefined) {
      where.push('"status" = ?');
      params.push(q.status);
    }
    const clause = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const offset = Math.max(q.offset ?? 0, 0);
    const rows = await this.sql.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM "ScaffolderTask"${clause} ORDER BY "createdAtMs" DESC, "id" DESC LIMIT ? OFFSET ?`,
      [...params, limit, offset],
    );
    const count = await this.sql.query<{ n: number | string }>(
      `SELECT COUNT(*) AS "n" FROM "ScaffolderTask"${clause}`,
      params,
    );
    return { items: rows.map(taskOf), total: Number(count[0]?.n ?? 0) };
  }

  /** A task's events after event `after` (-1: all), in order. */
  async events(taskId: string, after = -1): Promise<StoredTaskEvent[]> {
    const rows = await this.sql.query<{ seq: number | string; body: string }>(
      'SELECT "seq", "body" FROM "ScaffolderTaskEvent" WHERE "taskId" = ? AND "seq" > ? ORDER BY "seq"',
      [taskId, after],
    );
    return rows.map((r) => ({ ...(JSON.parse(r.body) as TaskEvent), id: Number(r.seq) }));
  }

  /** Hear a task's events as this process stores them (another replica's task: poll `events`). */
  subscribe(id: string, fn: (e: StoredTaskEvent) => void): () => void {
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(fn);
    return () => {
      set?.delete(fn);
      if (set?.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }
}

/**
 * The parameters as they may be kept and shown: a field the template marks secret (`ui:field: Secret`,
 * `ui:widget: password`, `ui:backstage.review.mask`) or whose name says so (token, password, apiKey, …)
 * is replaced by "[redacted]", at any depth.
 */
export function redactParameters(
  values: Record<string, unknown>,
  pages: readonly ParameterPage[] = [],
): Record<string, unknown> {
  const marked = new Set<string>();
  // Fields of dependency/oneOf branches too: a secret in a branch is as secret.
  const fields = new Map<string, Record<string, unknown>>();
  for (const page of pages) pageFields(page as unknown as Record<string, unknown>, fields);
  for (const [name, schema] of fields) {
    const s = schema;
    const review = (s['ui:backstage'] as { review?: { mask?: unknown } } | undefined)?.review;
    if (s['ui:field'] === 'Secret' || s['ui:widget'] === 'password' || review?.mask !== undefined)
      marked.add(name);
  }
  const walk = (v: unknown, depth: number): unknown => {
    if (Array.isArray(v)) return depth > 20 ? REDACTED : v.map((x) => walk(x, depth + 1));
    if (v && typeof v === 'object') {
      if (depth > 20) return REDACTED;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = SECRET_NAME.test(k) ? REDACTED : walk(x, depth + 1);
      return out;
    }
    return v;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values))
    out[k] = marked.has(k) || SECRET_NAME.test(k) ? REDACTED : walk(v, 1);
  return out;
}

/** What a task made, as it is stored and shown: no file contents. */
export function taskResultOf(r: ScaffoldResult): TaskResult {
  return {
    dir: r.dir,
    entityRef: r.entityRef,
    files: r.files,
    branch: r.branch,
    commitHash: r.commitHash,
    repoUrl: r.repoUrl,
    modified: r.modified?.map((m) => m.path),
    output: r.output,
    durationMs: r.durationMs,
  };
}

/** What a task looks like to readers: progress by step, the parameters (secrets redacted), the outcome. */
export function publicTask(t: Task, events: readonly StoredTaskEvent[]) {
  const steps = new Map<string, { id: string; name: string; status: string }>();
  for (const e of events)
    if (e.type === 'step') steps.set(e.stepId, { id: e.stepId, name: e.name, status: e.status });
  return {
    id: t.id,
    template: t.template,
    version: t.version,
    status: t.status,
    createdBy: t.createdBy,
    createdAt: t.createdAt,
    completedAt: t.completedAt,
    parameters: t.parameters,
    steps: [...steps.values()],
    result: t.result,
    error: t.error,
    droppedLogLines: t.droppedLogLines,
  };
}

function numberFromEnv(name: string): number | undefined {
  const v = process.env[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}
