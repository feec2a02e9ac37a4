// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are the template language under test
/**
 * Backstage's own templates load and dry-run: the example template `@backstage/create-app` publishes on
 * npm (read from the installed package, not copied into the repository), and fixtures in the shape of
 * backstage/software-templates (`${{ a + "/" + b }}`, parseRepoUrl, each, if, copyWithoutRender, `{%- if %}`).
 * Actions that are not available here are named at load, skipped by a dry-run, and refuse a real run.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { Scaffolder } from './engine.ts';
import { TemplateError } from './template.ts';
import { type FixtureRepo, makeFixtureRepo } from './testing.ts';

const require = createRequire(import.meta.url);
const CREATE_APP = path.dirname(require.resolve('@backstage/create-app/package.json'));
const EXAMPLES = path.join(CREATE_APP, 'templates', 'default-app', 'examples');
const actor = { kind: 'user', id: 'user:default/guest' };

/** The 1-based line of the first line of `file` matching `re`. */
function lineOf(file: string, re: RegExp): number {
  const i = readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => re.test(l));
  assert.ok(i >= 0, `${re} in ${file}`);
  return i + 1;
}

const write = (root: string, files: Record<string, string>) => {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
};

/** A template in the shape of backstage/software-templates' react-ssr / springboot-grpc templates. */
const SOFTWARE_TEMPLATE = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: springboot-grpc-template
  title: Create a Java gRPC service
  tags: [recommended, java, grpc]
spec:
  owner: group:default/ledger
  type: service
  parameters:
    - title: Provide some simple information
      required: [component_id, owner]
      properties:
        component_id:
          title: Name
          type: string
          ui:field: EntityNamePicker
        description:
          title: Description
          type: string
        owner:
          title: Owner
          type: string
          ui:field: OwnerPicker
          ui:options:
            allowedKinds: [Group]
        environments:
          title: Environments
          type: array
          items: { type: string }
          default: [dev, prod]
    - title: Choose a location
      required: [repoUrl]
      properties:
        repoUrl:
          title: Repository Location
          type: string
          ui:field: RepoUrlPicker
          ui:options:
            allowedHosts: [github.com]
  steps:
    - id: template
      name: Fetch Skeleton + Template
      action: fetch:template
      input:
        url: ./skeleton
        copyWithoutRender:
          - .github/workflows/*
        values:
          component_id: \${{ parameters.component_id }}
          description: \${{ parameters.description }}
          destination: \${{ parameters.repoUrl | parseRepoUrl }}
          owner: \${{ parameters.owner }}
          environments: \${{ parameters.environments }}
          http_port: 8080
    - id: per-environment
      name: Note each environment
      action: debug:log
      each: \${{ parameters.environments }}
      input:
        message: "\${{ each.key }}: \${{ each.value | upper }} \${{ 'gets 3 replicas' if each.value == 'prod' else 'gets 1' }}"
    - id: only-with-description
      name: Only when described
      if: \${{ parameters.description }}
      action: debug:log
      input:
        message: described as \${{ parameters.description | dump }}
    - id: publish
      name: Publish
      action: publish:github
      input:
        allowedHosts: ["github.com"]
        description: This is \${{ parameters.component_id }}
        repoUrl: \${{ parameters.repoUrl }}
        repoVisibility: \${{ "private" if parameters.owner else "public" }}
    - id: register
      name: Register
      action: catalog:register
      input:
        repoContentsUrl: \${{ steps.publish.output.repoContentsUrl }}
        catalogInfoPath: "/catalog-info.yaml"
  output:
    links:
      - title: Repository
        url: \${{ steps.publish.output.remoteUrl }}
      - title: Open in catalog
        icon: catalog
        entityRef: \${{ steps.register.output.entityRef }}
    text:
      - title: Slug
        content: \${{ (parameters.repoUrl | parseRepoUrl).owner + "/" + (parameters.repoUrl | parseRepoUrl).repo }}
`;

const SOFTWARE_SKELETON: Record<string, string> = {
  'skeleton/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: \${{values.component_id | dump}}
  {%- if values.description %}
  description: \${{values.description | dump}}
  {%- endif %}
  annotations:
    github.com/project-slug: \${{values.destination.owner + "/" + values.destination.repo}}
    backstage.io/techdocs-ref: dir:.
spec:
  type: service
  lifecycle: experimental
  owner: \${{values.owner | dump}}
`,
  'skeleton/.github/workflows/build.yml': `name: build
on: [push]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo \${{ github.sha }} {% not a tag %}
`,
  'skeleton/README.md': `# \${{ values.component_id | title }}

{# every construct of the grammar, once #}
Served on port \${{ values.http_port }}; metrics on \${{ values.http_port + 1 }}, \${{ values.http_port // 1000 }}k, \${{ values.http_port % 1000 }}, \${{ 2 ** 3 }}, \${{ -values.http_port * 2 / 4 }}.
Slug: \${{ values.destination.owner ~ "/" ~ values.destination.repo }} on \${{ values.destination.host | upper }}.
{% set envs = values.environments %}
{% for env in envs %}
- \${{ loop.index }}/\${{ loop.length }} \${{ env }}\${{ " (production)" if env == "prod" else "" }}\${{ "," if not loop.last }}
{% else %}
- no environments
{% endfor %}
{% if "prod" in envs and values.http_port > 1024 %}
Production on an unprivileged port.
{% elif values.http_port <= 1024 %}
Privileged port.
{% else %}
No production.
{% endif %}
{% for key, value in { owner: values.owner, tier: 2 } %}
\${{ key }}=\${{ value }}
{% endfor %}
Has description: \${{ values.description is defined and values.description != "" }}; tags: \${{ ["a", "b"] | join("+") }}; first: \${{ envs[0] }}; last: \${{ envs[-1] }}; \${{ values.component_id[:6] }}; \${{ values.component_id.split("-") | length }} words; \${{ values.missing | default("n/a") }}; \${{ { "x": [1, 2] } | dump }}; \${{ null is none }}; \${{ true and not false }}.
{% raw %}Literal: \${{ values.component_id }} {% if %}{% endraw %}
`,
};

describe("Backstage's templates: load and dry-run", () => {
  let repo: FixtureRepo;
  let store: CatalogStore;
  let scaffolder: Scaffolder;
  let templatesDir: string;

  before(async () => {
    repo = makeFixtureRepo();
    store = await CatalogStore.open(`file:${path.join(repo.root, '.portal.db')}`);
    // The org create-app ships with (user guest, group guests): the example template's owner.
    const catalog = new CatalogService(store, [
      path.join(repo.root, 'services'),
      path.join(EXAMPLES, 'org.yaml'),
    ]);
    await catalog.ingest();
    templatesDir = mkdtempSync(path.join(repo.root, 'backstage-templates-'));
    // The npm package's example, at test time; its directory name ("template") is not its metadata.name.
    cpSync(path.join(EXAMPLES, 'template'), path.join(templatesDir, 'template'), { recursive: true });
    write(path.join(templatesDir, 'springboot-grpc'), {
      'template.yaml': SOFTWARE_TEMPLATE,
      ...SOFTWARE_SKELETON,
    });
    scaffolder = new Scaffolder({ repoRoot: repo.root, catalog, templatesDir });
  });

  after(async () => {
    await store?.close();
    repo?.cleanup();
  });

  it("create-app's example template loads by its metadata.name, naming every action that is not here", () => {
    const file = path.join(EXAMPLES, 'template', 'template.yaml');
    const t = scaffolder.template('example-nodejs-template');
    assert.equal(t.name, 'example-nodejs-template');
    assert.equal(t.dirName, 'template');
    assert.deepEqual(
      t.steps.map((s) => s.action),
      ['fetch:template', 'publish:github', 'catalog:register', 'notification:send'],
    );
    assert.deepEqual(t.missingActions, [
      {
        action: 'notification:send',
        stepId: 'notify',
        field: 'spec.steps[3].action',
        line: lineOf(file, /action: notification:send/),
      },
    ]);
    const listed = scaffolder.listTemplates();
    assert.deepEqual(listed.errors, []);
    assert.deepEqual(listed.templates.map((x) => x.name).sort(), [
      'example-nodejs-template',
      'springboot-grpc-template',
    ]);
  });

  it("create-app's example template dry-runs: its files rendered, its descriptor's catalogue diff, the missing steps skipped", async () => {
    const r = await scaffolder.dryRun(
      'example-nodejs-template',
      { name: 'my-service', repoUrl: 'github.com?owner=bank&repo=my-service' },
      { actor },
    );
    const content = (p: string) => r.preview?.find((f) => f.path === p)?.content;
    assert.deepEqual(r.files.sort(), ['catalog-info.yaml', 'index.js', 'package.json']);
    assert.match(content('catalog-info.yaml') ?? '', /^ {2}name: "my-service"$/m);
    assert.equal(content('index.js'), "console.log('Hello from my-service!');\n");
    assert.equal(JSON.parse(content('package.json') ?? '{}').name, 'my-service');
    assert.deepEqual(
      r.steps.map((s) => `${s.id}:${s.status}`),
      ['fetch-base:completed', 'publish:completed', 'register:completed', 'notify:skipped'],
    );
    // publish:github sends nothing in a dry-run and shows what it would send (no integration configured
    // here: it says a real run would be refused).
    assert.deepEqual(
      r.requests?.map((q) => `${q.method} ${q.url}`),
      [
        'GET https://api.github.com/users/bank',
        'POST https://api.github.com/orgs/bank/repos',
        'git push https://github.com/bank/my-service.git',
      ],
    );
    assert.ok(
      r.log.some((l) => l.includes('[publish] warning: github.com is not a configured github integration')),
    );
    assert.ok(r.log.some((l) => l.includes('[notify] action "notification:send" is not available here')));
    assert.ok(
      r.log.includes(
        '[register] would register the URL location https://github.com/bank/my-service/blob/main/catalog-info.yaml (component:default/my-service)',
      ),
      r.log.join('\n'),
    );
    assert.equal(r.entityRef, 'component:default/my-service');
    assert.deepEqual(
      r.catalogDiff?.added.map((a) => [a.ref, a.relations.map((x) => `${x.type} ${x.targetRef}`)]),
      [['component:default/my-service', ['ownedBy user:default/guest']]],
    );
    // The output link to the published repository has no URL in a dry-run; the catalogue link has its ref.
    assert.deepEqual(r.output.links, [
      { title: 'Repository', url: 'https://github.com/bank/my-service.git' },
      { title: 'Open in catalog', icon: 'catalog', entityRef: 'component:default/my-service' },
    ]);
  });

  it('a real run of a template with missing actions is refused before anything happens, naming them all', async () => {
    await assert.rejects(
      () =>
        scaffolder.run(
          'example-nodejs-template',
          { name: 'my-service', repoUrl: 'github.com?owner=bank&repo=x' },
          { actor },
        ),
      (err: Error) => {
        assert.ok(err instanceof TemplateError, err.message);
        assert.match(
          err.message,
          /template\/template\.yaml:\d+: spec\.steps\[3\]\.action: unknown action "notification:send" in step "notify"/,
        );
        assert.doesNotMatch(err.message, /publish:github/);
        return true;
      },
    );
  });

  it('a backstage/software-templates-shaped template dry-runs: a + "/" + b, parseRepoUrl, each, if, copyWithoutRender, {%- if %}', async () => {
    const r = await scaffolder.dryRun(
      'springboot-grpc-template',
      {
        component_id: 'ledger-grpc',
        description: 'Ledger over gRPC',
        owner: 'ledger',
        environments: ['dev', 'prod'],
        repoUrl: 'github.com?owner=bank&repo=ledger-grpc',
      },
      { actor },
    );
    const content = (p: string) => r.preview?.find((f) => f.path === p)?.content;
    assert.equal(
      content('catalog-info.yaml'),
      `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: "ledger-grpc"
  description: "Ledger over gRPC"
  annotations:
    github.com/project-slug: bank/ledger-grpc
    backstage.io/techdocs-ref: dir:.
spec:
  type: service
  lifecycle: experimental
  owner: "group:default/ledger"
`,
    );
    assert.match(
      content('.github/workflows/build.yml') ?? '',
      /echo \$\{\{ github\.sha \}\} \{% not a tag %\}/,
    );
    assert.equal(
      content('README.md'),
      `# Ledger-grpc

Served on port 8080; metrics on 8081, 8k, 80, 8, -4040.
Slug: bank/ledger-grpc on GITHUB.COM.
- 1/2 dev,
- 2/2 prod (production)
Production on an unprivileged port.
owner=group:default/ledger
tier=2
Has description: true; tags: a+b; first: dev; last: prod; ledger; 2 words; n/a; {"x":[1,2]}; true; true.
Literal: \${{ values.component_id }} {% if %}
`,
    );
    assert.deepEqual(
      r.steps.map((s) => `${s.id}:${s.status}`),
      [
        'template:completed',
        'per-environment:completed',
        'only-with-description:completed',
        'publish:completed',
        'register:completed',
      ],
    );
    assert.ok(r.log.includes('[per-environment] 0: DEV gets 1'), r.log.join('\n'));
    assert.ok(r.log.includes('[per-environment] 1: PROD gets 3 replicas'));
    assert.ok(r.log.includes('[only-with-description] described as "Ledger over gRPC"'));
    assert.deepEqual(r.output.text, [{ title: 'Slug', content: 'bank/ledger-grpc' }]);
    assert.equal(r.entityRef, 'component:default/ledger-grpc');

    // Without a description: the `if` step is skipped and the {%- if %} block leaves the YAML whole.
    const bare = await scaffolder.dryRun(
      'springboot-grpc-template',
      { component_id: 'ledger-grpc', owner: 'ledger', repoUrl: 'github.com?owner=bank&repo=ledger-grpc' },
      { actor },
    );
    assert.ok(
      bare.preview
        ?.find((f) => f.path === 'catalog-info.yaml')
        ?.content?.includes('  name: "ledger-grpc"\n  annotations:\n'),
    );
    assert.equal(bare.steps.find((s) => s.id === 'only-with-description')?.status, 'skipped');
  });
});
