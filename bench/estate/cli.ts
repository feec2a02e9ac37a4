/**
 * `npm run estate -- --services N --seed S --out DIR`: writes the bank's estate and prints its shape as JSON.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateEstate, summarise } from './generate.ts';
import { writeEstate } from './write.ts';

const USAGE = 'usage: npm run estate -- [--services 350] [--seed 42] [--out services] [--dry-run]';

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`${flag} must be a positive integer, got "${value}"\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

function main(): void {
  let values: { services: string; seed: string; out: string; 'dry-run'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        services: { type: 'string', default: '350' },
        seed: { type: 'string', default: '42' },
        out: { type: 'string', default: 'services' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const services = positiveInt(values.services, '--services');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) {
    process.stderr.write(`--seed must be an integer, got "${values.seed}"\n${USAGE}\n`);
    process.exit(2);
  }
  const started = performance.now();
  const estate = generateEstate({ services, seed });
  const generatedMs = performance.now() - started;
  const out = resolve(values.out);
  const report = values['dry-run'] ? { files: 0, removedServiceFolders: 0 } : writeEstate(estate, out);
  const summary = summarise(estate);
  const result = {
    out: values['dry-run'] ? null : out,
    seed,
    ...summary,
    cycles:
      summary.cycles.length <= 10 ? summary.cycles : `${summary.cycles.length} strongly connected components`,
    files: report.files,
    removedServiceFolders: report.removedServiceFolders,
    generateMs: Math.round(generatedMs),
    totalMs: Math.round(performance.now() - started),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main();
