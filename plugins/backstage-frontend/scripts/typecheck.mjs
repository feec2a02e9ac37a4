#!/usr/bin/env node
// Type-checks this package with its own tsconfig (React 18's types from its own node_modules), after the
// root project's check in `npm run typecheck`. Without this package's install it says so and passes,
// except under CI=true, where the install is part of `npm ci`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { notInstalled, PACKAGE_DIR } from './installed.mjs';

const why = notInstalled();
if (why) {
  if (process.env.CI === 'true') {
    console.error(`typecheck: ${why}`);
    process.exit(1);
  }
  console.warn(`typecheck: skipped plugins/backstage-frontend: ${why}`);
  process.exit(0);
}
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', PACKAGE_DIR, '--noEmit'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
