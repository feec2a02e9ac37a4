// biome-ignore-all lint/suspicious/noTemplateCurlyInString: template syntax is the hostile input under test
/**
 * Bad input, each with a clear error naming the field, and nothing written in any of them: the services
 * directory, the git branches and HEAD, and the catalogue are compared before and after every case.
 * Also: a failing step rolls back what earlier steps wrote.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { Scaffolder, StepFailedError } from './engine.ts';
import { ExpressionError } from './expr/expression.ts';
import { ParameterConflictError, ParameterError } from './parameters.ts';
import { PathError } from './paths.ts';
import { TemplateError } from './template.ts';
import { type FixtureRepo, makeFixtureRepo } from './testing.ts';
import type { Action } from './types.ts';

const actor = { id: 'user:default/jane.doe' };
const good = { name: 'new-thing', description: 'A new thing', owner: 'ledger', dependsOn: ['ledger'] };
/** For the minimal test templates, which take only name and owner. */
const simple = { name: 'new-thing', owner: 'ledger' };

/** A throwaway template next to the real ones. */
function writeTemplate(
  root: string,
  name: string,
  yaml: string,
  skeleton: Record<string, string> = { 'README.md': 'hi\n' },
): string {
  const dir = path.join(root, 'templates', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'skeleton'), { recursive: true });
  writeFileSync(path.join(dir, 'template.yaml'), yaml);
  for (const [rel, text] of Object.entries(skeleton)) {
    mkdirSync(path.dirname(path.join(dir, 'skeleton', rel)), { recursive: true });
    writeFileSync(path.join(dir, 'skeleton', rel), text);
  }
  return dir;
}

const minimal = (name: string, steps: string, params = '') => `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: ${name}
spec:
  type: service
  parameters:
    properties:
      name:
        type: string
        ui:field: EntityNamePicker
      owner:
        type: string
        ui:field: OwnerPicker${params}
  steps:
${steps}`;

describe('bad input: a clear error naming the field, and nothing written', () => {
  let repo: FixtureRepo;
  let store: CatalogStore;
  let catalog: CatalogService;
  let scaffolder: Scaffolder;
  let failNext = true;

  const snapshot = () => ({
    services: readdirSync(path.join(repo.root, 'services')).sort(),
    refs: [...catalog.loaded.refs].sort(),
    branches: execFileSync('git', ['branch', '--list'], { cwd: repo.root, encoding: 'utf8' }),
    head: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo.root, encoding: 'utf8' }),
    status: execFileSync('git', ['status', '--porcelain'], { cwd: repo.root, encoding: 'utf8' }),
  });

  /** Run, expect an error whose message matches `re` (and is of class `kind`), and check nothing changed. */
  async function refused(
    template: string,
    params: unknown,
    kind: new (...a: never[]) => Error,
    re: RegExp,
    dryRun = false,
  ) {
    const before = snapshot();
    await assert.rejects(
      () => scaffolder.run(template, params, { actor, dryRun }),
      (err: Error) => {
        const cause: object | undefined = err instanceof StepFailedError ? err.cause : undefined;
        assert.ok(err instanceof kind || cause instanceof kind, `${err.constructor.name}: ${err.message}`);
        assert.match(err.message, re);
        return true;
      },
    );
    assert.deepEqual(snapshot(), before, 'nothing written');
  }

  before(async () => {
    repo = makeFixtureRepo({ git: true });
    store = await CatalogStore.open(`file:${path.join(repo.root, '.portal.db')}`);
    execFileSync('sh', ['-c', 'echo ".portal.db*" >> .git/info/exclude'], { cwd: repo.root });
    catalog = new CatalogService(store, [path.join(repo.root, 'services')]);
    await catalog.ingest();
    const flaky: Action = {
      id: 'test:fail',
      description: 'fails when told to (tests only)',
      async handler(ctx) {
        if (ctx.input.fail === true && failNext) throw new Error('the deliberate failure');
      },
    };
    scaffolder = new Scaffolder({ repoRoot: repo.root, catalog, actions: [flaky] });
  });

  after(async () => {
    await store?.close();
    repo?.cleanup();
  });

  it('a name that is not a DNS-1123 label, or too long: the message names what is wrong and a name that would do', async () => {
    // Not a word about length when the length is fine.
    await refused(
      'typescript-service',
      { ...good, name: 'Bad_Name' },
      ParameterError,
      /^name: "Bad_Name" is not a valid name: it has capital letters \(B, N\) and '_'; use lowercase letters, digits and '-' \(a DNS-1123 label, as Kubernetes names need\), e\.g\. "bad-name"$/,
    );
    await refused(
      'typescript-service',
      { ...good, name: 'ledger sync' },
      ParameterError,
      /^name: "ledger sync" is not a valid name: it has spaces; .*e\.g\. "ledger-sync"$/,
    );
    await refused(
      'typescript-service',
      { ...good, name: '-starts-with-dash' },
      ParameterError,
      /^name: "-starts-with-dash" is not a valid name: it has a '-' at the start or end; .*e\.g\. "starts-with-dash"$/,
    );
    await refused(
      'typescript-service',
      { ...good, name: 'a'.repeat(64) },
      ParameterError,
      /^name: "a{64}" is too long: 64 characters, at most 55 /,
    );
    await refused(
      'typescript-service',
      { ...good, name: 'a'.repeat(56) },
      ParameterError,
      /^name: .* is too long: 56 characters, at most 55 /,
    );
    await refused('typescript-service', { ...good, name: undefined }, ParameterError, /name: is required/);
  });

  it('a name that already exists, in the catalogue or as a folder', async () => {
    await refused(
      'typescript-service',
      { ...good, name: 'ledger' },
      ParameterConflictError,
      /^name: "ledger" already exists in the catalogue \(component:default\/ledger, api:default\/ledger-rpc\)/,
    );
    mkdirSync(path.join(repo.root, 'services', 'half-made'));
    writeFileSync(path.join(repo.root, 'services', 'half-made', 'notes.txt'), 'x');
    execFileSync('git', ['add', '.'], { cwd: repo.root });
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'half'], {
      cwd: repo.root,
    });
    await refused(
      'typescript-service',
      { ...good, name: 'half-made' },
      ParameterConflictError,
      /^name: services\/half-made already exists/,
    );
  });

  it('an unknown owner or dependency, with the closest matches', async () => {
    await refused(
      'typescript-service',
      { ...good, owner: 'ledgr' },
      ParameterError,
      /^owner: "ledgr" is not a group in the catalogue; did you mean group:default\/ledger\?/,
    );
    await refused(
      'typescript-service',
      { ...good, dependsOn: ['ledger', 'acounts'] },
      ParameterError,
      /^dependsOn\[1\]: "acounts" is not a component .*did you mean component:default\/accounts/,
    );
    await refused(
      'typescript-service',
      { ...good, owner: 'component:ledger' },
      ParameterError,
      /^owner: "component:ledger" is a component; expected a group/,
    );
    await refused(
      'typescript-service',
      { ...good, datastores: ['cassandra-ledgr'] },
      ParameterError,
      /^datastores\[0\]: .*did you mean resource:default\/cassandra-ledger/,
    );
    await refused(
      'typescript-service',
      { ...good, colour: 'red' },
      ParameterError,
      /^colour: is not a parameter of template typescript-service/,
    );
  });

  it('../ or absolute paths in names and template names', async () => {
    await refused(
      'typescript-service',
      { ...good, name: '../evil' },
      ParameterError,
      /^name: "\.\.\/evil" is not a valid name: it has '\.', '\/'/,
    );
    await refused(
      'typescript-service',
      { ...good, name: '/etc/evil' },
      ParameterError,
      /^name: "\/etc\/evil" is not a valid name: it has '\/'/,
    );
    await refused(
      '../typescript-service',
      good,
      PathError,
      /^template: "\.\.\/typescript-service" is not a template name/,
    );
    await refused('/etc', good, PathError, /^template: "\/etc" is not a template name/);
    await refused(
      'typescript-servic',
      good,
      Error,
      /^template: no template named "typescript-servic"; known: event-consumer, typescript-service/,
    );
  });

  it('../ or absolute paths inside a template', async () => {
    const step = (input: string) => `    - id: fetch\n      action: fetch:template\n      input:\n${input}`;
    writeTemplate(repo.root, 'escape-url', minimal('escape-url', step('        url: ../../../etc\n')));
    await refused(
      'escape-url',
      good,
      TemplateError,
      /escape-url\/template\.yaml:\d+: spec\.steps\[0\]\.input\.url: "\.\.\/\.\.\/\.\.\/etc" leaves its directory/,
    );
    writeTemplate(repo.root, 'absolute-url', minimal('absolute-url', step('        url: /etc\n')));
    await refused(
      'absolute-url',
      good,
      TemplateError,
      /spec\.steps\[0\]\.input\.url: "\/etc" is an absolute path/,
    );
    writeTemplate(
      repo.root,
      'escape-target',
      minimal('escape-target', step('        url: ./skeleton\n        targetPath: ../../outside\n')),
    );
    await refused(
      'escape-target',
      good,
      TemplateError,
      /spec\.steps\[0\]\.input\.targetPath: "\.\.\/\.\.\/outside" leaves its directory/,
    );
    // Rendered at run time (Nunjucks' `+` joins the strings): checked again before anything is written.
    writeTemplate(
      repo.root,
      'rendered-target',
      minimal('rendered-target', step("        url: ./skeleton\n        targetPath: ${{ '../' + 'x' }}\n")),
    );
    await refused(
      'rendered-target',
      simple,
      PathError,
      /spec\.steps\[0\]\.input\.targetPath: "\.\.\/x" leaves its directory/,
    );
    writeTemplate(
      repo.root,
      'rendered-target2',
      minimal('rendered-target2', step("        url: ./skeleton\n        targetPath: ${{ '../outside' }}\n")),
    );
    await refused(
      'rendered-target2',
      simple,
      PathError,
      /spec\.steps\[0\]\.input\.targetPath: "\.\.\/outside" leaves its directory/,
    );
  });

  it('a skeleton with a symlink out of the tree: absolute, relative, chained or dangling', async () => {
    const yaml = (name: string) =>
      minimal(
        name,
        `    - id: fetch\n      action: fetch:template\n      input:\n        url: ./skeleton\n    - id: publish\n      action: publish:monorepo\n      input:\n        name: \${{ parameters.name }}\n`,
      );
    const cases: [string, (skeleton: string) => void, RegExp][] = [
      [
        'link-absolute',
        (s) => symlinkSync('/etc/passwd', path.join(s, 'passwd')),
        /skeleton\/passwd: symbolic link to an absolute path/,
      ],
      [
        'link-relative',
        (s) => symlinkSync('../../../../../etc/passwd', path.join(s, 'passwd')),
        /skeleton\/passwd: symbolic link points outside the template/,
      ],
      [
        'link-chain',
        (s) => {
          // l1 → l2 (inside) → template dir's parent (outside): each hop looks local, the chain is not.
          symlinkSync('../..', path.join(s, 'l2'));
          symlinkSync('l2', path.join(s, 'l1'));
        },
        /skeleton\/l2: symbolic link points outside the template|skeleton\/l1: symbolic link chain leads outside/,
      ],
      [
        'link-dangling',
        (s) => symlinkSync('missing-file', path.join(s, 'dangling')),
        /skeleton\/dangling: dangling symbolic link/,
      ],
    ];
    for (const [name, make, re] of cases) {
      const dir = writeTemplate(repo.root, name, yaml(name));
      make(path.join(dir, 'skeleton'));
      await refused(name, simple, PathError, re);
      await refused(name, simple, PathError, re, true);
    }
  });

  it('expression injection: ${{ }} and {{ }} in values, prototype keys, hostile template expressions', async () => {
    await refused(
      'typescript-service',
      { ...good, description: 'x ${{ parameters.name }}' },
      ParameterError,
      /^description: contains template syntax "\$\{\{"; parameter values are data/,
    );
    await refused(
      'typescript-service',
      { ...good, description: "{{ constructor.constructor('return process')().exit() }}" },
      ParameterError,
      /^description: contains template syntax "\{\{"/,
    );
    await refused(
      'typescript-service',
      { ...good, description: '{% for x in y %}' },
      ParameterError,
      /^description: contains template syntax "\{%"/,
    );
    await refused(
      'typescript-service',
      JSON.parse('{"name":"x-y","owner":"ledger","description":"d","__proto__":{"polluted":true}}'),
      ParameterError,
      /^__proto__: "__proto__" is not allowed as a key/,
    );
    await refused(
      'typescript-service',
      { ...good, constructor: { prototype: { polluted: true } } },
      ParameterError,
      /^constructor: "constructor" is not allowed as a key/,
    );
    await refused(
      'typescript-service',
      { ...good, dependsOn: [JSON.parse('{"__proto__":{"x":1}}')] },
      ParameterError,
      /^dependsOn\[0\]\.__proto__: "__proto__" is not allowed/,
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    writeTemplate(
      repo.root,
      'hostile-expr',
      minimal(
        'hostile-expr',
        "    - id: log\n      action: debug:log\n      input:\n        message: ${{ parameters.name.constructor.constructor('return process')() }}\n",
      ),
    );
    await refused(
      'hostile-expr',
      good,
      TemplateError,
      /spec\.steps\[0\]\.input\.message: column 21: property "constructor" is not allowed in expressions/,
    );
    writeTemplate(
      repo.root,
      'hostile-expr2',
      minimal(
        'hostile-expr2',
        '    - id: log\n      action: debug:log\n      input:\n        message: ${{ parameters.name.constructor }}\n',
      ),
    );
    await refused(
      'hostile-expr2',
      good,
      TemplateError,
      /spec\.steps\[0\]\.input\.message: column \d+: property "constructor" is not allowed/,
    );
    writeTemplate(
      repo.root,
      'hostile-filter',
      minimal(
        'hostile-filter',
        '    - id: log\n      action: debug:log\n      input:\n        message: ${{ parameters.name | eval }}\n',
      ),
    );
    await refused(
      'hostile-filter',
      good,
      TemplateError,
      /spec\.steps\[0\]\.input\.message: column \d+: unknown filter "eval"/,
    );
    writeTemplate(
      repo.root,
      'hostile-call',
      minimal(
        'hostile-call',
        "    - id: log\n      action: debug:log\n      input:\n        message: ${{ parameters.name.at(0) ~ (parameters | dump)('x') }}\n",
      ),
    );
    await refused(
      'hostile-call',
      good,
      TemplateError,
      /spec\.steps\[0\]\.input\.message: column 23: calls are not allowed here/,
    );
    writeTemplate(
      repo.root,
      'hostile-skeleton',
      minimal(
        'hostile-skeleton',
        '    - id: fetch\n      action: fetch:template\n      input:\n        url: ./skeleton\n',
      ),
      { 'x.txt': "${{ values.a.__proto__ }}\n{% include '/etc/passwd' %}\n" },
    );
    await refused(
      'hostile-skeleton',
      simple,
      ExpressionError,
      /skeleton\/x\.txt: line 1, column 14: property "__proto__" is not allowed/,
    );
    // Even past parameter validation, values are data: an expression in a value is written out literally.
    const template = scaffolder.template('typescript-service');
    const values = await scaffolder.parameters(template, { ...good, name: 'literal-check' });
    values.description = '${{ parameters.owner }} {{ 7*7 }}';
    const dry = await scaffolder.execute(template, values, { actor, dryRun: true });
    const readme = dry.preview?.find((f) => f.path === 'README.md')?.content ?? '';
    assert.ok(readme.includes('${{ parameters.owner }} {{ 7*7 }}'), readme.slice(0, 200));
    assert.ok(
      dry.preview
        ?.find((f) => f.path === 'catalog-info.yaml')
        ?.content?.includes('description: "${{ parameters.owner }} {{ 7*7 }}"'),
    );
  });

  it('a malformed template.yaml: each problem names the field and the line', async () => {
    const cases: [string, string, RegExp][] = [
      ['bad-yaml', 'apiVersion: [unclosed\n', /bad-yaml\/template\.yaml:\d+: not valid YAML/],
      [
        'no-steps',
        minimal('no-steps', '').replace(/ {2}steps:\n$/, ''),
        /no-steps\/template\.yaml:\d+: spec\.steps: must be a non-empty list/,
      ],
      [
        'bad-action',
        minimal('bad-action', '    - id: x\n      action: fetch:tempalte\n'),
        /bad-action\/template\.yaml:17: spec\.steps\[0\]\.action: unknown action "fetch:tempalte"/,
      ],
      [
        'bad-version',
        minimal('bad-version', '    - action: debug:log\n').replace('v1beta3', 'v1beta2'),
        /bad-version\/template\.yaml:1: apiVersion: must be "scaffolder\.backstage\.io\/v1beta3"/,
      ],
      [
        'dup-step',
        minimal('dup-step', '    - id: a\n      action: debug:log\n    - id: a\n      action: debug:log\n'),
        /spec\.steps\[1\]\.id: "a" is used by two steps/,
      ],
      [
        'bad-required',
        minimal('bad-required', '    - action: debug:log\n', '\n    required: [nme]'),
        /spec\.parameters\.required\[0\]: "nme" is required but not defined/,
      ],
      [
        'bad-schema',
        minimal('bad-schema', '    - action: debug:log\n', '\n      tier:\n        type: integr'),
        /spec\.parameters: is not a valid JSON Schema/,
      ],
      [
        'proto-key',
        minimal('proto-key', '    - action: debug:log\n      input:\n        __proto__: 1\n'),
        /spec\.steps\[0\]\.input\.__proto__: "__proto__" is not allowed as a key/,
      ],
    ];
    for (const [dir, yaml, re] of cases) {
      writeTemplate(repo.root, dir, yaml);
      await refused(dir, good, TemplateError, re);
    }
    // The gallery still lists the good templates, and the broken ones as errors; a template whose action
    // is not here is listed with it (it dry-runs, a real run is refused: see scaffolder-backstage.test.ts).
    const { templates, errors } = scaffolder.listTemplates();
    assert.ok(templates.some((t) => t.name === 'typescript-service'));
    assert.ok(errors.some((e) => /bad-yaml/.test(e.message)));
    assert.deepEqual(templates.find((t) => t.name === 'bad-action')?.missingActions, [
      {
        action: 'fetch:tempalte',
        stepId: 'x',
        field: 'spec.steps[0].action',
        line: 17,
        didYouMean: 'fetch:template',
      },
    ]);
  });

  it('a failing step rolls back what earlier steps wrote: files, the git branch and the catalogue entry', async () => {
    writeTemplate(
      repo.root,
      'fails-late',
      minimal(
        'fails-late',
        [
          '    - id: fetch',
          '      action: fetch:template',
          '      input:',
          '        url: ./skeleton',
          '        values:',
          '          name: ${{ parameters.name }}',
          '          owner: ${{ parameters.owner }}',
          '    - id: publish',
          '      action: publish:monorepo',
          '      input:',
          '        name: ${{ parameters.name }}',
          '    - id: register',
          '      action: catalog:register',
          '      input:',
          '        catalogInfoPath: ${{ steps.publish.output.dir }}/catalog-info.yaml',
          '    - id: boom',
          '      action: test:fail',
          '      input:',
          '        fail: true',
          '',
        ].join('\n'),
      ),
      {
        'catalog-info.yaml':
          'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name }}\nspec:\n  type: service\n  lifecycle: experimental\n  owner: ${{ values.owner }}\n',
      },
    );
    const events: string[] = [];
    const before = snapshot();
    await assert.rejects(
      () =>
        scaffolder.run(
          'fails-late',
          { name: 'rolls-back', owner: 'ledger' },
          { actor, onEvent: (e) => e.type === 'step' && events.push(`${e.stepId}:${e.status}`) },
        ),
      /step "boom" failed: the deliberate failure/,
    );
    assert.deepEqual(snapshot(), before, 'directory, branch and catalogue entry all undone');
    assert.deepEqual(events, [
      'fetch:processing',
      'fetch:completed',
      'publish:processing',
      'publish:completed',
      'register:processing',
      'register:completed',
      'boom:processing',
      'boom:failed',
      'fetch:rolled-back',
      'publish:rolled-back',
      'register:rolled-back',
    ]);
    // The same request succeeds once the failure is gone: the rollback left nothing in the way.
    failNext = false;
    const ok = await scaffolder.run('fails-late', { name: 'rolls-back', owner: 'ledger' }, { actor });
    assert.equal(ok.entityRef, 'component:default/rolls-back');
    assert.ok(catalog.loaded.byRef.has('component:default/rolls-back'));
  });
});
