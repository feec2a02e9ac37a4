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

export async function readDeployFacts(source: DeploySource): Promise<DeployFacts> {
  const running = new Map<string, { version: string; at: number }>();
  const empty = (await source.deploys.count()) === 0;
  let untilMs: number | undefined;
  // Newest first: the first deploy seen per (service, environment) is what runs there.
  for (let page = 0; page < 100 && !empty; page++) {
    const rows = await source.deploys.list({ statuses: ['succeeded'], untilMs, limit: PAGE });
    for (const r of rows) {
      const key = `${r.service}\n${r.environment}`;
      if (!running.has(key))
        running.set(key, { version: r.version, at: Date.parse(r.finishedAt ?? r.startedAt) });
    }
    if (rows.length < PAGE) break;
    // Pages by start time; a deploy sharing the boundary millisecond is read twice, harmlessly.
    untilMs = Date.parse(rows[rows.length - 1].startedAt);
  }
  return {
    environments: source.environments,
    empty,
    running: (ref, env) => running.get(`${ref}\n${env}`),
  };
}
