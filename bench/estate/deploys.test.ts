import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { demoDeployHistory } from './deploys.ts';
import { generateEstate } from './generate.ts';

describe('demo deploy history', () => {
  const estate = generateEstate({ services: 350, seed: 42 });
  const history = demoDeployHistory(estate);

  test('is the same for the same estate (no clock, no Math.random)', () => {
    assert.deepEqual(demoDeployHistory(generateEstate({ services: 350, seed: 42 })), history);
  });

  test('covers the last 30 days across staging and prod, one id per deploy', () => {
    assert.ok(history.deploys.length > 500);
    assert.equal(new Set(history.deploys.map((d) => d.id)).size, history.deploys.length);
    for (const d of history.deploys) {
      assert.ok(d.startedMinutesAgo > 0 && d.startedMinutesAgo <= 30 * 24 * 60, d.id);
      assert.ok(['staging', 'prod'].includes(d.environment));
    }
  });

  test('the newest successful prod deploy of each service is the version its manifests declare', () => {
    const byName = new Map(estate.services.map((s) => [s.name, s]));
    const newest = new Map<string, { ago: number; version: string }>();
    for (const d of history.deploys) {
      if (d.environment !== 'prod' || d.status !== 'succeeded') continue;
      const seen = newest.get(d.service);
      if (!seen || d.startedMinutesAgo < seen.ago)
        newest.set(d.service, { ago: d.startedMinutesAgo, version: d.version });
    }
    for (const [service, { version }] of newest) assert.equal(version, byName.get(service)?.version, service);
  });

  test('the card-api → feed path changed today, with a failed and a rolled-back deploy on it', () => {
    assert.equal(history.incidentPath[0], 'card-api');
    assert.equal(history.incidentPath.at(-1), 'feed');
    const onPath = history.deploys.filter((d) => history.incidentPath.includes(d.service));
    assert.ok(
      onPath.some((d) => d.status === 'failed' && d.environment === 'prod' && d.startedMinutesAgo <= 120),
    );
    assert.ok(onPath.some((d) => d.status === 'rolled_back'));
    assert.ok(onPath.some((d) => d.service === 'card-api' && d.startedMinutesAgo <= 60));
  });
});
