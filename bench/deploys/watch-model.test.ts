import assert from 'node:assert/strict';
import type http from 'node:http';
import { test } from 'node:test';
import { FakeKubeApi } from '@bank/plugin-deploys/testing';
import { generateEstate } from '../estate/generate.ts';
import { clock, type Event, EventEncoder, next, PATHS, type Workload, workload } from './watch-model.ts';

type Batch = { w: Workload; kind: keyof typeof PATHS; event: Event }[];

/** The test double with one "watch" per path that keeps what is written to it. */
function capturingApi() {
  const api = new FakeKubeApi();
  const written: string[] = [];
  const res = {
    write: (chunk: string | Buffer, done?: () => void) => {
      written.push(chunk.toString());
      done?.();
    },
  };
  for (const p of Object.values(PATHS)) api.watches.set(p, [res as unknown as http.ServerResponse]);
  return { api, written };
}

test('the templated watch events are the lines FakeKubeApi.send writes for the same objects', () => {
  const realNow = clock.now;
  let t = Date.parse('2026-12-05T11:39:00.000Z');
  clock.now = () => t;
  try {
    const services = generateEstate({ services: 60, seed: 42 }).services.filter((s) => s.type !== 'library');
    const workloads = services.slice(0, 40).map(workload);
    const depTimes = new Float64Array(workloads.length * 1024);
    const { api, written } = capturingApi();
    // The sampled check inside the encoder is what the bench relies on; here every event is compared.
    const encoder = new EventEncoder(0);
    const seen = new Set<string>();
    let events = 0;
    for (let round = 0; round < 150; round++) {
      t += 1300; // the timestamps in the objects move on between events
      const batches: Record<keyof typeof PATHS, Batch> = { d: [], r: [], p: [] };
      for (const w of workloads) {
        const [kind, event] = next(w, t, depTimes);
        batches[kind].push({ w, kind, event });
        const c = event.object.status?.containerStatuses?.[0];
        seen.add(
          `${kind}:${event.type}:${kind === 'p' ? (c.state.waiting?.reason ?? c.restartCount > 0) : ''}`,
        );
      }
      for (const kind of ['d', 'r', 'p'] as const) {
        const batch = batches[kind];
        if (!batch.length) continue;
        const rv = api.rv;
        const { chunk: fast, release } = encoder.encode(batch, api);
        const rvAfter = api.rv;
        api.rv = rv;
        written.length = 0;
        const bytes = api.send(
          PATHS[kind],
          batch.map((b) => b.event),
        );
        assert.equal(api.rv, rvAfter);
        const slow = written[0];
        let released = false;
        assert.equal(
          api.sendSerialized(PATHS[kind], fast, () => {
            released = true;
          }),
          bytes,
        );
        assert.equal(written[1], slow, 'sendSerialized writes the chunk as it is');
        // Byte for byte what JSON.stringify writes, so the same JSON for the informers.
        assert.equal(fast.toString(), slow);
        const lines = fast.toString().split('\n');
        assert.equal(lines.pop(), '');
        assert.deepEqual(
          lines.map((l) => JSON.parse(l)),
          slow
            .split('\n')
            .slice(0, -1)
            .map((l) => JSON.parse(l)),
        );
        events += batch.length;
        assert.ok(released, 'the chunk is given back once every watch wrote it');
        release();
      }
    }
    assert.equal(events, 150 * workloads.length);
    // The cycle went through every kind of event and every shape of pod.
    for (const k of [
      'd:MODIFIED:',
      'r:MODIFIED:',
      'p:MODIFIED:true',
      'p:MODIFIED:CrashLoopBackOff',
      'p:DELETED:true',
      'p:ADDED:false',
    ])
      assert.ok(seen.has(k), `${k} in ${[...seen]}`);
  } finally {
    clock.now = realNow;
  }
});

test('the encoder throws when an object changed outside its template holes', () => {
  const [s] = generateEstate({ services: 10, seed: 42 }).services.filter((x) => x.type !== 'library');
  const w = workload(s, 0);
  const { api } = capturingApi();
  const encoder = new EventEncoder(1);
  const event = { type: 'MODIFIED', object: w.dep };
  encoder.encode([{ w, kind: 'd', event }], api);
  assert.equal(encoder.checked, 1);
  w.dep.metadata.labels = { ...w.dep.metadata.labels, extra: 'x' };
  assert.throws(() => encoder.encode([{ w, kind: 'd', event }], api), /differs from JSON.stringify/);
});
