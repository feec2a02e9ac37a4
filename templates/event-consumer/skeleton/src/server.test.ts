import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listen, Router, type RpcServer } from '@bank/rpc';
import type { Event, EventAck } from './api.ts';
import { DEPENDENCIES } from './clients.ts';
import { SERVICE_NAME, type Service, startService, TOPIC } from './server.ts';

const names: string[] = Object.values(DEPENDENCIES);

function event(id: string, topic = TOPIC): Event {
  return { id, topic, type: `${topic}.test`, occurredAt: new Date().toISOString(), data: { n: 1 } };
}

describe(`${SERVICE_NAME} on a real local server`, () => {
  const upstream = new Map<string, RpcServer>();
  const hits = new Map<string, number>();
  let service: Service;

  const deliver = (body: unknown) =>
    fetch(`${service.server.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  before(async () => {
    // Each dependency is a real @bank/rpc server on 127.0.0.1 answering /v1/info.
    for (const name of names) {
      const router = new Router().get('/v1/info', () => {
        hits.set(name, (hits.get(name) ?? 0) + 1);
        return { service: name, version: 'test', dependencies: [] };
      });
      upstream.set(name, await listen(router.serve(), { name, host: '127.0.0.1', port: 0 }));
    }
    const discovery = Object.fromEntries([...upstream].map(([name, s]) => [name, s.url]));
    service = await startService({ host: '127.0.0.1', port: 0, discovery });
  });

  after(async () => {
    await service?.stop();
    for (const s of upstream.values()) await s.stop(1_000);
  });

  it('answers /ping and /ready', async () => {
    assert.equal((await fetch(`${service.server.url}/ping`)).status, 200);
    assert.equal((await fetch(`${service.server.url}/ready`)).status, 200);
  });

  it('handles an event once, calling each dependency through @bank/rpc', async () => {
    const first = (await (await deliver(event('e-1'))).json()) as EventAck;
    assert.deepEqual(first, { id: 'e-1', duplicate: false, called: names });
    for (const name of names) assert.equal(hits.get(name), 1);
    const again = (await (await deliver(event('e-1'))).json()) as EventAck;
    assert.equal(again.duplicate, true);
    for (const name of names) assert.equal(hits.get(name), 1);
  });

  it('refuses malformed events and other topics, so they are not acknowledged', async () => {
    assert.equal((await deliver({ id: 'x' })).status, 400);
    assert.equal((await deliver(event('e-2', 'some-other-topic'))).status, 400);
  });
});
