/**
 * Tasks: a scaffold run in the background, with its step events kept for polling and streaming. Kept in
 * memory (the newest 500): a task is minutes of interest, its lasting record is the audit log, the git
 * branch and the catalogue entry.
 */
import { randomUUID } from 'node:crypto';
import type { ScaffoldResult } from './engine.ts';
import type { TaskActor, TaskEvent } from './types.ts';

export type TaskStatus = 'processing' | 'completed' | 'failed';

export interface Task {
  id: string;
  template: string;
  status: TaskStatus;
  createdBy: string;
  createdAt: string;
  completedAt?: string;
  events: (TaskEvent & { id: number })[];
  result?: ScaffoldResult;
  error?: { message: string; step?: string; status: number };
}

const MAX_TASKS = 500;

export class TaskStore {
  private readonly tasks = new Map<string, Task>();
  private readonly listeners = new Map<string, Set<(e: TaskEvent & { id: number }) => void>>();

  create(template: string, actor: TaskActor): Task {
    const task: Task = {
      id: randomUUID(),
      template,
      status: 'processing',
      createdBy: actor.id,
      createdAt: new Date().toISOString(),
      events: [],
    };
    this.tasks.set(task.id, task);
    while (this.tasks.size > MAX_TASKS) {
      const oldest = this.tasks.keys().next().value as string;
      this.tasks.delete(oldest);
      this.listeners.delete(oldest);
    }
    return task;
  }

  get(id: string): Task | undefined {
    return this.tasks.get(id);
  }

  list(): Task[] {
    return [...this.tasks.values()].reverse();
  }

  push(task: Task, e: TaskEvent): void {
    const ev = { ...e, id: task.events.length };
    task.events.push(ev);
    for (const fn of this.listeners.get(task.id) ?? []) fn(ev);
  }

  finish(task: Task, patch: Pick<Task, 'status'> & Partial<Pick<Task, 'result' | 'error'>>): void {
    Object.assign(task, patch, { completedAt: new Date().toISOString() });
    this.push(task, {
      type: 'completion',
      status: patch.status === 'completed' ? 'completed' : 'failed',
      message: patch.error?.message,
      at: task.completedAt as string,
    });
  }

  subscribe(id: string, fn: (e: TaskEvent & { id: number }) => void): () => void {
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(fn);
    return () => set?.delete(fn);
  }
}

/** What a task looks like to readers: no parameters, no internal data, just progress and the outcome. */
export function publicTask(t: Task) {
  const steps = new Map<string, { id: string; name: string; status: string }>();
  for (const e of t.events)
    if (e.type === 'step') steps.set(e.stepId, { id: e.stepId, name: e.name, status: e.status });
  return {
    id: t.id,
    template: t.template,
    status: t.status,
    createdBy: t.createdBy,
    createdAt: t.createdAt,
    completedAt: t.completedAt,
    steps: [...steps.values()],
    result: t.result
      ? {
          dir: t.result.dir,
          entityRef: t.result.entityRef,
          files: t.result.files,
          branch: t.result.branch,
          commitHash: t.result.commitHash,
          repoUrl: t.result.repoUrl,
          modified: t.result.modified?.map((m) => m.path),
          output: t.result.output,
          durationMs: t.result.durationMs,
        }
      : undefined,
    error: t.error,
  };
}
