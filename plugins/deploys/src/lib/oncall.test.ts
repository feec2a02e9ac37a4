import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogStore } from '@bank/catalog';
import { testDatabases } from '@bank/catalog/testing';
import { buildGraphIndex } from '@bank/graph';
import { smallEstate } from '@bank/graph/testing';
import { onCallLine, PagerDutyOnCall, ScheduleFileOnCall } from './oncall.ts';
import { DeploysService } from './service.ts';

const SERVICES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../services');
const START = Date.parse('2026-01-05T09:00:00Z');
const WEEK = 7 * 86_400_000;

describe('on call from the estate generator’s schedule file (services/oncall.json)', () => {
  const dir = ScheduleFileOnCall.fromRoots([SERVICES]);
  const file = JSON.parse(readFileSync(path.join(SERVICES, 'oncall.json'), 'utf8'));
  const rota = file.rotas.find((r: { id: string }) => r.id === 'payments-card-processing');

  it('the committed file has a rota for every squad annotation card-api carries', () => {
    assert.ok(dir);
    assert.ok(rota.members.length >= 2);
    const annotation = readFileSync(path.join(SERVICES, 'card-api/catalog-info.yaml'), 'utf8');
    assert.match(annotation, /bank\.io\/oncall-rota: "?payments-card-processing"?/);
  });

  it('hands over weekly through the members, with the next hand-over and who takes over', async () => {
    const n = rota.members.length;
    for (const week of [0, 1, n, n + 1]) {
      const at = START + week * WEEK + 3_600_000;
      const o = (await dir?.whoIsOnCall(['payments-card-processing'], at))?.get('payments-card-processing');
      assert.equal(o?.onCall?.name, rota.members[week % n].name, `week ${week}`);
      assert.equal(o?.next?.name, rota.members[(week + 1) % n].name);
      assert.equal(o?.since, new Date(START + week * WEEK).toISOString());
      assert.equal(o?.until, new Date(START + (week + 1) * WEEK).toISOString());
      assert.equal(o?.slackUrl, 'https://slack.com/app_redirect?channel=squad-card-processing');
      assert.match(o?.pageUrl ?? '', /^mailto:/);
    }
    // A moment before the rotation's start still has someone on call (the rotation runs backwards).
    const before = (await dir?.whoIsOnCall(['payments-card-processing'], START - 1))?.get(
      'payments-card-processing',
    );
    assert.equal(before?.onCall?.name, rota.members[n - 1].name);
    assert.equal(before?.next?.name, rota.members[0].name);
  });

  it('an unknown rota is "on call unknown", not someone else', async () => {
    const o = (await dir?.whoIsOnCall(['no-such-rota']))?.get('no-such-rota');
    assert.equal(o?.onCall, null);
    assert.equal(onCallLine(o), 'on call unknown');
  });

  it('a broken schedule file says where and why', () => {
    assert.throws(
      () => new ScheduleFileOnCall({ rotationStart: 'soon', handoverHours: 168, rotas: [] }, 'x.json'),
      /x\.json: rotationStart/,
    );
    assert.throws(
      () =>
        new ScheduleFileOnCall(
          { rotationStart: '2026-01-05T09:00:00Z', handoverHours: 168, rotas: [{ id: 'a', members: [] }] },
          'x.json',
        ),
      /x\.json: rotas\[0\] needs an "id" and at least one member/,
    );
  });
});

/**
 * TEST DOUBLE: a local HTTP server standing in for PagerDuty's REST API (api.pagerduty.com cannot be reached
 * here). It answers GET /oncalls in PagerDuty's recorded response format (v2: `oncalls` with user, schedule,
 * escalation_level, start, end) and checks the token header as PagerDuty does.
 */
describe('on call from PagerDuty’s GET /oncalls (against a PagerDuty test double)', () => {
  let server: http.Server;
  let base: string;
  const seen: { auth?: string; url?: URL }[] = [];
  const NOW = Date.parse('2026-12-04T18:00:00Z');
  const shift = (user: string, name: string, start: string, end: string, level = 1) => ({
    escalation_policy: {
      id: 'PEP1',
      type: 'escalation_policy_reference',
      summary: 'Payments',
      html_url: 'https://bank.pagerduty.com/escalation_policies/PEP1',
    },
    escalation_level: level,
    schedule: {
      id: 'PSCH1',
      type: 'schedule_reference',
      summary: 'Payments primary',
      html_url: 'https://bank.pagerduty.com/schedules/PSCH1',
    },
    user: {
      id: user,
      type: 'user',
      summary: name,
      name,
      email: `${user.toLowerCase()}@bank.example`,
      html_url: `https://bank.pagerduty.com/users/${user}`,
    },
    start,
    end,
  });
  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ auth: req.headers.authorization, url });
      if (req.headers.authorization !== 'Token token=pd-secret') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Unauthorized', code: 2006 } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          oncalls: [
            shift('PUSR2', 'Bo Lind', '2026-12-07T09:00:00Z', '2026-12-14T09:00:00Z'),
            shift('PUSR1', 'Ana Ruiz', '2026-11-30T09:00:00Z', '2026-12-07T09:00:00Z'),
            shift('PUSR9', 'Escalation Manager', '2026-11-01T00:00:00Z', '2027-01-01T00:00:00Z', 2),
          ],
          limit: 100,
          offset: 0,
          more: false,
          total: null,
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('who is on call now (level 1), until when, who takes over; token sent as PagerDuty wants it', async () => {
    const pd = new PagerDutyOnCall({ token: 'pd-secret', baseUrl: base, slackOf: () => '#squad-cards' });
    const o = (await pd.whoIsOnCall(['PSCH1'], NOW)).get('PSCH1');
    assert.equal(o?.onCall?.displayName, 'Ana Ruiz');
    assert.equal(o?.until, '2026-12-07T09:00:00Z');
    assert.equal(o?.next?.displayName, 'Bo Lind');
    assert.equal(o?.pageUrl, 'https://bank.pagerduty.com/users/PUSR1');
    assert.equal(o?.slackUrl, 'https://slack.com/app_redirect?channel=squad-cards');
    const last = seen.at(-1);
    assert.equal(last?.auth, 'Token token=pd-secret');
    assert.equal(last?.url?.pathname, '/oncalls');
    assert.deepEqual(last?.url?.searchParams.getAll('schedule_ids[]'), ['PSCH1']);
    assert.equal(last?.url?.searchParams.get('since'), new Date(NOW).toISOString());
  });

  it('a refused token is "on call unknown" with PagerDuty’s answer, never a guess', async () => {
    const pd = new PagerDutyOnCall({ token: 'wrong', baseUrl: base });
    const o = (await pd.whoIsOnCall(['PSCH1'], NOW)).get('PSCH1');
    assert.equal(o?.onCall, null);
    assert.match(o?.error ?? '', /answered 401/);
    assert.match(onCallLine(o), /on call unknown \(PagerDuty GET \/oncalls answered 401\)/);
  });
});

for (const db of testDatabases()) {
  describe(`who to call for services on ${db.name}`, { skip: db.skip }, () => {
    let store: CatalogStore;
    const index = buildGraphIndex(smallEstate());
    before(async () => {
      store = await CatalogStore.open(await db.create());
    });
    after(async () => store.close());

    it('resolves each service’s rota annotation, with its runbook and the entity’s Slack channel', async () => {
      const onCall = new ScheduleFileOnCall({
        rotationStart: '2026-01-05T09:00:00Z',
        handoverHours: 24,
        rotas: [
          {
            id: 'payments-card',
            members: [
              { name: 'ana', displayName: 'Ana', email: 'ana@bank.example' },
              { name: 'bo', displayName: 'Bo' },
            ],
          },
        ],
      });
      const svc = await new DeploysService({ store, getIndex: () => index, onCall }).init();
      const [card] = await svc.onCallFor(['card-api'], START + 86_400_000 + 60_000);
      assert.equal(card.service, 'component:default/card-api');
      assert.equal(card.rota, 'payments-card');
      assert.equal(card.runbook, 'https://runbooks.bank.example/card-api');
      assert.equal(card.onCall?.onCall?.name, 'bo');
      assert.equal(card.onCall?.next?.name, 'ana');
      assert.equal(card.onCall?.slackUrl, 'https://slack.com/app_redirect?channel=card-api');
      await assert.rejects(svc.onCallFor(['card-apj']), /card-api/);
    });
  });
}
