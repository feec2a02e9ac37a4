import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RpcError } from './errors.ts';
import { reply, service } from './service.ts';
import { rpcServer } from './testing.ts';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function call(url: string, method: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, terror: res.headers.get('terror'), body: text ? JSON.parse(text) : undefined };
}

test('routes: params, residuals, any-method, last registered wins, 404 no_handler', async () => {
  const s = await rpcServer((r) => {
    r.get('/cards/:id', (req) => ({ route: 'card', id: req.params.id }));
    r.get('/files/*rest', (req) => ({ rest: req.params.rest }));
    r.register(
      '*',
      '/any',
      service(async () => reply({ any: true }, 202)),
    );
    r.get('/cards/special', () => ({ route: 'special' }));
    r.get('/cards/:id/status', () => reply({ created: true }, 201, { 'x-extra': 'yes' }));
  });
  cleanup.push(() => s.stop(100));
  assert.deepEqual((await call(`${s.url}/cards/42`, 'GET')).body, { route: 'card', id: '42' });
  assert.deepEqual(
    (await call(`${s.url}/cards/special`, 'GET')).body,
    { route: 'special' },
    'last registered wins',
  );
  assert.deepEqual((await call(`${s.url}/files/a/b/c`, 'GET')).body, { rest: 'a/b/c' });
  assert.equal((await call(`${s.url}/any`, 'DELETE')).status, 202);
  assert.equal((await call(`${s.url}/cards/1/status`, 'GET')).status, 201);
  const miss = await call(`${s.url}/nope`, 'GET');
  assert.equal(miss.status, 404);
  assert.equal(miss.terror, '1');
  assert.equal(miss.body.code, 'not_found.no_handler');
  assert.equal((await call(`${s.url}/cards/1`, 'POST')).status, 404, 'method must match');
});

test('request bodies are validated against the route JSON schema', async () => {
  let handled = 0;
  const s = await rpcServer((r) =>
    r.post(
      '/payments',
      (req) => {
        handled++;
        return { accepted: req.body };
      },
      {
        schema: {
          type: 'object',
          required: ['amountMinor', 'currency'],
          properties: { amountMinor: { type: 'integer', minimum: 1 }, currency: { enum: ['GBP', 'EUR'] } },
          additionalProperties: false,
        },
      },
    ),
  );
  cleanup.push(() => s.stop(100));
  const ok = await call(`${s.url}/payments`, 'POST', { amountMinor: 100, currency: 'GBP' });
  assert.equal(ok.status, 200);
  const bad = await call(`${s.url}/payments`, 'POST', { amountMinor: 0, currency: 'USD' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'bad_request.invalid_body');
  assert.match(bad.body.message, /amountMinor/);
  assert.equal(bad.body.params.field, '/amountMinor');
  const notJson = await fetch(`${s.url}/payments`, { method: 'POST', body: '{nope' });
  assert.equal(notJson.status, 400);
  assert.equal(handled, 1, 'the handler never saw an invalid body');
});

test('thrown RpcErrors become their HTTP status with a Terror body; plain errors are 500', async () => {
  const s = await rpcServer((r) => {
    r.get('/forbidden', () => {
      throw new RpcError('forbidden.not_your_card', 'Not your card', { params: { card: '1' } });
    });
    r.get('/boom', () => {
      throw new Error('kaboom');
    });
  });
  cleanup.push(() => s.stop(100));
  const f = await call(`${s.url}/forbidden`, 'GET');
  assert.equal(f.status, 403);
  assert.equal(f.terror, '1');
  assert.deepEqual(f.body.params, { card: '1' });
  const b = await call(`${s.url}/boom`, 'GET');
  assert.equal(b.status, 500);
  assert.equal(b.body.code, 'internal_service');
});
