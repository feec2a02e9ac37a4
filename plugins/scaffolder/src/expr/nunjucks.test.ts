// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are the template language under test
/**
 * The Nunjucks expression grammar Backstage templates use, construct by construct, with the values
 * Nunjucks 3.2 gives (its operators are JavaScript's on plain values).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpressionError } from './expression.ts';
import { compileTemplate, renderString, renderTemplate } from './render.ts';

const scope = {
  parameters: {
    name: 'ledger-sync',
    replicas: 3,
    owner: 'group:default/ledger',
    repoUrl: 'github.com?owner=bank&repo=ledger-sync',
    tags: ['a', 'b', 'c'],
    empty: '',
    zero: 0,
    nothing: null,
    flag: true,
    envs: { dev: { replicas: 1 }, prod: { replicas: 3 } },
    people: [
      { name: 'Ann', team: 'ledger', active: true },
      { name: 'bob', team: 'cards', active: false },
    ],
  },
  values: { destination: { owner: 'bank', repo: 'ledger-sync', host: 'github.com' } },
};
const v = (src: string, s: Record<string, unknown> = scope) => renderString(`\${{ ${src} }}`, s, 'f');
const t = (text: string, s: Record<string, unknown> = scope) =>
  renderTemplate(compileTemplate(text, 'skeleton/f'), s);

describe('Nunjucks expressions', () => {
  it('arithmetic: + - * / % // ** with precedence and unary minus', () => {
    assert.equal(v('1 + 2 * 3'), 7);
    assert.equal(v('(1 + 2) * 3'), 9);
    assert.equal(v('10 - 2 - 3'), 5);
    assert.equal(v('7 / 2'), 3.5);
    assert.equal(v('7 // 2'), 3);
    assert.equal(v('-7 // 2'), -4);
    assert.equal(v('7 % 3'), 1);
    assert.equal(v('2 ** 10'), 1024);
    assert.equal(v('-parameters.replicas + 1'), -2);
    assert.equal(v('parameters.replicas * 2 + 1'), 7);
    assert.equal(v('1.5 + 1'), 2.5);
    assert.equal(v('1 / 0'), Number.POSITIVE_INFINITY);
  });

  it('+ joins strings as JavaScript does; ~ always concatenates', () => {
    assert.equal(
      v('values.destination.owner + "/" + values.destination.repo'),
      'bank/ledger-sync',
      'the line of every backstage/software-templates catalog-info.yaml',
    );
    assert.equal(v('"n" + 1'), 'n1');
    assert.equal(v('1 ~ 2'), '12');
    assert.equal(v('parameters.name ~ "-" ~ parameters.replicas'), 'ledger-sync-3');
    assert.equal(v('"x" + parameters.missing'), 'xundefined', 'Nunjucks compiles + to JavaScript');
    assert.equal(v('parameters.tags ~ ""'), 'a,b,c');
    assert.equal(v('"3" * "4"'), 12);
  });

  it('comparisons: == (loose), ===, !=, !==, <, >, <=, >=', () => {
    assert.equal(v('parameters.replicas == 3'), true);
    assert.equal(v('parameters.replicas == "3"'), true);
    assert.equal(v('parameters.replicas === "3"'), false);
    assert.equal(v('parameters.replicas !== 3'), false);
    assert.equal(v('parameters.replicas != 4'), true);
    assert.equal(v('parameters.nothing == parameters.missing'), true);
    assert.equal(v('parameters.replicas > 2 and parameters.replicas <= 3'), true);
    assert.equal(v('"abc" < "abd"'), true);
    assert.equal(v('parameters.tags == ["a", "b", "c"]'), true);
  });

  it('and / or / not return operands and use JavaScript truthiness', () => {
    assert.equal(v('parameters.empty or "fallback"'), 'fallback');
    assert.equal(v('parameters.name and parameters.replicas'), 3);
    assert.equal(v('parameters.zero and "never"'), 0);
    assert.equal(v('not parameters.empty'), true);
    assert.equal(v('not not parameters.flag'), true);
    assert.equal(v('not parameters.replicas == 3'), false, 'not binds looser than ==');
    assert.equal(v('parameters.flag and not parameters.zero or false'), true);
  });

  it('in and not in: lists, strings, mappings (own keys only)', () => {
    assert.equal(v('"b" in parameters.tags'), true);
    assert.equal(v('"z" not in parameters.tags'), true);
    assert.equal(v('"sync" in parameters.name'), true);
    assert.equal(v('"prod" in parameters.envs'), true);
    assert.equal(v('"constructor" in parameters.envs'), false);
    assert.equal(v('"toString" in parameters.envs'), false);
    assert.throws(() => v('"a" in parameters.replicas'), /"in" needs a list, a string or a mapping/);
  });

  it('inline if: x if c else y, and x if c (undefined otherwise)', () => {
    assert.equal(v('"many" if parameters.replicas > 1 else "one"'), 'many');
    assert.equal(v('parameters.empty if parameters.empty'), undefined);
    assert.equal(v("parameters.name if parameters.name else '.'"), 'ledger-sync');
    assert.equal(v('"a" if false else "b" if false else "c"'), 'c');
    assert.equal(renderString('t: ${{ parameters.empty if parameters.empty }}!', scope, 'f'), 't: !');
  });

  it('literals: strings with escapes, numbers, booleans, none/null, lists, mappings', () => {
    assert.equal(v(`'it\\'s' ~ "\\"q\\"" ~ "\\n"`), `it's"q"\n`);
    assert.equal(v('42'), 42);
    assert.equal(v('0.25'), 0.25);
    assert.equal(v('true'), true);
    assert.equal(v('False'), false);
    assert.equal(v('none'), null);
    assert.equal(v('null'), null);
    assert.deepEqual(v('[1, "two", [3]]'), [1, 'two', [3]]);
    assert.deepEqual(v('[1, 2,]'), [1, 2]);
    assert.deepEqual(v('(1, 2)'), [1, 2]);
    assert.deepEqual(v('{ name: parameters.name, "replicas": parameters.replicas, nested: { a: [1] } }'), {
      name: 'ledger-sync',
      replicas: 3,
      nested: { a: [1] },
    });
    assert.deepEqual(v('{}'), {});
  });

  it('member and index access, negative index, slices, length', () => {
    assert.equal(v('parameters["name"]'), 'ledger-sync');
    assert.equal(v('parameters.tags[1]'), 'b');
    assert.equal(v('parameters.tags.0'), 'a');
    assert.equal(v('parameters.tags[-1]'), 'c');
    assert.equal(v('parameters.envs["prod"].replicas'), 3);
    assert.equal(v('parameters.people[0].name'), 'Ann');
    assert.deepEqual(v('parameters.tags[1:]'), ['b', 'c']);
    assert.deepEqual(v('parameters.tags[::-1]'), ['c', 'b', 'a']);
    assert.equal(v('parameters.name[:6]'), 'ledger');
    assert.equal(v('parameters.tags.length'), 3);
    assert.equal(v('parameters.name.length'), 11);
    assert.equal(v('parameters.missing.deeper'), undefined);
    assert.equal(v('{ a: 1 }["a"]'), 1);
  });

  it('filters with arguments, chained, binding tighter than operators', () => {
    assert.equal(v('parameters.name | upper'), 'LEDGER-SYNC');
    assert.equal(v('parameters.name | replace("-", "_") | upper'), 'LEDGER_SYNC');
    assert.equal(v('"a-b-c" | replace("-", "+", 1)'), 'a+b-c');
    assert.equal(v('parameters.tags | join(", ")'), 'a, b, c');
    assert.equal(v('parameters.tags | join'), 'abc', "Nunjucks' join defaults to no separator");
    assert.equal(v('parameters.people | join(",", "name")'), 'Ann,bob');
    assert.equal(v('parameters.tags | length + 1'), 4);
    assert.equal(v('-3 | abs'), 3, 'unary minus before the filter, as Nunjucks parses it');
    assert.equal(v('"  x " | trim'), 'x');
    assert.equal(v('parameters.tags | first'), 'a');
    assert.equal(v('parameters.tags | last'), 'c');
    assert.equal(v('"hELLO wORLD" | capitalize'), 'Hello world');
    assert.equal(v('"hello big world" | title'), 'Hello Big World');
    assert.equal(v('"<b>" | safe'), '<b>');
    assert.equal(v('"<b>" | escape'), '&lt;b&gt;');
    assert.equal(v('12 | string'), '12');
    assert.equal(v('"42px" | int'), 42);
    assert.equal(v('"x" | int(7)'), 7);
    assert.equal(v('"2.5" | float'), 2.5);
    assert.equal(v('parameters.missing | default("d")'), 'd');
    assert.equal(v('parameters.nothing | default("d")'), null, 'only undefined takes the default');
    assert.equal(v('parameters.nothing | d("d", true)'), 'd');
    assert.equal(v('{ a: [1, 2] } | dump'), '{"a":[1,2]}');
    assert.equal(v('{ a: 1 } | dump(2)'), '{\n  "a": 1\n}');
    assert.equal(v('{ a: 1 } | json'), '{"a":1}');
    assert.deepEqual(v('parameters.people | selectattr("active")'), [scope.parameters.people[0]]);
    assert.deepEqual(
      v('parameters.people | rejectattr("team", "equalto", "ledger") | join(",", "name")'),
      'bob',
    );
    assert.deepEqual(v('[3, 1, 2] | sort'), [1, 2, 3]);
    assert.deepEqual(v('[3, 1, 2] | sort(true)'), [3, 2, 1]);
    assert.deepEqual(v('parameters.people | sort(false, false, "name") | join(",", "name")'), 'Ann,bob');
    assert.equal(v('[1, 2, 3] | sum'), 6);
    assert.deepEqual(v('"abc" | list'), ['a', 'b', 'c']);
    assert.equal(v('"abc" | reverse'), 'cba');
    assert.equal(v('"a\nb" | indent(2)'), 'a\n  b');
    assert.equal(v('"one two three" | truncate(8)'), 'one two...');
    assert.equal(v('"a b&c" | urlencode'), 'a%20b%26c');
    assert.equal(v('3.14159 | round(2)'), 3.14);
  });

  it("Backstage's filters: parseRepoUrl, projectSlug, parseEntityRef, pick", () => {
    assert.deepEqual(v('parameters.repoUrl | parseRepoUrl'), {
      host: 'github.com',
      owner: 'bank',
      repo: 'ledger-sync',
    });
    assert.equal(v('(parameters.repoUrl | parseRepoUrl).owner'), 'bank');
    assert.equal(v('parameters.repoUrl | projectSlug'), 'bank/ledger-sync');
    assert.deepEqual(v('parameters.owner | parseEntityRef'), {
      kind: 'group',
      namespace: 'default',
      name: 'ledger',
    });
    assert.equal(v('"ledger" | parseEntityRef({ defaultKind: "group" }) | pick("kind")'), 'group');
    assert.equal(v('parameters.envs | pick("prod.replicas")'), 3);
  });

  it('tests: is defined / none / number / divisibleby …, and is not', () => {
    assert.equal(v('parameters.name is defined'), true);
    assert.equal(v('parameters.missing is not defined'), true);
    assert.equal(v('parameters.nothing is none'), true);
    assert.equal(v('parameters.replicas is number'), true);
    assert.equal(v('parameters.replicas is odd'), true);
    assert.equal(v('9 is divisibleby(3)'), true);
    assert.equal(v('parameters.name is string and parameters.name is lower'), true);
  });

  it('range() and the allow-listed string and list methods', () => {
    assert.deepEqual(v('range(3)'), [0, 1, 2]);
    assert.deepEqual(v('range(1, 10, 4)'), [1, 5, 9]);
    assert.deepEqual(v('parameters.name.split("-")'), ['ledger', 'sync']);
    assert.equal(v('parameters.name.split("-")[1] | upper'), 'SYNC');
    assert.equal(v('parameters.name.startsWith("ledger")'), true);
    assert.equal(v('parameters.name.toUpperCase()'), 'LEDGER-SYNC');
    assert.equal(v('parameters.name.replace("-", " ")'), 'ledger sync');
    assert.equal(v('parameters.tags.includes("b")'), true);
    assert.equal(v('parameters.tags.join("/")'), 'a/b/c');
    assert.equal(v('parameters.repoUrl.split("?")[0]'), 'github.com');
  });

  it('syntax errors name the column; runtime errors name the field', () => {
    assert.throws(
      () => v('parameters.name +'),
      (e: Error) =>
        e instanceof ExpressionError &&
        /^f: column 23: expression is empty or ends too early/.test(e.message),
    );
    assert.throws(() => v('parameters.name | nope'), /column 23: unknown filter "nope"/);
    assert.throws(() => v('parameters.name is nope'), /unknown test "nope"/);
    assert.throws(() => v('"unterminated'), /column 1: "\$\{\{" is never closed/);
    assert.throws(() => v('parameters.name @ 1'), /unexpected character "@"/);
    assert.throws(() => v('[1, 2'), /expected "," but found the end/);
    assert.throws(() => v('x | replace(a=1)'), /keyword arguments are not supported/);
    assert.throws(() => v('parameters.name.trimStart()'), /calls are not allowed here/);
    assert.throws(() => v('parameters.tags | first | int | range'), /unknown filter "range"/);
    assert.throws(() => v('range(0, 1, 0)'), /step other than 0/);
    assert.throws(() => v('"x".split()[0].toFixed(2)'), /calls are not allowed/);
  });
});

describe('Nunjucks tags in skeleton files and values', () => {
  it('{% if %} / {% elif %} / {% else %} with expressions', () => {
    const tpl =
      '{% if parameters.replicas > 5 %}big{% elif parameters.replicas > 2 %}mid{% else %}small{% endif %}';
    assert.equal(t(tpl), 'mid');
    assert.equal(t(tpl, { parameters: { replicas: 9 } }), 'big');
    assert.equal(t(tpl, { parameters: {} }), 'small');
    assert.equal(
      t('{% if parameters.tags %}has{% endif %}', { parameters: { tags: [] } }),
      'has',
      'JS truthiness: [] is true in Nunjucks',
    );
    assert.equal(t('{% if "b" in parameters.tags and not parameters.empty %}yes{% endif %}'), 'yes');
  });

  it('{% for %}: loop variables, key/value over mappings, unpacking, else, nesting', () => {
    assert.equal(
      t(
        '{% for x in parameters.tags %}${{ loop.index }}/${{ loop.length }}:${{ x }}${{ "," if not loop.last }}{% endfor %}',
      ),
      '1/3:a,2/3:b,3/3:c',
    );
    assert.equal(
      t(
        '{% for x in parameters.tags %}${{ loop.index0 }}${{ loop.revindex }}${{ loop.revindex0 }}${{ loop.first }} {% endfor %}',
      ),
      '032true 121false 210false ',
    );
    assert.equal(
      t('{% for env, cfg in parameters.envs %}${{ env }}=${{ cfg.replicas }};{% endfor %}'),
      'dev=1;prod=3;',
    );
    assert.equal(t('{% for a, b in [[1, 2], [3, 4]] %}${{ a + b }} {% endfor %}'), '3 7 ');
    assert.equal(t('{% for x in parameters.missing %}x{% else %}none{% endfor %}'), 'none');
    assert.equal(t('{% for x in [] %}x{% else %}empty{% endfor %}'), 'empty');
    assert.equal(
      t('{% for i in range(2) %}{% for j in range(2) %}${{ i }}${{ j }} {% endfor %}{% endfor %}'),
      '00 01 10 11 ',
    );
    assert.equal(t('{% for c in "ab" %}[${{ c }}]{% endfor %}'), '[a][b]');
    assert.throws(
      () => t('{% for x in parameters.envs %}{% endfor %}'),
      /over a mapping needs two variables/,
    );
    assert.throws(
      () => t('{% for x in 3 %}{% endfor %}'),
      /skeleton\/f: line 1, column 1: "for" needs a list or a mapping, found a number/,
    );
  });

  it('{% set %}, {% raw %}, comments and whitespace control', () => {
    assert.equal(
      t('{% set slug = values.destination.owner + "/" + values.destination.repo %}${{ slug }}'),
      'bank/ledger-sync',
    );
    assert.equal(
      t('{% raw %}on: ${{ github.event }} {% if x %}{% endraw %}|${{ parameters.name }}'),
      'on: ${{ github.event }} {% if x %}|ledger-sync',
    );
    assert.equal(t('a{# a comment ${{ x }} #}b'), 'ab');
    assert.equal(t('a   ${{- " b " -}}   c'), 'a b c');
    assert.equal(t('x\n  {%- if true %}\n  y\n  {%- endif %}\nz'), 'x\n  y\nz');
  });

  it('the shape of backstage/software-templates skeletons: {%- if %} keeps the YAML intact', () => {
    const skeleton = [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Component',
      'metadata:',
      '  name: ${{values.component_id | dump}}',
      '  {%- if values.description %}',
      '  description: ${{values.description | dump}}',
      '  {%- endif %}',
      '  annotations:',
      '    github.com/project-slug: ${{values.destination.owner + "/" + values.destination.repo}}',
      'spec:',
      '  owner: ${{values.owner | dump}}',
      '',
    ].join('\n');
    const values = {
      component_id: 'ledger-sync',
      description: 'Keeps "ledgers" in step',
      owner: 'group:ledger',
      destination: { owner: 'bank', repo: 'ledger-sync' },
    };
    assert.equal(
      t(skeleton, { values }),
      [
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata:',
        '  name: "ledger-sync"',
        '  description: "Keeps \\"ledgers\\" in step"',
        '  annotations:',
        '    github.com/project-slug: bank/ledger-sync',
        'spec:',
        '  owner: "group:ledger"',
        '',
      ].join('\n'),
    );
    const without = t(skeleton, { values: { ...values, description: '' } });
    assert.ok(without.includes('  name: "ledger-sync"\n  annotations:\n'), without);
  });

  it('blocks inside template.yaml values render to a string', () => {
    assert.equal(
      renderString(
        '{% if parameters.replicas > 1 %}HA{% else %}single{% endif %} ${{ parameters.name }}',
        scope,
        'f',
      ),
      'HA ledger-sync',
    );
    assert.equal(renderString('{% for t in parameters.tags %}${{ t }}{% endfor %}', scope, 'f'), 'abc');
    assert.throws(
      () => renderString('{% if parameters.name %}x', scope, 'spec.steps[0].input.message'),
      /spec\.steps\[0\]\.input\.message: column 1: "if" is never closed/,
    );
  });

  it('structural errors name line and column in the file', () => {
    assert.throws(
      () => compileTemplate('a\n{% for x in %}\n{% endfor %}', 'skeleton/g'),
      /skeleton\/g: line 2, column 13: expression is empty/,
    );
    assert.throws(
      () => compileTemplate('{% if a %}{% endfor %}', 'f'),
      /"endfor" without an open "for" \(the open block is "if"\)/,
    );
    assert.throws(
      () => compileTemplate('{% if a %}{% else %}{% elif b %}{% endif %}', 'f'),
      /"elif" after "else"/,
    );
    assert.throws(() => compileTemplate('{% raw %}never closed', 'f'), /"raw" is never closed/);
    assert.throws(() => compileTemplate('{% macro x() %}{% endmacro %}', 'f'), /unknown tag "macro"/);
    assert.throws(
      () => t('line one\n  ${{ parameters.tags | join(",") | nope }}'),
      /skeleton\/f: line 2, column 37: unknown filter "nope"/,
    );
    assert.throws(
      () => t('\n\n${{ parameters.name.constructor }}'),
      /line 3, column 21: property "constructor" is not allowed/,
    );
  });
});
