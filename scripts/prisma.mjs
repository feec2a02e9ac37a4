#!/usr/bin/env node
// Regenerates catalog/prisma/{sqlite,postgresql}/schema.prisma from catalog/prisma/models.prisma.part and runs
// `prisma generate` for both providers, offline. Runs at postinstall; quick and idempotent: a provider whose
// schema (and Prisma version) did not change since its last generate is skipped. Prints one line.
//
// Prisma's CLI insists on a schema engine binary even for `generate`, which never executes it; the native one
// cannot be downloaded here, so PRISMA_SCHEMA_ENGINE_BINARY points at an existing file (this Node binary).
// Usage: node scripts/prisma.mjs [--force]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prismaDir = join(root, 'catalog', 'prisma');
const generatedDir = join(root, 'catalog', 'src', 'store', 'generated');
const providers = ['sqlite', 'postgresql'];
const force = process.argv.includes('--force');
const started = Date.now();

function header(provider) {
  return `// Generated from ../models.prisma.part by scripts/prisma.mjs; edit the .part file, not this one.
generator client {
  provider = "prisma-client"
  output   = "../../src/store/generated/${provider}"
  moduleFormat = "esm"
}

datasource db {
  provider = "${provider}"
}

`;
}

function writeIfChanged(file, content) {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  return true;
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')}:\n${out}`)),
    );
  });
}

async function main() {
  const models = readFileSync(join(prismaDir, 'models.prisma.part'), 'utf8');
  const require = createRequire(join(root, 'package.json'));
  let prismaCli;
  let prismaVersion = 'unknown';
  try {
    const pkgPath = require.resolve('prisma/package.json');
    prismaVersion = JSON.parse(readFileSync(pkgPath, 'utf8')).version;
    prismaCli = join(dirname(pkgPath), 'build', 'index.js');
  } catch {
    console.log('prisma: schemas written; `prisma` is not installed, client generation skipped');
    return;
  }
  const env = {
    ...process.env,
    // Any existing file: `generate` never executes the engine, it only checks that it exists.
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
    PRISMA_GENERATE_SKIP_AUTOINSTALL: '1',
  };
  const done = [];
  const skipped = [];
  await Promise.all(
    providers.map(async (provider) => {
      const schemaPath = join(prismaDir, provider, 'schema.prisma');
      const schema = header(provider) + models;
      writeIfChanged(schemaPath, schema);
      const stampPath = join(generatedDir, provider, '.schema-hash');
      const hash = createHash('sha256').update(`${prismaVersion}\n${schema}`).digest('hex');
      if (!force && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === hash) {
        skipped.push(provider);
        return;
      }
      await run(process.execPath, [prismaCli, 'generate', '--schema', relative(root, schemaPath)], env);
      writeIfChanged(stampPath, hash);
      done.push(provider);
    }),
  );
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const parts = [];
  if (done.length) parts.push(`generated ${done.sort().join(', ')}`);
  if (skipped.length) parts.push(`up to date: ${skipped.sort().join(', ')}`);
  console.log(`prisma: ${parts.join('; ')} (catalog/src/store/generated, ${secs}s)`);
}

main().catch((err) => {
  console.error(`prisma: client generation failed: ${err.message}`);
  process.exit(1);
});
