import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { networkPeers } from './bank-network-peers.ts';
import { type CatalogFixture, catalogFixture } from './catalog-fixture.ts';
import { admitCaller } from './network-policy.ts';
import { makeContext } from './testing.ts';

describe('bank:network-peers', () => {
  let fx: CatalogFixture;
  before(async () => {
    fx = await catalogFixture();
  });
  after(() => fx.close());

  it('looks up callees (with their APIs), datastores, known callers and the collective in the catalogue', async () => {
    // accounts as if new: cards already depends on it, so the graph names cards its caller.
    const ctx = makeContext(
      {
        name: 'accounts',
        owner: 'group:default/ledger',
        dependsOn: ['component:default/ledger'],
        datastores: ['resource:default/cassandra-ledger'],
      },
      { env: fx.env },
    );
    await networkPeers.handler(ctx);
    const o = ctx.outputs;
    assert.deepEqual(o.consumesApis, ['api:default/ledger-rpc']);
    assert.deepEqual(o.dependsOn, ['resource:default/cassandra-ledger']);
    assert.deepEqual(o.calleeIds, ['service.ledger']);
    assert.deepEqual(o.callerIds, ['service.cards']);
    assert.equal(o.collective, 'core-banking');
    assert.deepEqual(o.datastores, [
      {
        ref: 'resource:default/cassandra-ledger',
        name: 'cassandra-ledger',
        type: 'cassandra-keyspace',
        cidr: '10.20.0.0/16',
        ports: [9042],
      },
    ]);
  });

  it('refuses a name that is not a DNS label, a bad CIDR, and a callee not in the catalogue (with the closest)', async () => {
    for (const [input, re] of [
      [{ name: 'Not_DNS' }, /input\.name: "Not_DNS" is not a DNS label/],
      [{ name: 'x', datastoreCidr: '10.0.0.0' }, /input\.datastoreCidr: "10\.0\.0\.0" is not an IPv4 CIDR/],
      [
        { name: 'x', dependsOn: ['component:default/ledgr'] },
        /"component:default\/ledgr" is not in the catalogue; did you mean component:default\/ledger/,
      ],
    ] as const) {
      await assert.rejects(networkPeers.handler(makeContext(input, { env: fx.env })), re);
    }
  });
});

describe("admitCaller: a callee's ingress policy admits a new caller", () => {
  const policy = (managed: boolean, values: string[]) => `# the ledger's ingress
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ledger-ingress
  labels:
    app.kubernetes.io/managed-by: ${managed ? 'portal-scaffolder' : 'someone-else'}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchExpressions:
              - key: app.kubernetes.io/name
                operator: In
                values: [${values.join(', ')}]
`;

  it('adds the caller to the name rule, sorted and once, keeping the comments; leaves what it does not manage', () => {
    const out = admitCaller(policy(true, ['service.zeta']), 'service.cards');
    assert.ok(out?.startsWith("# the ledger's ingress"));
    assert.match(out ?? '', /values:\n\s+- service\.cards\n\s+- service\.zeta\n/);
    assert.equal(
      admitCaller(policy(true, ['service.cards']), 'service.cards'),
      undefined,
      'already admitted',
    );
    assert.equal(admitCaller(policy(false, []), 'service.cards'), undefined, 'not managed by the scaffolder');
    assert.equal(admitCaller('not: [yaml', 'service.cards'), undefined);
  });
});
