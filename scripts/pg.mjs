#!/usr/bin/env node
// A throwaway PostgreSQL 15 for tests and CI (see scripts/pg-harness.mjs).
//   node scripts/pg.mjs start [--dir D] [--port P] [--no-install]   prints the URL, also written to <dir>/url
//   node scripts/pg.mjs stop [--dir D]
//   node scripts/pg.mjs url [--dir D]                                prints the URL of a running cluster
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT, defaultDir, startPostgres, stopPostgres } from './pg-harness.mjs';

const usage = 'usage: node scripts/pg.mjs start|stop|url [--dir D] [--port P] [--no-install]';

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      'no-install': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  const dir = values.dir || defaultDir();
  if (values.help || !command) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  if (command === 'start') {
    const port = values.port ? Number(values.port) : DEFAULT_PORT;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad --port ${values.port}`);
    const pg = await startPostgres({ dir, port, install: !values['no-install'] });
    console.log(pg.url);
    return 0;
  }
  if (command === 'stop') {
    const stopped = await stopPostgres({ dir });
    console.error(stopped ? `pg: stopped (${dir})` : `pg: not running (${dir})`);
    return 0;
  }
  if (command === 'url') {
    const file = join(dir, 'url');
    if (!existsSync(file)) throw new Error(`no cluster in ${dir}; run: node scripts/pg.mjs start`);
    console.log(readFileSync(file, 'utf8').trim());
    return 0;
  }
  console.error(usage);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err.message);
    process.exit(1);
  },
);
