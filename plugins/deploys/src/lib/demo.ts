import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEPLOY_STATUSES, type DeployStatus } from './model.ts';
import type { ResolvedDeployEvent } from './store.ts';

/** The file the estate generator writes next to the descriptors (bench/estate/deploys.ts). */
export const DEMO_DEPLOYS_FILE = 'deploys.demo.json';

interface DemoRow {
  id: string;
  service: string;
  environment: string;
  version: string;
  image?: string;
  commit?: string;
  actor?: string;
  status: string;
  startedMinutesAgo: number;
  durationMinutes: number;
}

/**
 * The demo history under `root`, with its times made absolute against `now` (it is stored as minutes ago,
 * so it always looks recent). Rows that do not have the expected shape are skipped, never guessed at.
 */
export function readDemoHistory(root: string, now = Date.now()): ResolvedDeployEvent[] {
  const file = path.join(root, DEMO_DEPLOYS_FILE);
  if (!existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { deploys?: unknown };
  if (!Array.isArray(parsed.deploys)) throw new Error(`${file}: expected {"deploys": [...]}`);
  const out: ResolvedDeployEvent[] = [];
  for (const raw of parsed.deploys as DemoRow[]) {
    if (
      typeof raw?.id !== 'string' ||
      typeof raw.service !== 'string' ||
      typeof raw.environment !== 'string' ||
      typeof raw.version !== 'string' ||
      !(DEPLOY_STATUSES as readonly string[]).includes(raw.status) ||
      !Number.isFinite(raw.startedMinutesAgo) ||
      !Number.isFinite(raw.durationMinutes)
    )
      continue;
    const startedAtMs = now - raw.startedMinutesAgo * 60_000;
    out.push({
      id: raw.id,
      service: raw.service.includes(':') ? raw.service : `component:default/${raw.service}`,
      environment: raw.environment,
      version: raw.version,
      image: raw.image ?? null,
      commit: raw.commit ?? null,
      actor: raw.actor ?? null,
      status: raw.status as DeployStatus,
      startedAtMs,
      finishedAtMs:
        raw.status === 'started' ? null : Math.min(now, startedAtMs + raw.durationMinutes * 60_000),
      labels: null,
    });
  }
  return out;
}
