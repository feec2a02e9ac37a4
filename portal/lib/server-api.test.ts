import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishApiForPages, readApiAnswerOnServer, readApiOnServer } from './server-api.ts';

const caller = (port: number, more: Record<string, string> = {}) =>
  new Headers({ host: `127.0.0.1:${port}`, ...more });
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('pages reading the API on the server', () => {
  it('answers with any status, so a page can tell "not there" (404) from "not known yet"', async () => {
    const seen: Request[] = [];
    const unpublish = publishApiForPages(41001, (req) => {
      seen.push(req);
      return new URL(req.url).pathname === '/api/known'
        ? json(200, { ok: true })
        : json(404, {
            error: { name: 'NotFoundError', message: 'No entity', suggestions: ['component:default/ledger'] },
          });
    });
    try {
      const who = caller(41001, { cookie: 'portal_session=s', authorization: 'Bearer t', 'x-other': 'no' });
      assert.deepEqual(await readApiAnswerOnServer('/api/known', who), { status: 200, body: { ok: true } });
      const missing = await readApiAnswerOnServer('/api/entity/component/default/ledgr', who);
      assert.ok(missing);
      assert.equal(missing.status, 404);
      assert.deepEqual((missing.body as { error: { suggestions: string[] } }).error.suggestions, [
        'component:default/ledger',
      ]);
      // readApiOnServer keeps its meaning: the body of a success, else nothing.
      assert.deepEqual(await readApiOnServer('/api/known', who), { ok: true });
      assert.equal(await readApiOnServer('/api/entity/component/default/ledgr', who), undefined);
      // The caller's own credentials go with the read, nothing else.
      assert.equal(seen[0].headers.get('cookie'), 'portal_session=s');
      assert.equal(seen[0].headers.get('authorization'), 'Bearer t');
      assert.equal(seen[0].headers.get('x-other'), null);
    } finally {
      unpublish();
    }
  });

  it('is undefined without an API for that port, or when the answer is too slow', async () => {
    assert.equal(await readApiAnswerOnServer('/api/known', caller(41002)), undefined);
    // Behind a proxy the Host names no port: the process's only portal answers (none when there are several).
    const behindProxy = new Headers({ host: 'portal.bank.example' });
    assert.equal(await readApiAnswerOnServer('/api/known', behindProxy), undefined);
    const one = publishApiForPages(41004, () => json(200, { one: true }));
    assert.deepEqual(await readApiAnswerOnServer('/api/known', behindProxy), {
      status: 200,
      body: { one: true },
    });
    const two = publishApiForPages(41005, () => json(200, { two: true }));
    assert.equal(await readApiAnswerOnServer('/api/known', behindProxy), undefined);
    two();
    one();
    const unpublish = publishApiForPages(41003, async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return req.signal.aborted ? json(499, {}) : json(404, {});
    });
    try {
      assert.equal(await readApiAnswerOnServer('/api/slow', caller(41003), 50), undefined);
    } finally {
      unpublish();
    }
  });
});
