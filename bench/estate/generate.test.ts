import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { CANONICAL_CHAINS, COLLECTIVES, HUBS } from './bank.ts';
import { toYaml } from './emit.ts';
import { BASE_EDGES, type Estate, findCycles, generateEstate, NAME_PATTERN, summarise } from './generate.ts';
import { MANIFEST, writeEstate } from './write.ts';

const COMMITTED = fileURLToPath(new URL('../../services/', import.meta.url));
const temps: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'estate-test-'));
  temps.push(dir);
  return dir;
};
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

const estate = generateEstate({ services: 350, seed: 42 });
const summary = summarise(estate);

function edgeKeys(e: Estate): Set<string> {
  return new Set(e.edges.map((x) => `${x.from}>${x.to}`));
}

/** Every file under dir, relative, except the hand-written library. */
function walk(dir: string, root = dir, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    const rel = relative(root, full);
    if (rel === 'lib' || entry.name === 'node_modules') continue;
    if (entry.isDirectory()) walk(full, root, out);
    else out.push(rel);
  }
  return out.sort();
}

describe('estate generator', () => {
  test('is deterministic: same seed, same estate; another seed, same names but other edges', () => {
    const again = generateEstate({ services: 350, seed: 42 });
    assert.equal(JSON.stringify(again), JSON.stringify(estate));
    const other = generateEstate({ services: 350, seed: 7 });
    assert.deepEqual(
      other.services.map((s) => s.name),
      estate.services.map((s) => s.name),
    );
    assert.deepEqual(
      other.resources.map((r) => r.name),
      estate.resources.map((r) => r.name),
    );
    assert.notDeepEqual(edgeKeys(other), edgeKeys(estate));
  });

  test('has the shape of bank-estate.md', () => {
    assert.equal(estate.services.length, 350);
    assert.equal(estate.collectives.length, 9);
    assert.equal(estate.squads.length, 37);
    assert.equal(estate.systems.length, 49);
    assert.ok(Math.abs(summary.edges - BASE_EDGES) <= BASE_EDGES * 0.05, `edges ${summary.edges}`);
    assert.ok(summary.intraCollectiveShare >= 0.65 && summary.intraCollectiveShare <= 0.75);
    const engineers = estate.users.filter((u) => u.role === 'engineer').length;
    const managers = estate.users.filter((u) => u.role === 'engineering-manager');
    assert.equal(engineers, 106);
    assert.equal(estate.users.length - engineers - managers.length, 56);
    for (const m of managers) assert.ok(m.memberOf.length >= 1 && m.memberOf.length <= 3, m.name);
    assert.ok(managers.filter((m) => m.memberOf.length >= 2).length >= managers.length - 1);
    for (const c of COLLECTIVES) {
      const want = { 'core-banking': 60, payments: 67, 'financial-crime': 34, platform: 42 }[c.id];
      if (want) assert.equal(estate.services.filter((s) => s.collective === c.id).length, want, c.id);
    }
    const stateful = summary.statefulShare;
    assert.ok(stateful > 0.6 && stateful < 0.7, `stateful ${stateful}`);
  });

  test('contains every edge of the six canonical chains, and no self-loops or duplicates', () => {
    const keys = edgeKeys(estate);
    for (const chain of CANONICAL_CHAINS) {
      for (const [a, b] of chain.edges) assert.ok(keys.has(`${a}>${b}`), `${chain.name}: ${a} → ${b}`);
    }
    assert.equal(keys.size, estate.edges.length);
    for (const e of estate.edges) assert.notEqual(e.from, e.to);
  });

  test('gives the hubs an in-degree of 40–120 and the out-degree a heavy tail', () => {
    for (const hub of HUBS) {
      const degree = summary.hubInDegree[hub];
      assert.ok(degree >= 40 && degree <= 120, `${hub} in-degree ${degree}`);
    }
    assert.ok(summary.maxOutDegree.degree >= 4 * summary.meanOutDegree);
  });

  test('has a handful of small cycles and no others', () => {
    const cycles = findCycles(
      estate.services.map((s) => s.name),
      estate.edges,
    );
    assert.ok(cycles.length >= 4 && cycles.length <= 7, `${cycles.length} cycles`);
    for (const c of cycles) assert.ok(c.length <= 4, c.join(','));
    assert.ok(cycles.some((c) => c.includes('fps-gateway')));
  });

  test('scales: 3,500 and 35,000 services keep the shape, with unique valid names', () => {
    for (const n of [3500, 35000]) {
      const big = generateEstate({ services: n, seed: 42 });
      assert.equal(big.services.length, n);
      const names = new Set(big.services.map((s) => s.name));
      assert.equal(names.size, n);
      for (const name of [...names, ...big.resources.map((r) => r.name), ...big.users.map((u) => u.name)]) {
        assert.ok(name.length <= 63 && NAME_PATTERN.test(name), name);
      }
      const mean = big.edges.length / n;
      assert.ok(Math.abs(mean - BASE_EDGES / 350) < 0.1, `mean out-degree ${mean}`);
      for (const e of big.edges) assert.ok(names.has(e.to) && e.from !== e.to);
      assert.equal(big.squads.length, (37 * n) / 350);
    }
    const odd = generateEstate({ services: 500, seed: 1 });
    assert.equal(odd.services.length, 500);
  });
});

describe('written estate', () => {
  const dir = tempDir();
  writeEstate(estate, dir);
  const files = walk(dir);
  const yamlFiles = files.filter((f) => f.endsWith('.yaml'));

  test('round-trips through the yaml package exactly', () => {
    for (const file of yamlFiles) {
      const text = readFileSync(join(dir, file), 'utf8');
      const docs = parseAllDocuments(text);
      assert.ok(Array.isArray(docs), file);
      const body = text.slice(text.indexOf('\n') + 1);
      const again = docs.map((d) => {
        assert.equal(d.errors.length, 0, `${file}: ${d.errors[0]?.message}`);
        return toYaml(d.toJS());
      });
      assert.equal(again.join('---\n'), body, file);
    }
  });

  test('every name is valid and every ref resolves', () => {
    const entities = new Map<string, Record<string, unknown>>();
    const all: { kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> }[] = [];
    for (const file of yamlFiles.filter((f) => !f.includes('/k8s/'))) {
      for (const d of parseAllDocuments(readFileSync(join(dir, file), 'utf8')) as ReturnType<
        typeof parseAllDocuments
      > &
        unknown[]) {
        const entity = (d as { toJS(): unknown }).toJS() as (typeof all)[number] & { apiVersion: string };
        assert.equal(entity.apiVersion, 'backstage.io/v1alpha1');
        const name = String(entity.metadata.name);
        assert.ok(name.length <= 63 && NAME_PATTERN.test(name), `${file}: ${name}`);
        const ref = `${entity.kind.toLowerCase()}:${name}`;
        assert.ok(!entities.has(ref), `duplicate ${ref}`);
        entities.set(ref, entity);
        all.push(entity);
        for (const tag of (entity.metadata.tags as string[] | undefined) ?? []) {
          assert.match(tag, /^[a-z0-9+#]+(-[a-z0-9+#]+)*$/);
        }
        for (const link of (entity.metadata.links as { url: string }[] | undefined) ?? []) {
          assert.match(new URL(link.url).protocol, /^https?:$/);
        }
      }
    }
    const resolve = (ref: string, defaultKind: string): void => {
      const [kind, rest] = ref.includes(':') ? ref.split(':', 2) : [defaultKind, ref];
      const name = rest.includes('/') ? rest.split('/')[1] : rest;
      assert.ok(entities.has(`${kind}:${name}`), `unresolved ${ref}`);
    };
    const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);
    for (const e of all) {
      const s = e.spec;
      if (typeof s.owner === 'string') resolve(s.owner, 'group');
      if (typeof s.system === 'string') resolve(s.system, 'system');
      if (e.kind === 'System') resolve(String(s.domain), 'domain');
      for (const r of list(s.dependsOn)) resolve(r, '?');
      for (const r of list(s.dependencyOf)) resolve(r, '?');
      for (const r of [...list(s.providesApis), ...list(s.consumesApis)]) resolve(r, 'api');
      for (const r of list(s.memberOf)) resolve(r, 'group');
      for (const r of list(s.members)) resolve(r, 'user');
      for (const r of list(s.children)) resolve(r, 'group');
      if (typeof s.parent === 'string') resolve(s.parent, 'group');
      if (e.kind === 'Location') for (const t of list(s.targets)) assert.ok(files.includes(t.slice(2)), t);
    }
    assert.equal(all.filter((e) => e.kind === 'Component').length, 350);
    assert.equal(all.filter((e) => e.kind === 'Domain').length, 9);
  });

  test('the committed services/ is exactly a fresh generation (services/lib excluded)', () => {
    const committed = walk(COMMITTED);
    assert.deepEqual(committed, files);
    for (const file of files) {
      assert.equal(readFileSync(join(COMMITTED, file), 'utf8'), readFileSync(join(dir, file), 'utf8'), file);
    }
  });

  test('a rerun removes only stale generated folders', () => {
    const out = tempDir();
    writeEstate(generateEstate({ services: 400 }), out);
    mkdirSync(join(out, 'lib', 'rpc'), { recursive: true });
    writeFileSync(join(out, 'lib', 'rpc', 'keep.ts'), 'export {};\n');
    mkdirSync(join(out, 'hand-written'));
    writeFileSync(join(out, 'hand-written', 'catalog-info.yaml'), 'kind: Component\n');
    const report = writeEstate(generateEstate({ services: 350 }), out);
    assert.equal(report.removedServiceFolders, 50);
    assert.ok(readFileSync(join(out, 'lib', 'rpc', 'keep.ts'), 'utf8'));
    assert.ok(readFileSync(join(out, 'hand-written', 'catalog-info.yaml'), 'utf8'));
    assert.equal(readFileSync(join(out, MANIFEST), 'utf8').trim().split('\n').length, 351);
    assert.deepEqual(
      walk(out).filter((f) => !f.startsWith('hand-written')),
      files,
    );
  });
});
