// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are the template language under test
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpressionError, parseExpression } from './expression.ts';
import { checkExpressions, compileTemplate, renderString, renderTemplate, renderValue } from './render.ts';

const scope = {
  parameters: {
    name: 'ledger-sync',
    replicas: 3,
    owner: 'group:default/ledger',
    tags: ['a', 'b'],
    empty: '',
  },
  steps: { peers: { output: { callers: ['service.cards'] } } },
};

describe('expressions', () => {
  it('keeps the type of a lone expression and interpolates mixed text', () => {
    assert.equal(renderString('${{ parameters.replicas }}', scope, 'f'), 3);
    assert.deepEqual(renderString('${{ parameters.tags }}', scope, 'f'), ['a', 'b']);
    assert.equal(renderString('service-${{ parameters.name }}', scope, 'f'), 'service-ledger-sync');
    assert.equal(renderString("${{ steps['peers'].output.callers[0] }}", scope, 'f'), 'service.cards');
  });

  it('applies allow-listed filters', () => {
    const r = (s: string) => renderString(s, scope, 'f');
    assert.equal(r('${{ parameters.owner | parseEntityRef | pick("name") }}'), 'ledger');
    assert.equal(r('${{ parameters.name | pascalCase }}'), 'LedgerSync');
    assert.equal(r('${{ parameters.name | camelCase }}'), 'ledgerSync');
    assert.equal(r('${{ parameters.name | constantCase }}'), 'LEDGER_SYNC');
    assert.equal(r('${{ parameters.tags | join("+") }}'), 'a+b');
    // Nunjucks' default: only undefined takes it, unless the second argument is true.
    assert.equal(r('${{ parameters.empty | default("x") }}'), '');
    assert.equal(r('${{ parameters.empty | default("x", true) }}'), 'x');
    assert.equal(r('${{ parameters.missing | d("x") }}'), 'x');
    assert.equal(r('${{ parameters.name | replace("-", "_") | upper }}'), 'LEDGER_SYNC');
    assert.equal(r('${{ "a\\"b" | dump }}'), '"a\\"b"');
    assert.equal(r('${{ parameters.replicas == 3 and not parameters.empty }}'), true);
    assert.equal(r('${{ "github.com?owner=o&repo=r" | projectSlug }}'), 'o/r');
  });

  it('never evaluates JavaScript: constructor, __proto__, prototype and calls are refused', () => {
    for (const src of [
      "constructor.constructor('return process')()",
      'parameters.constructor',
      'parameters.__proto__',
      "parameters['__proto__']",
      'parameters.name.constructor',
      'x.prototype',
      '(1).toString()',
      'parameters.name | eval',
      'parameters.name; 1',
    ]) {
      assert.throws(
        () => renderString(`\${{ ${src} }}`, scope, 'spec.steps[0].input.x'),
        (err: Error) => err instanceof ExpressionError && err.message.startsWith('spec.steps[0].input.x:'),
        src,
      );
    }
    // Unknown roots read nothing rather than reaching globals.
    assert.equal(renderString('${{ process }}', scope, 'f'), undefined);
    assert.equal(renderString('${{ globalThis }}', scope, 'f'), undefined);
    assert.equal(renderString('${{ process.env }}', scope, 'f'), undefined);
    // Computed keys are checked at run time too.
    const s = { ...scope, k: '__proto__' };
    assert.throws(() => renderString('${{ parameters[k] }}', s, 'f'), /not allowed/);
    assert.throws(() => renderString('${{ parameters | pick("constructor") }}', s, 'f'), /not allowed/);
  });

  it('inserts values as data: a value holding an expression stays literal', () => {
    const hostile = {
      parameters: { description: "${{ constructor.constructor('x')() }} {{ 7*7 }} {% for %}" },
    };
    assert.equal(renderString('${{ parameters.description }}', hostile, 'f'), hostile.parameters.description);
    assert.equal(
      renderString('d: ${{ parameters.description }}', hostile, 'f'),
      `d: ${hostile.parameters.description}`,
    );
    const tpl = compileTemplate('x=${{ parameters.description | dump }}\n', 'skeleton/a.ts');
    assert.equal(renderTemplate(tpl, hostile), `x=${JSON.stringify(hostile.parameters.description)}\n`);
  });

  it('renders objects and leaves out keys that render to undefined', () => {
    assert.deepEqual(
      renderValue(
        { a: '${{ parameters.name }}', b: '${{ parameters.missing }}', c: ['${{ parameters.replicas }}'] },
        scope,
        'input',
      ),
      {
        a: 'ledger-sync',
        c: [3],
      },
    );
  });

  it('names the field of a syntax error', () => {
    assert.throws(
      () => checkExpressions({ values: { name: '${{ parameters.name | nope }}' } }, 'spec.steps[1].input'),
      /spec\.steps\[1\]\.input\.values\.name: column 23: unknown filter "nope"/,
    );
    assert.throws(
      () => checkExpressions('${{ parameters.name ', 'spec.output.links[0].url'),
      /spec\.output\.links\[0\]\.url: .*never closed/,
    );
    assert.throws(() => parseExpression('a'.repeat(20_000)), /longer than/);
    assert.throws(() => parseExpression(`${'('.repeat(100)}a${')'.repeat(100)}`), /nested too deeply/);
  });
});

describe('skeleton templates', () => {
  it('renders for/if blocks, standalone tags take their line, loop variables', () => {
    assert.equal(renderTemplate(compileTemplate('[${{ "," if false }}]', 'f'), scope), '[]');
    const ok = compileTemplate(
      [
        'deps:',
        '{% for d in parameters.tags %}',
        '  - ${{ d }}',
        '{% endfor %}',
        '{% if parameters.replicas == 3 %}',
        'three',
        '{% else %}',
        'other',
        '{% endif %}',
        'n=${{ parameters.tags | length }} {% for t in parameters.tags %}${{ t }}{% if not loop.last %},{% endif %}{% endfor %}',
        '',
      ].join('\n'),
      'f',
    );
    assert.equal(renderTemplate(ok, scope), 'deps:\n  - a\n  - b\nthree\nn=2 a,b\n');
  });

  it('reports unbalanced blocks and unknown tags with file and line', () => {
    assert.throws(
      () => compileTemplate('a\n{% for x in y %}\n', 'skeleton/x.ts'),
      /skeleton\/x\.ts: line 2, column 1: "for" is never closed/,
    );
    assert.throws(
      () => compileTemplate('{% include "/etc/passwd" %}', 'skeleton/x.ts'),
      /line 1, column 3: unknown tag "include"/,
    );
    assert.throws(() => compileTemplate('{% endif %}', 'skeleton/x.ts'), /without an open "if"/);
    assert.throws(
      () => compileTemplate('{% for constructor in y %}{% endfor %}', 'f'),
      /line 1, column 8: "constructor" cannot be a variable name/,
    );
  });

  it('caps loops', () => {
    const big = { parameters: { xs: Array.from({ length: 200 }, (_, i) => i) } };
    const tpl = compileTemplate(
      '{% for a in parameters.xs %}{% for b in parameters.xs %}.{% endfor %}{% endfor %}',
      'f',
    );
    assert.throws(() => renderTemplate(tpl, big), /loop iterations/);
  });

  it('leaves Nunjucks-style {{ }} without the $ alone', () => {
    const tpl = compileTemplate('const t = `{{ constructor }}`;\n', 'f');
    assert.equal(renderTemplate(tpl, scope), 'const t = `{{ constructor }}`;\n');
  });
});
