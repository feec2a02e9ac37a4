// A throwaway PostgreSQL 15 (Debian's packages) for tests, CI and local work. Plain Node ESM.
//
//   const pg = await startPostgres();            // { url, dir, port, started, stop() }
//   const url = await createDatabase(pg.url, 'migrate_test_1');   // fresh database, same server
//   await dropDatabase(url);
//
// The cluster lives in <dir> (default /tmp/portal-pg-<uid>), listens on 127.0.0.1:<port> (default 54329) with
// fsync off and trust auth, and has a database `portal`. Starting is idempotent: a running cluster in <dir>
// is reused (`started: false`), and `stop()` only stops a cluster that this call started. We run as root,
// and PostgreSQL refuses to run as root, so the server runs as the `postgres` user via runuser.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PG_BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';
export const DEFAULT_PORT = 54329;
export const defaultDir = () => `/tmp/portal-pg-${process.getuid?.() ?? 'user'}`;

const isRoot = process.getuid?.() === 0;

/** Why PostgreSQL cannot run here, or null when its binaries are present. */
export function postgresUnavailableReason() {
  if (!existsSync(join(PG_BIN, 'initdb'))) {
    return `PostgreSQL 15 is not installed (${join(PG_BIN, 'initdb')} is missing; apt-get install -y postgresql)`;
  }
  if (isRoot && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    return 'the `postgres` system user is missing (PostgreSQL refuses to run as root)';
  }
  return null;
}

/** Installs Debian's postgresql package when initdb is missing. */
export function installPostgres() {
  if (existsSync(join(PG_BIN, 'initdb'))) return false;
  if (!isRoot)
    throw new Error('pg: PostgreSQL is missing and installing it needs root (apt-get install -y postgresql)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', 'postgresql'], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  if (install().status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    if (install().status !== 0) throw new Error('pg: apt-get install -y postgresql failed');
  }
  return true;
}

/** Runs a PostgreSQL binary as the `postgres` user (when we are root) and returns its stdout. */
function pgRun(bin, args, opts = {}) {
  const file = join(PG_BIN, bin);
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  const res = spawnSync(cmd, argv, { encoding: 'utf8', cwd: '/', ...opts });
  if (res.error) throw res.error;
  return res;
}

function must(res, what) {
  if (res.status !== 0)
    throw new Error(`pg: ${what} failed (exit ${res.status}):\n${res.stderr || res.stdout}`);
  return res.stdout;
}

function isRunning(dataDir) {
  if (!existsSync(join(dataDir, 'postmaster.pid'))) return false;
  return pgRun('pg_ctl', ['-D', dataDir, 'status']).status === 0;
}

/** Port a running cluster in `dataDir` listens on (from postmaster.pid, line 4). */
function runningPort(dataDir) {
  try {
    const port = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
    return Number.isInteger(port) && port > 0 ? port : null;
  } catch {
    return null;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A cross-process lock (mkdir is atomic), so concurrent test files do not initdb the same directory. */
async function withLock(dir, fn) {
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      if (Date.now() > deadline) throw new Error(`pg: timed out waiting for ${lock}`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function ensureOwnedDir(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
}

function psql(port, sql, db = 'postgres') {
  return pgRun(
    'psql',
    ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-XAtq', '-c', sql],
    {
      env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
    },
  );
}

/**
 * Starts (or reuses) the throwaway cluster and makes sure database `portal` exists.
 * @param {{ dir?: string, port?: number, install?: boolean }} [opts]
 * @returns {Promise<{ url: string, dir: string, port: number, started: boolean, stop: () => Promise<void> }>}
 */
export async function startPostgres(opts = {}) {
  const dir = opts.dir || defaultDir();
  let port = Number(opts.port || DEFAULT_PORT);
  if (opts.install) installPostgres();
  const reason = postgresUnavailableReason();
  if (reason) throw new Error(`pg: ${reason}`);
  const dataDir = join(dir, 'data');
  let started = false;
  await withLock(dir, async () => {
    if (isRunning(dataDir)) {
      port = runningPort(dataDir) ?? port;
    } else {
      ensureOwnedDir(dir);
      if (!existsSync(join(dataDir, 'PG_VERSION'))) {
        rmSync(dataDir, { recursive: true, force: true });
        must(
          pgRun('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']),
          'initdb',
        );
      }
      const serverOpts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      must(
        pgRun('pg_ctl', [
          '-D',
          dataDir,
          '-o',
          serverOpts,
          '-l',
          join(dir, 'server.log'),
          '-w',
          '-t',
          '30',
          'start',
        ]),
        `pg_ctl start (see ${join(dir, 'server.log')})`,
      );
      started = true;
    }
    const exists = must(psql(port, "select 1 from pg_database where datname = 'portal'"), 'psql');
    if (exists.trim() !== '1') must(psql(port, 'create database portal'), 'create database portal');
  });
  const url = `postgres://postgres@127.0.0.1:${port}/portal`;
  writeFileSync(join(dir, 'url'), `${url}\n`);
  return {
    url,
    dir,
    port,
    started,
    stop: async () => {
      if (started) await stopPostgres({ dir });
    },
  };
}

/** Stops the cluster in `dir` (fast shutdown). Returns false when it was not running. */
export async function stopPostgres(opts = {}) {
  const dir = opts.dir || defaultDir();
  const dataDir = join(dir, 'data');
  if (!isRunning(dataDir)) return false;
  must(pgRun('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']), 'pg_ctl stop');
  return true;
}

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function adminQuery(url, sqls) {
  const { default: pg } = await import('pg');
  const u = new URL(url);
  const client = new pg.Client({
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: 'postgres',
  });
  await client.connect();
  try {
    for (const sql of sqls) await client.query(sql);
  } finally {
    await client.end();
  }
}

const quoteIdent = (name) => `"${String(name).replaceAll('"', '""')}"`;

/** Creates (or re-creates, empty) database `name` on the server of `url`; returns its URL. */
export async function createDatabase(url, name) {
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) throw new Error(`pg: bad database name ${JSON.stringify(name)}`);
  await adminQuery(url, [
    `drop database if exists ${quoteIdent(name)} with (force)`,
    `create database ${quoteIdent(name)}`,
  ]);
  return withDatabase(url, name);
}

/** Drops the database named in `url` (terminating its connections). */
export async function dropDatabase(url) {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  await adminQuery(url, [`drop database if exists ${quoteIdent(name)} with (force)`]);
}
