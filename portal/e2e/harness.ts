import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import type { Browser, Page } from 'playwright-core';
import { type RunningServer, type ServeOptions, startServer } from '../server/server.ts';
import { launchChromium, SHOTS } from './browser.ts';

export const REPO = path.resolve(import.meta.dirname, '..', '..');
export { CHROMIUM, SHOTS, shot, unavailable } from './browser.ts';

/** `next build` when portal/.next has no build yet (CI builds first; a fresh checkout builds here). */
export function ensureBuild(): void {
  if (existsSync(path.join(REPO, 'portal', '.next', 'BUILD_ID'))) return;
  const lock = path.join(tmpdir(), 'portal-next-build.lock');
  const started = Date.now();
  // Two journey files may start together: one builds, the other waits for BUILD_ID.
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(path.join(REPO, 'portal', '.next', 'BUILD_ID'))) return;
      if (Date.now() - started > 300_000) throw new Error('Timed out waiting for another next build');
      spawnSync('sleep', ['1']);
    }
  }
  try {
    if (existsSync(path.join(REPO, 'portal', '.next', 'BUILD_ID'))) return;
    process.stderr.write('portal/.next/BUILD_ID is missing: running `npm run build -w @bank/portal` first\n');
    const r = spawnSync('npm', ['run', 'build', '-w', '@bank/portal'], {
      cwd: REPO,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`next build failed (exit ${r.status}); the journeys need a built UI`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Descriptors with hostile text, ingested beside the estate (bad input must render inert). */
const HOSTILE = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: hostile-widget
  title: "<img src=x onerror=\\"window.__xss='title'\\">Hostile"
  description: "<script>window.__xss='script'</script><img src=x onerror=\\"window.__xss='img'\\"> renders as text"
  tags: [test]
  links:
    - url: https://hostile.example/
      title: "<b onmouseover=\\"window.__xss='link'\\">Docs</b>"
  annotations:
    bank.io/tier: "3"
spec:
  type: service
  lifecycle: experimental
  owner: group:default/ledger
`;

export interface Portal {
  server: RunningServer;
  browser: Browser;
  page: Page;
  url: string;
  close(): Promise<void>;
}

/**
 * Ingests services/ (and the hostile fixture) into a fresh SQLite file, serves API + UI on port 0, opens
 * Chromium. `roots` replaces services/ and the fixture (a generated estate of another size).
 */
export async function openPortal(serve: Partial<ServeOptions> = {}, roots?: string[]): Promise<Portal> {
  ensureBuild();
  const dir = mkdtempSync(path.join(tmpdir(), 'portal-e2e-'));
  const hostile = path.join(dir, 'hostile');
  mkdirSync(hostile);
  writeFileSync(path.join(hostile, 'catalog-info.yaml'), HOSTILE);
  const services = path.join(REPO, 'services');
  if (!roots && !existsSync(path.join(services, 'card-api', 'catalog-info.yaml'))) {
    throw new Error('services/ holds no estate (card-api is missing): run `npm run estate` first');
  }
  const store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
  const catalog = new CatalogService(store, roots ?? [services, hostile]);
  await catalog.ingest();
  const server = await startServer({ catalog, port: 0, ui: true, ...serve });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(30_000);
  mkdirSync(SHOTS, { recursive: true });
  return {
    server,
    browser,
    page,
    url: server.url,
    close: async () => {
      await browser.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
