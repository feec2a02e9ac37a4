// biome-ignore-all lint/suspicious/noTemplateCurlyInString: template syntax in strings is what these tests feed the scaffolder
/**
 * Each template scaffolded into a temporary copy of the monorepo (real files, real git, a real SQLite
 * catalogue), and the result checked the way an engineer would: its own `npm test` and lint pass, it
 * starts and answers /ping, it calls a dependency running locally through @bank/rpc, every manifest
 * validates offline, the NetworkPolicy allows exactly the declared edges, and the catalogue shows it
 * with its relations.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { buildGraphIndex, forEachCallOf } from '@bank/graph';
import { CatalogService } from '@bank/plugin-catalog';
import { Scaffolder } from './engine.ts';
import { networkEdges, parseManifests, validateManifests } from './manifests.ts';
import { type FixtureRepo, makeFixtureRepo } from './testing.ts';

const actor = { id: 'user:default/jane.doe' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // Without NODE_TEST_CONTEXT: the generated service's `node --test` must run as its own test run.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(cmd, args, {
      cwd,
      env: { ...env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** Start a generated service as its own process (as `npm start` would), on a free port. */
function startProcess(dir: string, env: Record<string, string>, procs: ChildProcess[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: dir,
    env: { ...process.env, NODE_OPTIONS: '', PORT: '0', LISTEN_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${dir} did not start: ${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${dir} exited with ${code}: ${out}`)));
  });
}

function manifestsOf(dir: string) {
  const files = readdirSync(path.join(dir, 'k8s')).map((f) => ({
    path: `k8s/${f}`,
    text: readFileSync(path.join(dir, 'k8s', f), 'utf8'),
  }));
  return parseManifests(files);
}

describe('templates, scaffolded into a temporary copy of the monorepo', () => {
  let repo: FixtureRepo;
  let store: CatalogStore;
  let catalog: CatalogService;
  let scaffolder: Scaffolder;
  const procs: ChildProcess[] = [];
  let ledgerSyncUrl = '';

  before(async () => {
    repo = makeFixtureRepo({ git: true });
    store = await CatalogStore.open(`file:${path.join(repo.root, 'portal.db')}`);
    catalog = new CatalogService(store, [path.join(repo.root, 'services')]);
    const first = await catalog.ingest();
    assert.deepEqual(first.errors, []);
    scaffolder = new Scaffolder({ repoRoot: repo.root, catalog });
  });

  after(async () => {
    for (const p of procs) p.kill('SIGTERM');
    await store?.close();
    repo?.cleanup();
  });

  const ledgerSync = {
    name: 'ledger-sync',
    description: 'Keeps the ledger and accounts in step',
    owner: 'ledger',
    system: 'ledger-system',
    tier: 2,
    dependsOn: ['ledger', 'accounts'],
    datastores: ['cassandra-ledger'],
  };

  it('typescript-service: a dry-run renders files, manifests and the catalogue diff, and writes nothing', async () => {
    const head = git(repo.root, 'rev-parse', 'HEAD');
    const result = await scaffolder.dryRun('typescript-service', ledgerSync, { actor });
    assert.equal(result.dir, 'services/ledger-sync');
    assert.equal(result.entityRef, 'component:default/ledger-sync');
    for (const f of [
      'package.json',
      'src/server.ts',
      'src/clients.ts',
      'src/server.test.ts',
      'Dockerfile',
      'biome.json',
      'catalog-info.yaml',
    ]) {
      assert.ok(result.files.includes(f), f);
    }
    const clients = result.preview?.find((f) => f.path === 'src/clients.ts')?.content ?? '';
    assert.match(clients, /accounts: 'accounts',\n {2}ledger: 'ledger',/);
    assert.deepEqual(result.manifests.map((m) => `${m.kind}/${m.name}:${m.errors.length}`).sort(), [
      'ConfigMap/service-ledger-sync-config:0',
      'Deployment/service-ledger-sync:0',
      'NetworkPolicy/service-ledger-sync-egress:0',
      'NetworkPolicy/service-ledger-sync-ingress:0',
      'PodDisruptionBudget/service-ledger-sync:0',
      'Service/service-ledger-sync:0',
      'ServiceAccount/service-ledger-sync:0',
    ]);
    const added = result.catalogDiff?.added.find((a) => a.ref === 'component:default/ledger-sync');
    // A call to a service with an API is a consumesApi of that API (ledger); one without stays dependsOn
    // (accounts), as do resources.
    assert.deepEqual(
      added?.relations.filter((r) => r.type === 'consumesApi').map((r) => r.targetRef),
      ['api:default/ledger-rpc'],
    );
    assert.deepEqual(
      added?.relations.filter((r) => r.type === 'dependsOn').map((r) => r.targetRef),
      ['component:default/accounts', 'resource:default/cassandra-ledger'],
    );
    assert.ok(
      result.catalogDiff?.relationsAdded.some(
        (r) => r.source === 'api:default/ledger-rpc' && r.type === 'apiConsumedBy',
      ),
    );
    // Nothing written: no directory, no staging, no branch, no commit, no entity.
    assert.equal(existsSync(path.join(repo.root, 'services', 'ledger-sync')), false);
    assert.deepEqual(
      readdirSync(path.join(repo.root, 'services')).filter((n) => n.startsWith('.')),
      [],
    );
    assert.equal(git(repo.root, 'rev-parse', 'HEAD'), head);
    assert.equal(git(repo.root, 'status', '--porcelain', '--', 'services'), '');
    assert.equal(catalog.loaded.byRef.has('component:default/ledger-sync'), false);
  });

  it('typescript-service: creates the service, commits it on the checked-out branch and registers it with its relations', async () => {
    const head = git(repo.root, 'rev-parse', 'HEAD');
    const result = await scaffolder.run('typescript-service', ledgerSync, { actor });
    const dir = path.join(repo.root, 'services', 'ledger-sync');
    assert.ok(existsSync(path.join(dir, 'src', 'server.ts')));
    // Committed where it was written: on the checked-out branch, one commit holding exactly the new service,
    // and nothing left untracked or modified in the working tree.
    assert.equal(result.branch, 'main');
    assert.equal(git(repo.root, 'symbolic-ref', '--short', 'HEAD'), 'main');
    assert.equal(git(repo.root, 'rev-parse', 'HEAD'), result.commitHash);
    assert.equal(git(repo.root, 'rev-parse', 'HEAD^'), head);
    const changed = git(repo.root, 'diff', '--name-only', head, 'HEAD').split('\n');
    assert.deepEqual(changed.sort(), result.files.map((f) => `services/ledger-sync/${f}`).sort());
    assert.equal(git(repo.root, 'status', '--porcelain', '--', 'services'), '');
    // Registered at once, with relations both ways and the template lineage.
    const e = catalog.loaded.byRef.get('component:default/ledger-sync');
    assert.ok(e, 'in the catalogue');
    assert.equal(e.metadata.annotations?.['bank.io/template'], 'typescript-service');
    assert.equal(e.metadata.annotations?.['bank.io/template-version'], '1.1.0');
    const rel = (ref: string, type: string) =>
      catalog.loaded.byRef
        .get(ref)
        ?.relations.filter((r) => r.type === type)
        .map((r) => r.targetRef);
    assert.deepEqual(rel('component:default/ledger-sync', 'consumesApi'), ['api:default/ledger-rpc']);
    assert.deepEqual(rel('component:default/ledger-sync', 'dependsOn'), [
      'component:default/accounts',
      'resource:default/cassandra-ledger',
    ]);
    assert.deepEqual(rel('component:default/ledger-sync', 'ownedBy'), ['group:default/ledger']);
    assert.ok(rel('api:default/ledger-rpc', 'apiConsumedBy')?.includes('component:default/ledger-sync'));
    assert.ok(rel('component:default/accounts', 'dependencyOf')?.includes('component:default/ledger-sync'));
    // The graph's callees are exactly the services the generated clients call, and the datastore.
    const index = buildGraphIndex((await catalog.view()).all());
    const callees: string[] = [];
    forEachCallOf(index, 'component:default/ledger-sync', 'out', (_a, to) => callees.push(to));
    assert.deepEqual(callees.sort(), [
      'component:default/accounts',
      'component:default/ledger',
      'resource:default/cassandra-ledger',
    ]);
    const clients = readFileSync(path.join(dir, 'src', 'clients.ts'), 'utf8');
    assert.match(clients, /accounts: 'accounts',\n {2}ledger: 'ledger',/);
    assert.ok(rel('group:default/ledger', 'ownerOf')?.includes('component:default/ledger-sync'));
    assert.ok(catalog.loaded.byRef.has('api:default/ledger-sync-rpc'));
  });

  it('typescript-service: every manifest validates offline and the NetworkPolicy allows exactly the declared edges', async () => {
    const dir = path.join(repo.root, 'services', 'ledger-sync');
    const { objects, errors } = manifestsOf(dir);
    assert.deepEqual(errors, []);
    const reports = await validateManifests(objects);
    for (const r of reports) assert.deepEqual(r.errors, [], `${r.kind}/${r.name}`);
    // biome-ignore lint/suspicious/noExplicitAny: a parsed manifest, read field by field
    const deployment = objects.find((o) => o.kind === 'Deployment')?.object as any;
    assert.equal(deployment.spec.replicas, 3);
    assert.deepEqual(deployment.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
    const c = deployment.spec.template.spec.containers[0];
    assert.equal(c.livenessProbe.httpGet.path, '/ping');
    assert.equal(c.readinessProbe.httpGet.path, '/ready');
    assert.ok(c.resources.requests.cpu && c.resources.limits.memory);
    // No made-up digest: the repository alone, never pulled (so no `latest`) until the pipeline pins a build.
    assert.equal(c.image, 'registry.bank.internal/service.ledger-sync');
    assert.equal(c.imagePullPolicy, 'Never');
    assert.equal(deployment.metadata.annotations['bank.io/awaiting-first-build'], 'true');
    // The check refuses the same image once it may be pulled, an all-zero digest, and a tag.
    const withImage = (image: string, imagePullPolicy: string) => {
      const copy = structuredClone(deployment);
      Object.assign(copy.spec.template.spec.containers[0], { image, imagePullPolicy });
      return [{ ...objects.find((o) => o.kind === 'Deployment'), object: copy }] as typeof objects;
    };
    for (const [image, policy, re] of [
      ['registry.bank.internal/service.ledger-sync', 'IfNotPresent', /must be pinned by digest/],
      [
        `registry.bank.internal/service.ledger-sync@sha256:${'0'.repeat(64)}`,
        'IfNotPresent',
        /all-zero digest/,
      ],
      ['registry.bank.internal/service.ledger-sync:latest', 'Never', /must be pinned by digest/],
    ] as const) {
      const [report] = await validateManifests(withImage(image, policy));
      assert.match(report?.errors.join('\n') ?? '', re, image);
    }
    const [pinned] = await validateManifests(
      withImage(`registry.bank.internal/service.ledger-sync@sha256:${'ab'.repeat(32)}`, 'IfNotPresent'),
    );
    assert.deepEqual(pinned?.errors, []);
    assert.deepEqual(
      deployment.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution.map(
        (t: { podAffinityTerm: { topologyKey: string } }) => t.podAffinityTerm.topologyKey,
      ),
      ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'],
    );
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(deployment.spec.template.spec.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(deployment.spec.template.spec.volumes[0].secret.secretName, 'service-ledger-sync-secrets');
    // Traces: the SDK (services/lib/rpc) reads these; the portal resolves the spans by the service id.
    const env = Object.fromEntries(
      (c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]),
    );
    assert.equal(env.OTEL_SERVICE_NAME, 'ledger-sync');
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector.monitoring.svc.cluster.local:4318');
    assert.equal(
      env.OTEL_RESOURCE_ATTRIBUTES,
      'bank.io/service-id=service.ledger-sync,k8s.namespace.name=$(POD_NAMESPACE)',
    );
    const names = (c.env as { name: string }[]).map((e) => e.name);
    assert.ok(
      names.indexOf('POD_NAMESPACE') < names.indexOf('OTEL_RESOURCE_ATTRIBUTES'),
      'defined before use',
    );
    assert.deepEqual(
      (c.env as { name: string; valueFrom?: unknown }[]).find((e) => e.name === 'OTEL_EXPORTER_OTLP_HEADERS')
        ?.valueFrom,
      {
        secretKeyRef: {
          name: 'service-ledger-sync-secrets',
          key: 'otel-exporter-otlp-headers',
          optional: true,
        },
      },
    );
    const egress = objects.find((o) => o.kind === 'NetworkPolicy' && o.name.endsWith('-egress'))?.object as {
      spec: { egress: { to: unknown[]; ports: { port: number }[] }[] };
    };
    assert.ok(
      egress.spec.egress.some(
        (r) =>
          JSON.stringify(r.to) ===
            JSON.stringify([
              { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
            ]) && r.ports.some((p) => p.port === 4318),
      ),
      'the pods may reach the collector',
    );
    assert.deepEqual(networkEdges(objects, 'service.ledger-sync'), {
      ingressFrom: [],
      ingressNamespaces: ['monitoring'],
      egressTo: ['service.accounts', 'service.ledger'],
      egressCidrs: ['10.20.0.0/16:9042'],
      dns: true,
    });
  });

  it('typescript-service: the generated service passes its own npm test and lint', async () => {
    const dir = path.join(repo.root, 'services', 'ledger-sync');
    const test = await run('npm', ['test'], dir);
    assert.equal(test.code, 0, test.out);
    assert.match(test.out, /# pass 3/);
    const lint = await run('npx', ['biome', 'check', '.'], dir);
    assert.equal(lint.code, 0, lint.out);
  });

  it('typescript-service: a second service calls the first, both running locally, through @bank/rpc', async () => {
    const result = await scaffolder.run(
      'typescript-service',
      {
        name: 'statement-api',
        description: 'Statements for customers',
        owner: 'accounts',
        dependsOn: ['ledger-sync'],
      },
      { actor },
    );
    assert.equal(result.entityRef, 'component:default/statement-api');
    // Its egress policy allows ledger-sync, and nothing else but DNS and the mesh.
    const { objects } = manifestsOf(path.join(repo.root, 'services', 'statement-api'));
    const edges = networkEdges(objects, 'service.statement-api');
    assert.deepEqual(edges.egressTo, ['service.ledger-sync']);
    assert.deepEqual(edges.egressCidrs, []);
    // And ledger-sync, scaffolded from a template, now admits it: the same commit re-rendered its ingress policy.
    assert.deepEqual(
      result.modified?.map((m) => m.path),
      ['services/ledger-sync/k8s/networkpolicy.yaml'],
    );
    const callee = manifestsOf(path.join(repo.root, 'services', 'ledger-sync'));
    assert.deepEqual(networkEdges(callee.objects, 'service.ledger-sync').ingressFrom, [
      'service.statement-api',
    ]);
    for (const r of await validateManifests(callee.objects))
      assert.deepEqual(r.errors, [], `${r.kind}/${r.name}`);
    assert.match(
      git(repo.root, 'diff', '--name-only', 'HEAD^', 'HEAD'),
      /services\/ledger-sync\/k8s\/networkpolicy\.yaml/,
    );
    assert.equal(git(repo.root, 'status', '--porcelain', '--', 'services'), '');
    ledgerSyncUrl = await startProcess(path.join(repo.root, 'services', 'ledger-sync'), {}, procs);
    assert.equal((await fetch(`${ledgerSyncUrl}/ping`)).status, 200);
    const url = await startProcess(
      path.join(repo.root, 'services', 'statement-api'),
      { RPC_DISCOVERY: JSON.stringify({ 'ledger-sync': ledgerSyncUrl }) },
      procs,
    );
    assert.equal(await (await fetch(`${url}/ping`)).text(), 'pong');
    const info = (await (await fetch(`${url}/v1/info`)).json()) as {
      dependencies: { name: string; ok: boolean; info?: { service: string } }[];
    };
    assert.deepEqual(info.dependencies, [
      { name: 'ledger-sync', ok: true, info: { service: 'ledger-sync', version: '0.1.0' } },
    ]);
    assert.ok(
      catalog.loaded.byRef
        .get('component:default/ledger-sync')
        ?.relations.some((r) => r.type === 'providesApi' && r.targetRef === 'api:default/ledger-sync-rpc'),
    );
    assert.ok(
      catalog.loaded.byRef
        .get('api:default/ledger-sync-rpc')
        ?.relations.some(
          (r) => r.type === 'apiConsumedBy' && r.targetRef === 'component:default/statement-api',
        ),
    );
  });

  it('event-consumer: scaffolds, passes its own tests and lint, validates, and handles an event by calling a running dependency', async () => {
    const result = await scaffolder.run(
      'event-consumer',
      {
        name: 'ledger-events',
        description: 'Reacts to new ledger entries',
        owner: 'ledger',
        topic: 'ledger-entries',
        dependsOn: ['ledger-sync'],
        // Spans straight to the portal instead of the collector.
        traceEndpoint: 'https://portal.bank.internal',
      },
      { actor },
    );
    const dir = path.join(repo.root, 'services', 'ledger-events');
    assert.equal(result.entityRef, 'component:default/ledger-events');
    assert.deepEqual(
      catalog.loaded.byRef
        .get('component:default/ledger-events')
        ?.relations.filter((r) => r.type === 'dependsOn' || r.type === 'consumesApi')
        .map((r) => `${r.type} ${r.targetRef}`),
      ['consumesApi api:default/ledger-sync-rpc', 'dependsOn resource:default/ledger-entries'],
    );
    const { objects } = manifestsOf(dir);
    for (const r of await validateManifests(objects)) assert.deepEqual(r.errors, [], `${r.kind}/${r.name}`);
    // biome-ignore lint/suspicious/noExplicitAny: a parsed manifest, read field by field
    const deployment = objects.find((o) => o.kind === 'Deployment')?.object as any;
    const container = deployment.spec.template.spec.containers[0] as {
      env: { name: string; value?: string }[];
    };
    const env = new Map(container.env.map((e) => [e.name, e.value]));
    assert.equal(env.get('OTEL_EXPORTER_OTLP_ENDPOINT'), 'https://portal.bank.internal');
    assert.equal(env.get('OTEL_SERVICE_NAME'), 'ledger-events');
    assert.match(env.get('OTEL_RESOURCE_ATTRIBUTES') ?? '', /^bank\.io\/service-id=service\.ledger-events,/);
    await assert.rejects(
      scaffolder.run(
        'event-consumer',
        {
          name: 'ledger-events-2',
          description: 'Reacts to new ledger entries',
          owner: 'ledger',
          topic: 'ledger-entries',
          traceEndpoint: 'javascript:alert(1)',
        },
        { actor },
      ),
      /traceEndpoint/,
    );
    assert.deepEqual(networkEdges(objects, 'service.ledger-events'), {
      ingressFrom: [],
      ingressNamespaces: ['eventing', 'monitoring'],
      egressTo: ['service.ledger-sync'],
      egressCidrs: ['10.20.0.0/16:9092'],
      dns: true,
    });
    const test = await run('npm', ['test'], dir);
    assert.equal(test.code, 0, test.out);
    const lint = await run('npx', ['biome', 'check', '.'], dir);
    assert.equal(lint.code, 0, lint.out);
    const url = await startProcess(
      dir,
      { RPC_DISCOVERY: JSON.stringify({ 'ledger-sync': ledgerSyncUrl }) },
      procs,
    );
    assert.equal((await fetch(`${url}/ping`)).status, 200);
    const ack = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'e-1',
        topic: 'ledger-entries',
        type: 'ledger.entry-created',
        occurredAt: new Date().toISOString(),
        data: {},
      }),
    });
    assert.equal(ack.status, 200);
    assert.deepEqual(await ack.json(), { id: 'e-1', duplicate: false, called: ['ledger-sync'] });
    const callee = manifestsOf(path.join(repo.root, 'services', 'ledger-sync'));
    assert.deepEqual(networkEdges(callee.objects, 'service.ledger-sync').ingressFrom, [
      'service.ledger-events',
      'service.statement-api',
    ]);
  });

  it('a failure after a callee admitted the caller restores the callee policy too', async () => {
    const policy = path.join(repo.root, 'services', 'ledger-sync', 'k8s', 'networkpolicy.yaml');
    const before = readFileSync(policy, 'utf8');
    const dir = path.join(repo.root, 'templates', 'admit-then-fail');
    mkdirSync(path.join(dir, 'skeleton'), { recursive: true });
    writeFileSync(path.join(dir, 'skeleton', 'README.md'), 'x\n');
    writeFileSync(
      path.join(dir, 'template.yaml'),
      [
        'apiVersion: scaffolder.backstage.io/v1beta3',
        'kind: Template',
        'metadata:',
        '  name: admit-then-fail',
        'spec:',
        '  type: service',
        '  parameters:',
        '    properties:',
        '      name: {type: string, ui:field: EntityNamePicker}',
        '      dependsOn: {type: array, items: {type: string}, ui:field: MultiEntityPicker}',
        '  steps:',
        '    - id: peers',
        '      action: bank:network-peers',
        '      input: {name: "${{ parameters.name }}", dependsOn: "${{ parameters.dependsOn }}"}',
        '    - id: fetch',
        '      action: fetch:template',
        '      input: {url: ./skeleton}',
        '    - id: publish',
        '      action: publish:monorepo',
        '      input: {name: "${{ parameters.name }}", alsoWrite: "${{ steps.peers.output.calleePolicies }}"}',
        '    - id: boom',
        '      action: test:fail',
        '',
      ].join('\n'),
    );
    const headBefore = git(repo.root, 'rev-parse', 'HEAD');
    const failing = new Scaffolder({
      repoRoot: repo.root,
      catalog,
      actions: [
        {
          id: 'test:fail',
          description: 'fails (tests only)',
          handler: async () => Promise.reject(new Error('deliberate')),
        },
      ],
    });
    await assert.rejects(
      () =>
        failing.run('admit-then-fail', { name: 'admits-then-fails', dependsOn: ['ledger-sync'] }, { actor }),
      /step "boom" failed/,
    );
    assert.equal(readFileSync(policy, 'utf8'), before);
    assert.equal(existsSync(path.join(repo.root, 'services', 'admits-then-fails')), false);
    // The commit is undone too: the branch is back where it was, the index as before.
    assert.equal(git(repo.root, 'rev-parse', 'HEAD'), headBefore);
    assert.equal(git(repo.root, 'status', '--porcelain', '--', 'services'), '');
  });
});
