// Postinstall: compile Backstage's entity schemas ahead of time (see src/model/precompiled.ts), so that the
// first ingest does not spend half a second on it. Safe to run again; prints one line.
import path from 'node:path';
import { writePrecompiled } from '../src/model/precompiled.ts';

const started = performance.now();
const out = await writePrecompiled();
console.log(
  `catalog: Backstage's entity schemas precompiled to ${path.relative(process.cwd(), out)} in ${Math.round(performance.now() - started)} ms`,
);
