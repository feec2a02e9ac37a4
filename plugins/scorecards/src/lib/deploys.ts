/**
 * Deploy facts for the deploy checks, read from plugins/deploys' store in pages: per service and
 * environment, the newest successful deploy (what runs there). Typed structurally so the scorecards do
 * not depend on the deploys plugin's internals.
 */
import type { DeployFacts } from './evaluate.ts';

export interface DeployRow {
  service: string;
  environment: string;
  version: string;
  startedAt: string;
  finishedAt: string | null;
}

/** Deploy facts kept current as deploys arrive (see ScorecardService.deployRecorded). */
export interface LiveDeployFacts extends DeployFacts {
  /** Take one stored deploy; true when it changed what runs in its environment. */
  add(deploy: DeployRow & { status: string }): boolean;
}

export interface DeploySource {
  environments: readonly string[];
  deploys: {
    list(q: {
      statuses?: ('succeeded' | 'started' | 'failed' | 'rolled_back')[];
      untilMs?: number;
      limit?: number;
    }): Promise<DeployRow[]>;
    count(): Promise<number>;
  };
}

const PAGE = 10_000;

export async function readDeployFacts(source: DeploySource): Promise<LiveDeployFacts> {
  const running = new Map<string, { version: string; at: number; startedMs: number }>();
  let empty = (await source.deploys.count()) === 0;
  let untilMs: number | undefined;
  // Newest first: the first deploy seen per (service, environment) is what runs there.
  for (let page = 0; page < 100 && !empty; page++) {
    const rows = await source.deploys.list({ statuses: ['succeeded'], untilMs, limit: PAGE });
    for (const r of rows) {
      const key = `${r.service}\n${r.environment}`;
      if (!running.has(key))
        running.set(key, {
          version: r.version,
          at: Date.parse(r.finishedAt ?? r.startedAt),
          startedMs: Date.parse(r.startedAt),
        });
    }
    if (rows.length < PAGE) break;
    // Pages by start time; a deploy sharing the boundary millisecond is read twice, harmlessly.
    untilMs = Date.parse(rows[rows.length - 1].startedAt);
  }
  return {
    environments: source.environments,
    get empty() {
      return empty;
    },
    running: (ref, env) => running.get(`${ref}\n${env}`),
    add(d) {
      // What runs is the newest successful deploy by start time, as the store's pages order them.
      if (d.status !== 'succeeded') return false;
      const key = `${d.service}\n${d.environment}`;
      const startedMs = Date.parse(d.startedAt);
      const was = running.get(key);
      if (was && was.startedMs > startedMs) return false;
      const next = { version: d.version, at: Date.parse(d.finishedAt ?? d.startedAt), startedMs };
      if (was && was.version === next.version && was.at === next.at) return false;
      running.set(key, next);
      empty = false;
      return true;
    },
  };
}
