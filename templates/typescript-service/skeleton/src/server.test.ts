import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listen, Router, type RpcServer } from '@bank/rpc';
import type { InfoResponse } from './api.ts';
import { DEPENDENCIES } from './clients.ts';
import { SERVICE_NAME, type Service, startService } from './server.ts';

const names: string[] = Object.values(DEPENDENCIES);

describe(`${SERVICE_NAME} on a real local server`, () => {
  const upstream = new Map<string, RpcServer>();
  let service: Service;

  before(async () => {
    // Each dependency is a real @bank/rpc server on 127.0.0.1 answering /v1/info.
    for (const name of names) {
      const router = new Router().get('/v1/info', () => ({
        service: name,
        version: 'test',
        dependencies: [],
      }));
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

  it('calls each dependency through @bank/rpc', async () => {
    const res = await fetch(`${service.server.url}/v1/info`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as InfoResponse;
    assert.equal(body.service, SERVICE_NAME);
    assert.deepEqual(body.dependencies.map((d) => d.name).sort(), [...names].sort());
    for (const d of body.dependencies) assert.equal(d.ok, true, `${d.name}: ${d.error}`);
  });

  it('reports a dependency that is down instead of failing', {
    skip: names.length === 0 && 'no dependencies',
  }, async () => {
    const [first] = names;
    await upstream.get(first)?.stop(1_000);
    upstream.delete(first);
    const body = (await (await fetch(`${service.server.url}/v1/info`)).json()) as InfoResponse;
    const down = body.dependencies.find((d) => d.name === first);
    assert.equal(down?.ok, false);
    assert.ok(down?.error);
  });
});
