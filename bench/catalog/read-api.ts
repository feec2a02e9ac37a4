/**
 * The Backstage catalog read API, side by side with the stock Backstage backend, same machine, same run, same
 * data: the anchor's own generator (../shared/anchors/backstage/generate-catalog.js) writes N components; the
 * anchor's backend reads them, `portal serve` reads them, and the anchor's own client calls (measure.js:
 * getEntityByRef ×200, a page of 200 ×50, a full cursor walk ×5, owner facets ×50, through
 * @backstage/catalog-client) are made against each in turn. Beside them, a bare node:http server that sends the
 * portal's page of 200 and one component as fixed bytes: the floor for those answers on this machine (the page
 * by raw fetch, getEntityByRef through the same client calls).
 *
 *   npx tsx bench/catalog/read-api.ts [--sizes 350,3500] [--rounds 2] [--dir bench/.cache/anchor-backstage]
 *                                     [--no-backstage]
 *
 * The anchor is installed as bench/anchors/backstage.ts installs it (run that once, or pass --dir). Backstage is
 * stopped before the portal is measured, so its background processing never runs under the portal's figures.
 * `rounds`: the portal and the bare server are measured that many times, each figure the median of the rounds.
 * Prints JSON.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { CatalogClient } from '@backstage/catalog-client';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '../../plugins/catalog/src/service.ts';
import { descriptorOf } from '../../plugins/catalog/src/transfer.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(REPO, 'portal', 'bin', 'portal.mjs');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '350,3500' },
    rounds: { type: 'string', default: '2' },
    dir: { type: 'string', default: path.join(REPO, 'bench', '.cache', 'anchor-backstage') },
    'no-backstage': { type: 'boolean', default: false },
  },
});
const sizes = values.sizes.split(',').map(Number);
const rounds = Number(values.rounds);
const anchor = path.resolve(values.dir);
const withBackstage = !values['no-backstage'];
if (!existsSync(path.join(anchor, 'generate-catalog.js'))) {
  process.stderr.write(
    `No anchor at ${anchor}: run npx tsx bench/anchors/backstage.ts once (it installs it)\n`,
  );
  process.exit(2);
}
if (withBackstage && !existsSync(path.join(anchor, 'node_modules', '@backstage', 'plugin-catalog-backend'))) {
  process.stderr.write(
    `The anchor at ${anchor} is not installed: run npx tsx bench/anchors/backstage.ts once\n`,
  );
  process.exit(2);
}
const work = mkdtempSync(path.join(tmpdir(), 'bench-read-api-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanEnv = () => {
  const e = { ...process.env };
  delete e.NODE_TEST_CONTEXT;
  return e;
};

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

// measure.js's statistics: nearest-rank percentiles.
function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const pct = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: s.length, p50: r(pct(50)), p99: r(pct(99)), max: r(s[s.length - 1]) };
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** CPU milliseconds (user + system) a process has used: from /proc, at 100 ticks a second (Linux). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/**
 * measure.js's getEntityByRef: 220 calls through the client (20 warm-ups, 200 measured), each a component
 * picked by the same seeded sequence, so the portal and the bare server are asked the same refs.
 */
async function byRefCalls(client: CatalogClient, n: number, pid: number) {
  let a = 12345;
  const rnd = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
  const refs = Array.from(
    { length: 220 },
    () => `component:default/svc-${String(Math.floor(rnd() * n)).padStart(5, '0')}`,
  );
  const cpu = cpuMs(pid);
  const samples: number[] = [];
  for (let i = 0; i < refs.length; i++) {
    const t = performance.now();
    const e = await client.getEntityByRef(refs[i]);
    const d = performance.now() - t;
    if (!e) throw new Error(`missing ${refs[i]}`);
    if (i >= 20) samples.push(d);
  }
  return { ...stats(samples), cpuMsPerCall: Math.round(((cpuMs(pid) - cpu) / refs.length) * 100) / 100 };
}

/**
 * The anchor's query set (measure.js `latency`), against one catalog API base URL. `cpuMsPerCall`: the
 * server process's CPU per call, which the load of a shared machine moves far less than wall time.
 */
async function anchorQueries(base: string, n: number, pid: number) {
  const client = new CatalogClient({
    discoveryApi: { getBaseUrl: async () => `${base}/api/catalog` },
    fetchApi: { fetch: globalThis.fetch },
  });
  let cpu = cpuMs(pid);
  const perCall = (calls: number) => {
    const now = cpuMs(pid);
    const r = Math.round(((now - cpu) / calls) * 100) / 100;
    cpu = now;
    return r;
  };
  const getEntityByRef = await byRefCalls(client, n, pid);
  cpu = cpuMs(pid);

  let samples: number[] = [];

  samples = [];
  let items = 0;
  for (let i = 0; i < 55; i++) {
    const t = performance.now();
    const res = await client.queryEntities({ filter: { kind: 'component' }, limit: 200 });
    const d = performance.now() - t;
    items = res.items.length;
    if (i >= 5) samples.push(d);
  }
  const page200 = { ...stats(samples), items, cpuMsPerCall: perCall(55) };

  samples = [];
  let walked = 0;
  let pages = 0;
  for (let w = 0; w < 5; w++) {
    const t = performance.now();
    walked = 0;
    pages = 0;
    let res = await client.queryEntities({ filter: { kind: 'component' }, limit: 200 });
    for (;;) {
      walked += res.items.length;
      pages++;
      if (!res.pageInfo.nextCursor) break;
      res = await client.queryEntities({ cursor: res.pageInfo.nextCursor, limit: 200 });
    }
    samples.push(performance.now() - t);
  }
  if (walked !== n) throw new Error(`${base}: the walk saw ${walked} components, not ${n}`);
  const walk = { ...stats(samples), pages, items: walked, cpuMsPerCall: perCall(5) };

  samples = [];
  let facetValues = 0;
  for (let i = 0; i < 55; i++) {
    const t = performance.now();
    const res = await client.getEntityFacets({ facets: ['spec.owner'] });
    const d = performance.now() - t;
    facetValues = res.facets['spec.owner'].length;
    if (i >= 5) samples.push(d);
  }
  const ownerFacets = { ...stats(samples), values: facetValues, cpuMsPerCall: perCall(55) };
  return { getEntityByRef, page200, walk, ownerFacets };
}

/** Waits until process `pid` used under 50 ms of CPU in one second; the wait in ms (null: not within `maxMs`). */
async function idle(pid: number, maxMs: number): Promise<number | null> {
  const t = performance.now();
  while (performance.now() - t < maxMs) {
    const before = cpuMs(pid);
    await sleep(1000);
    if (cpuMs(pid) - before < 50) return Math.round(performance.now() - t);
  }
  return null;
}

/** Raw fetch of one URL, 5 warm-ups and 50 measured: what the bare server is compared on. */
async function rawFetch(url: string, pid: number) {
  const cpu = cpuMs(pid);
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 55; i++) {
    const t = performance.now();
    const res = await fetch(url);
    const body = await res.arrayBuffer();
    const d = performance.now() - t;
    bytes = body.byteLength;
    if (i >= 5) samples.push(d);
  }
  return { ...stats(samples), bytes, cpuMsPerCall: Math.round(((cpuMs(pid) - cpu) / 55) * 100) / 100 };
}

/** Every entity ref a catalog API serves (Locations left out: each side names its own root differently). */
async function servedRefs(client: CatalogClient): Promise<Set<string>> {
  const res = await client.getEntities({ fields: ['kind', 'metadata.namespace', 'metadata.name'] });
  return new Set(
    res.items
      .filter((e) => e.kind !== 'Location')
      .map((e) => `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase()),
  );
}

let freshSeq = 0;
/**
 * measure.js's freshness test: a new component file appended to the Location's targets and one component's
 * description edited; with `forced`, refreshEntity on the Location right after (the API's push path). Polls
 * getEntityByRef every 100 ms until both show, at most `timeoutMs`.
 */
async function freshness(catalog: string, client: CatalogClient, forced: boolean, token?: string) {
  freshSeq++;
  const newName = `fresh-${freshSeq}`;
  const editName = `svc-${String(7 + freshSeq).padStart(5, '0')}`;
  const mark = `edited-${freshSeq}-${Date.now()}`;
  const writeAtomic = (file: string, text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  const newDir = path.join(catalog, 'components', newName);
  mkdirSync(newDir, { recursive: true });
  writeAtomic(
    path.join(newDir, 'catalog-info.yaml'),
    `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${newName}\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/squad-0\n  dependsOn: [component:default/svc-00000]\n`,
  );
  const editFile = path.join(catalog, 'components', editName, 'catalog-info.yaml');
  const editText = readFileSync(editFile, 'utf8').replace(/description: .*/, `description: ${mark}`);
  const locFile = path.join(catalog, 'locations.yaml');
  const loc = readFileSync(locFile, 'utf8');
  const t = performance.now();
  writeAtomic(locFile, `${loc}    - ./components/${newName}/catalog-info.yaml\n`);
  writeAtomic(editFile, editText);
  if (forced) await client.refreshEntity('location:default/bench-catalog', token ? { token } : undefined);
  let addMs: number | null = null;
  let editMs: number | null = null;
  const timeoutMs = 180_000;
  // A reset connection (a keep-alive socket the busy server closed as it was reused) is a poll that saw
  // nothing yet, not the end of the run.
  const get = (ref: string) => client.getEntityByRef(ref).catch(() => undefined);
  while ((addMs === null || editMs === null) && performance.now() - t < timeoutMs) {
    if (addMs === null && (await get(`component:default/${newName}`)))
      addMs = Math.round(performance.now() - t);
    if (editMs === null && (await get(`component:default/${editName}`))?.metadata.description === mark)
      editMs = Math.round(performance.now() - t);
    if (addMs === null || editMs === null) await sleep(100);
  }
  return { forced, addVisibleMs: addMs, editVisibleMs: editMs };
}

function killGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-(child.pid as number), 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  return exited;
}

async function backstage(catalog: string, n: number) {
  const port = await freePort();
  // The anchor's config as it is, listening on a free port instead of 7007 (the portal's default).
  const overlay = path.join(work, `backstage-port-${n}.yaml`);
  writeFileSync(
    overlay,
    `backend:\n  baseUrl: http://127.0.0.1:${port}\n  listen:\n    host: 127.0.0.1\n    port: ${port}\n`,
  );
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [path.join(anchor, 'backend.js'), '--config', path.join(anchor, 'app-config.yaml'), '--config', overlay],
    {
      cwd: anchor,
      env: { ...cleanEnv(), CATALOG_DIR: catalog },
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  try {
    const client = new CatalogClient({
      discoveryApi: { getBaseUrl: async () => `${base}/api/catalog` },
      fetchApi: { fetch: globalThis.fetch },
    });
    // Settled: all N listed and every dependsOn edge stitched both ways (measure.js's two waits).
    let expectedEdges = 0;
    for (let i = 0; i < n; i++) expectedEdges += Math.min(6, i);
    for (;;) {
      if (child.exitCode !== null) throw new Error('the Backstage backend exited');
      if (performance.now() - t0 > 30 * 60_000) throw new Error('Backstage did not settle in 30 minutes');
      try {
        const res = await client.getEntities({ filter: { kind: 'Component' }, fields: ['relations'] });
        let dep = 0;
        let depOf = 0;
        for (const e of res.items) {
          for (const r of e.relations ?? []) {
            if (r.type === 'dependsOn') dep++;
            else if (r.type === 'dependencyOf') depOf++;
          }
        }
        if (res.items.length >= n && dep === expectedEdges && depOf === expectedEdges) break;
      } catch {
        // not listening yet
      }
      await sleep(n > 1000 ? 1000 : 500);
    }
    const settledMs = Math.round(performance.now() - t0);
    const loadAverage = loadavg()[0];
    const queries = await anchorQueries(base, n, child.pid as number);
    const refs = await servedRefs(client);
    const imported = await importCheck(base, client, n);
    // Backstage's natural freshness waits for its processing interval (100–150 s): the anchor's own runs
    // measured 72–111 s. Only the forced path is run here.
    const refresh = [];
    for (let i = 0; i < 3; i++) refresh.push(await freshness(catalog, client, true));
    return { settledMs, loadAverage, ...queries, import: imported, refresh, refs };
  } finally {
    await killGroup(child);
  }
}

/**
 * `portal import --from-backstage` against the running stock backend (the real CLI, into a fresh SQLite file),
 * then every entity Backstage lists is looked up in the portal: same ref, same authored descriptor (what
 * `portal export` would write: no uid, etag, relations or Backstage's own annotations). Throws on any loss.
 * Here rather than in the test suite: the anchor is a 344 MB install compiled from source, not on a clean CI
 * machine.
 */
async function importCheck(base: string, client: CatalogClient, n: number) {
  const url = `file:${path.join(work, `imported-${n}.db`)}`;
  const out = path.join(work, `imported-${n}`);
  // What Backstage holds, read first (it is settled; an idle keep-alive socket would be closed under us later).
  const theirs = (await client.getEntities()).items.filter((e) => e.kind !== 'Location');
  const t = performance.now();
  const r = JSON.parse(
    execFileSync(
      process.execPath,
      [BIN, '--db', url, 'import', '--from-backstage', base, '--out', out, '--json'],
      {
        cwd: REPO,
        env: { ...cleanEnv(), PORTAL_CATALOG_ROOT: out },
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      },
    ),
  ) as { read: number; written: number; ingest: { errors: unknown[] } };
  const importMs = Math.round(performance.now() - t);
  const store = await CatalogStore.open(url);
  try {
    const view = await new CatalogService(store, [out]).view();
    const missing: string[] = [];
    const different: string[] = [];
    for (const e of theirs) {
      const ref = `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();
      const ours = view.byRef.get(ref);
      if (!ours) missing.push(ref);
      else if (!isDeepStrictEqual(descriptorOf(ours), descriptorOf(e))) different.push(ref);
    }
    if (missing.length > 0 || different.length > 0 || r.ingest.errors.length > 0) {
      throw new Error(
        `import lost data: ${missing.length} missing (${missing.slice(0, 5)}), ${different.length} different (${different.slice(0, 5)}), ${r.ingest.errors.length} ingest problems`,
      );
    }
    return { entities: theirs.length, read: r.read, written: r.written, importMs, missing: 0, different: 0 };
  } finally {
    await store.close();
  }
}

/**
 * `portal serve` started on an empty store with the anchor's locations.yaml as its catalogue root, as Backstage
 * starts: start-to-queryable runs from the spawn until every component is listed. It watches the files (the
 * natural freshness path); the forced path is refreshEntity on the Location, with a token.
 */
async function portal(catalog: string, n: number) {
  const url = `file:${path.join(work, `portal-${n}.db`)}`;
  const root = path.join(catalog, 'locations.yaml');
  const token = randomBytes(18).toString('base64url');
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, '--db', url, 'serve', '--port', '0'], {
    cwd: REPO,
    env: { ...cleanEnv(), PORTAL_CATALOG_ROOT: root, PORTAL_API_TOKENS: token },
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`portal serve exited ${code}`)));
    });
    const client = new CatalogClient({
      discoveryApi: { getBaseUrl: async () => `${base}/api/catalog` },
      fetchApi: { fetch: globalThis.fetch },
    });
    for (;;) {
      const res = await client.getEntities({ filter: { kind: 'Component' }, fields: ['metadata.name'] });
      if (res.items.length >= n) break;
      await sleep(20);
    }
    const startToQueryableMs = Math.round(performance.now() - t0);
    const refs = await servedRefs(client);
    // What start-up leaves for after the first answer (the web UI, scoring the estate a slice at a time) runs
    // once, in the background: the queries are measured after it, when the server has used under 5 % of a
    // core for a whole second (Backstage is measured once settled too), at most 120 s after queryable.
    const idleAfterMs = await idle(child.pid as number, 120_000);
    const pageUrl = `${base}/api/catalog/entities/by-query?filter=kind%3Dcomponent&limit=200`;
    const page = Buffer.from(await (await fetch(pageUrl)).arrayBuffer());
    // The bare server in its own process, as the portal is: only the bytes, nothing else.
    const pageFile = path.join(work, `page-${n}.json`);
    writeFileSync(pageFile, page);
    // And one component as getEntityByRef reads it: the floor for a by-ref call through the same client.
    const entityFile = path.join(work, `entity-${n}.json`);
    writeFileSync(
      entityFile,
      Buffer.from(
        await (await fetch(`${base}/api/catalog/entities/by-name/component/default/svc-00000`)).arrayBuffer(),
      ),
    );
    const bare = spawn(
      process.execPath,
      [
        '-e',
        `const f=require('fs'),p=f.readFileSync(${JSON.stringify(pageFile)}),e=f.readFileSync(${JSON.stringify(entityFile)});const s=require('http').createServer((q,r)=>{const b=q.url.includes('/entities/by-name/')?e:p;r.writeHead(200,{'content-type':'application/json','content-length':b.length});r.end(b)});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))`,
      ],
      { detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const barePort = await new Promise<string>((resolve) =>
      bare.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())),
    );
    const bareUrl = `http://127.0.0.1:${barePort}/`;
    try {
      type Round = Awaited<ReturnType<typeof anchorQueries>> & {
        loadAverage: number;
        rawPage200: Awaited<ReturnType<typeof rawFetch>>;
        barePage200: Awaited<ReturnType<typeof rawFetch>>;
        bareGetEntityByRef: Awaited<ReturnType<typeof byRefCalls>>;
      };
      const bareClient = new CatalogClient({
        discoveryApi: { getBaseUrl: async () => `http://127.0.0.1:${barePort}/api/catalog` },
        fetchApi: { fetch: globalThis.fetch },
      });
      const runs: Round[] = [];
      for (let r = 0; r < rounds; r++) {
        const loadAverage = loadavg()[0];
        const queries = await anchorQueries(base, n, child.pid as number);
        const rawPage200 = await rawFetch(pageUrl, child.pid as number);
        const barePage200 = await rawFetch(bareUrl, bare.pid as number);
        const bareGetEntityByRef = await byRefCalls(bareClient, n, bare.pid as number);
        runs.push({ loadAverage, ...queries, rawPage200, barePage200, bareGetEntityByRef });
      }
      const med = (pick: (r: Round) => number) => Math.round(median(runs.map(pick)) * 100) / 100;
      // After the queries: the freshness tests add components, which the walk would count.
      const refresh = [];
      for (let i = 0; i < 3; i++) refresh.push(await freshness(catalog, client, false));
      for (let i = 0; i < 3; i++) refresh.push(await freshness(catalog, client, true, token));
      return {
        startToQueryableMs,
        idleAfterMs,
        refresh,
        refs,
        medians: {
          getEntityByRefP50: med((r) => r.getEntityByRef.p50),
          getEntityByRefP99: med((r) => r.getEntityByRef.p99),
          // The same calls through the same client to the bare server sending one component's bytes.
          bareGetEntityByRefP50: med((r) => r.bareGetEntityByRef.p50),
          bareGetEntityByRefP99: med((r) => r.bareGetEntityByRef.p99),
          page200P50: med((r) => r.page200.p50),
          walkP50: med((r) => r.walk.p50),
          ownerFacetsP50: med((r) => r.ownerFacets.p50),
          rawPage200P50: med((r) => r.rawPage200.p50),
          barePage200P50: med((r) => r.barePage200.p50),
          rawPageOverBare: med((r) => r.rawPage200.p50 / r.barePage200.p50),
          cpuMsPerCall: {
            getEntityByRef: med((r) => r.getEntityByRef.cpuMsPerCall),
            page200: med((r) => r.page200.cpuMsPerCall),
            walk: med((r) => r.walk.cpuMsPerCall),
            ownerFacets: med((r) => r.ownerFacets.cpuMsPerCall),
            rawPage200: med((r) => r.rawPage200.cpuMsPerCall),
            barePage200: med((r) => r.barePage200.cpuMsPerCall),
          },
        },
        runs,
      };
    } finally {
      await killGroup(bare);
    }
  } finally {
    await killGroup(child);
  }
}

const results: Record<string, unknown>[] = [];
for (const n of sizes) {
  const catalog = path.join(work, `catalog-${n}`);
  // Generated afresh for each side: the freshness tests edit it.
  const generate = () => {
    rmSync(catalog, { recursive: true, force: true });
    execFileSync(process.execPath, [path.join(anchor, 'generate-catalog.js'), String(n), catalog], {
      stdio: 'ignore',
    });
  };
  generate();
  process.stderr.write(`${n} components: Backstage …\n`);
  const bs = withBackstage ? await backstage(catalog, n) : null;
  generate();
  process.stderr.write(`${n} components: portal …\n`);
  const ours = await portal(catalog, n);
  const { refs: ourRefs, ...portalFigures } = ours;
  const medianOf = (xs: (number | null)[]) => {
    const ok = xs.filter((x): x is number => x !== null);
    return ok.length ? median(ok) : null;
  };
  const forced = (
    r: { forced: boolean; addVisibleMs: number | null; editVisibleMs: number | null }[],
    f: boolean,
  ) => medianOf(r.filter((x) => x.forced === f).flatMap((x) => [x.addVisibleMs, x.editVisibleMs]));
  let backstageFigures = null;
  let compared = null;
  if (bs) {
    const { refs: theirRefs, ...rest } = bs;
    backstageFigures = rest;
    const ratio = (a: number | null, b: number | null) => (a && b ? Math.round((a / b) * 10) / 10 : null);
    compared = {
      // Accept/reject: what each serves from the same files.
      onlyBackstage: [...theirRefs].filter((r) => !ourRefs.has(r)),
      onlyPortal: [...ourRefs].filter((r) => !theirRefs.has(r)),
      both: [...ourRefs].filter((r) => theirRefs.has(r)).length,
      timesFaster: {
        startToQueryable: ratio(bs.settledMs, ours.startToQueryableMs),
        refreshToVisible: ratio(forced(bs.refresh, true), forced(ours.refresh, true)),
        walk: ratio(bs.walk.p50, ours.medians.walkP50),
        page200: ratio(bs.page200.p50, ours.medians.page200P50),
        getEntityByRefP99: ratio(bs.getEntityByRef.p99, ours.medians.getEntityByRefP99),
      },
      portalRefreshMedianMs: { forced: forced(ours.refresh, true), natural: forced(ours.refresh, false) },
      backstageRefreshMedianMs: { forced: forced(bs.refresh, true) },
    };
  }
  results.push({ components: n, backstage: backstageFigures, portal: portalFigures, compared });
  // Each size as it is done, so a later failure loses nothing measured.
  process.stderr.write(`${JSON.stringify({ components: n, compared, portal: portalFigures.medians })}\n`);
}

process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'catalog read API, side by side with Backstage',
      command: `npx tsx bench/catalog/read-api.ts --sizes ${values.sizes} --rounds ${rounds}`,
      node: process.version,
      when: new Date().toISOString(),
      notes: [
        "Same data: the anchor's generate-catalog.js output. Same calls: measure.js's query set through @backstage/catalog-client (times in ms, nearest-rank percentiles).",
        'Backstage: its backend on in-memory SQLite, measured once settled (all components listed, every dependsOn stitched both ways), then stopped. Portal: `portal serve` started on an empty SQLite file with the same locations.yaml as its root.',
        'settledMs / startToQueryableMs: from spawning the server until every component is listed. refresh: measure.js freshness (one component added to the Location, one description edited) until both are served; forced = refreshEntity on the Location right after, natural = nothing called (the portal watches its files; Backstage waits for its 100-150 s processing interval, not run here).',
        "rawPage200 / barePage200: fetch of the portal's page of 200 components, and the same bytes from a bare node:http server.",
        'bareGetEntityByRef: the same getEntityByRef calls through the same client against the bare server answering one component (svc-00000) as the portal serves it: the floor of a by-ref call on this machine.',
        "portal idleAfterMs: after queryable, the wait for the portal's background start-up work (web UI, scoring) to end before the queries (under 5 % of a core for a second).",
      ],
      results,
    },
    null,
    2,
  )}\n`,
);
