import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { buildGraphIndex } from '@bank/graph';
import { smallEstate } from '@bank/graph/testing';
import fc from 'fast-check';
import { DEPLOY_STATUSES, type DeployStatus, STATUS_RANK } from './model.ts';
import { DeploysService } from './service.ts';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const SERVICES = ['card-api', 'ledger', 'feed'];
const ENVS = ['staging', 'prod'];

/**
 * No sequence of events, replays, late arrivals, conflicting ids and bad events loses a deploy that was
 * accepted: after each run every accepted id is stored, once, with the furthest status accepted for it and
 * the identity (service, environment, version) it was first accepted with. Real SQLite file.
 */
describe('deploy store property: nothing accepted is lost (real SQLite)', () => {
  let store: CatalogStore;
  let svc: DeploysService;
  const index = buildGraphIndex(smallEstate());
  before(async () => {
    store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'deploys-prop-')), 'p.db')}`,
    );
  });
  after(async () => store.close());

  const eventArb = fc.record({
    id: fc.constantFrom('d1', 'd2', 'd3', 'd4', 'd5', 'd6'),
    service: fc.constantFrom(...SERVICES, 'no-such-service'),
    environment: fc.constantFrom(...ENVS, 'qa'),
    version: fc.constantFrom('1.0.0', '1.1.0'),
    status: fc.constantFrom(...DEPLOY_STATUSES),
    startMinutesAgo: fc.integer({ min: -10, max: 60 * 24 * 30 }),
    durationMinutes: fc.integer({ min: -5, max: 30 }),
  });

  it('every accepted deploy is stored once with its furthest status', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 25 }), async (events) => {
        run++;
        // A fresh id space per run in the same file: earlier runs' rows must also survive.
        const prefix = `r${run}-`;
        svc = new DeploysService({ store, getIndex: () => index, now: () => NOW, skewMs: 60_000 });
        const accepted = new Map<
          string,
          { service: string; environment: string; version: string; rank: number; status: DeployStatus }
        >();
        for (const e of events) {
          const startedAt = new Date(NOW - e.startMinutesAgo * 60_000).toISOString();
          const finished =
            e.status === 'started'
              ? undefined
              : new Date(NOW - (e.startMinutesAgo - e.durationMinutes) * 60_000).toISOString();
          const body = {
            id: prefix + e.id,
            service: e.service,
            environment: e.environment,
            version: e.version,
            status: e.status,
            startedAt,
            finishedAt: finished,
          };
          try {
            const r = await svc.record(body, 'token:prop');
            const prev = accepted.get(body.id);
            const rank = STATUS_RANK[e.status];
            if (!prev || rank > prev.rank)
              accepted.set(body.id, {
                service: r.deploy.service,
                environment: r.deploy.environment,
                version: r.deploy.version,
                rank,
                status: e.status,
              });
          } catch (err) {
            // Refused events (unknown service or environment, bad times, conflicting id) change nothing.
            assert.ok(
              (err as { status?: number }).status && (err as { status: number }).status < 500,
              String(err),
            );
          }
        }
        for (const [id, want] of accepted) {
          const got = await svc.deploys.get(id);
          assert.ok(got, `accepted deploy ${id} is missing`);
          assert.equal(got.status, want.status, `${id}: status`);
          assert.equal(got.service, want.service);
          assert.equal(got.environment, want.environment);
          assert.equal(got.version, want.version);
        }
        const stored = (await svc.deploys.list({ limit: 10_000 })).filter((d) => d.id.startsWith(prefix));
        assert.equal(stored.length, accepted.size, 'stored once each, nothing refused stored');
        // Placed by time: the list is ordered by startedAt whatever the arrival order.
        for (let i = 1; i < stored.length; i++) assert.ok(stored[i - 1].startedAt >= stored[i].startedAt);
      }),
      { numRuns: 60 },
    );
    const total = await svc.deploys.count();
    assert.ok(total > 0, 'the runs accepted something');
  });
});
