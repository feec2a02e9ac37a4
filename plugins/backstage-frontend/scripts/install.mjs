#!/usr/bin/env node
// Installs this package's own node_modules (React 18 and Backstage's packages) from its own lock file.
// Run by the root postinstall: the package is kept out of the root workspaces because npm would hoist
// React-using libraries (react-use, swr, react-aria…) next to the portal's React 19 at the root, and a
// Backstage app bundled from there would load two Reacts. Skipped when node_modules already matches the lock.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = path.resolve(import.meta.dirname, '..');
const lock = path.join(dir, 'package-lock.json');
const installed = path.join(dir, 'node_modules', '.package-lock.json');

function upToDate() {
  if (!existsSync(installed)) return false;
  const want = JSON.parse(readFileSync(lock, 'utf8')).packages ?? {};
  const have = JSON.parse(readFileSync(installed, 'utf8')).packages ?? {};
  for (const [where, entry] of Object.entries(want)) {
    if (where === '') continue;
    if (have[where]?.version !== entry.version && !entry.link) return false;
  }
  return true;
}

if (process.env.PORTAL_SKIP_BACKSTAGE_PLUGIN_INSTALL === '1') process.exit(0);
if (upToDate()) {
  console.log('backstage-frontend: node_modules matches its lock file');
  process.exit(0);
}
// The parent npm's settings for the root install (workspace selection, save flags…) must not leak in.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) =>
      !/^npm_(lifecycle_|package_|config_(workspace|include_workspace_root|save|global|prefix|location))/.test(
        k,
      ),
  ),
);
console.log('backstage-frontend: npm ci (its own React 18 and Backstage packages)');
const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
