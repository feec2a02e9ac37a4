// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are the template language under test
/**
 * Property test: whatever a template author writes, an expression or a template never reaches a
 * prototype, never runs code of a value (functions, getters, toJSON, toString), never returns anything
 * but plain data, and stays bounded (no stack overflow, output capped). Hostile fragments are mixed
 * with the real grammar so that many inputs parse and are evaluated, not only refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ExpressionError } from './expression.ts';
import { MAX_STRING } from './filters.ts';
import { compileTemplate, renderString, renderTemplate } from './render.ts';

let ran = 0;
class Service {
  name = 'svc';
  toString() {
    ran++;
    return 'ran';
  }
  valueOf() {
    ran++;
    return 1;
  }
  toJSON() {
    ran++;
    return 'ran';
  }
}
const withGetter = { plain: 1 };
Object.defineProperty(withGetter, 'secret', {
  enumerable: true,
  get() {
    ran++;
    return 'ran';
  },
});

const scope = {
  parameters: {
    name: 'ledger-sync',
    n: 3,
    big: 1e9,
    long: 'x'.repeat(1000),
    k: '__proto__',
    c: 'constructor',
    p: 'prototype',
    list: ['a', 'b', { deep: ['c'] }],
    map: { a: 1, b: { c: 2 } },
    fn: () => {
      ran++;
      return 'ran';
    },
    service: new Service(),
    getter: withGetter,
  },
  values: { destination: { owner: 'bank', repo: 'r' } },
};

const FRAGMENTS = [
  'parameters',
  'values',
  'parameters.name',
  'parameters.list',
  'parameters.map',
  'parameters.fn',
  'parameters.service',
  'parameters.getter',
  'parameters.getter.secret',
  'parameters[parameters.k]',
  'parameters.map[parameters.c]',
  'parameters.list[parameters.p]',
  'constructor',
  '__proto__',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'process',
  'globalThis',
  'require',
  'this',
  'eval',
  'Function',
  'range(parameters.big)',
  'range(0, 100000)',
  '"constructor"',
  "'__proto__'",
  '"toString"',
  '.',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  ':',
  ',',
  '|',
  '~',
  '+',
  '-',
  '*',
  '**',
  '/',
  '//',
  '%',
  '==',
  '!=',
  '<',
  'and',
  'or',
  'not',
  'in',
  'if',
  'else',
  'is',
  'defined',
  'none',
  '1',
  '-1',
  '0',
  '"x"',
  'parameters.long',
  'join',
  'dump',
  'list',
  'replace',
  'replace(parameters.long, parameters.long)',
  'replace("", parameters.long)',
  'pick(parameters.c)',
  'pick("__proto__.x")',
  'sort(false, false, "constructor")',
  'selectattr("constructor")',
  'split',
  '.split("")',
  '.toString()',
  '.constructor("return 1")()',
  '.join(parameters.long)',
  'length',
  'first',
  'indent(1000)',
];

const expressionText = fc
  .array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 14 })
  .chain((parts) => fc.constantFrom(parts.join(' '), parts.join('')));

/** The scope's own non-plain values: returning one of them as it is is reading data, not reaching code. */
const GIVEN = new Set<unknown>([scope.parameters.fn, scope.parameters.service, scope.parameters.getter]);

/** Only plain data (or a value of the scope as given): no other function, instance or prototype object. */
function assertPlain(v: unknown, depth = 0): void {
  assert.ok(depth < 200, 'result nested too deeply');
  if (v === null || v === undefined || GIVEN.has(v)) return;
  assert.notEqual(typeof v, 'function', 'a function escaped');
  if (typeof v !== 'object') return;
  assert.notEqual(v, Object.prototype);
  assert.notEqual(v, Array.prototype);
  if (Array.isArray(v)) {
    for (const x of v) assertPlain(x, depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  assert.ok(proto === Object.prototype || proto === null, 'a non-plain object escaped');
  for (const x of Object.values(v)) assertPlain(x, depth + 1);
}

const protoSnapshot = () =>
  [Object.prototype, Array.prototype, String.prototype, Function.prototype, Number.prototype].map((p) =>
    Object.getOwnPropertyNames(p).sort().join(','),
  );

function allowedFailure(err: unknown): boolean {
  // Refusals are ExpressionErrors with a message; a stack overflow or a JS TypeError is a bug.
  return err instanceof ExpressionError && err.message.length > 0 && !/Maximum call stack/.test(err.message);
}

describe('hostile expressions (property)', () => {
  it('never reach a prototype, never run code, return plain data and stay bounded', () => {
    const before = protoSnapshot();
    fc.assert(
      fc.property(expressionText, (src) => {
        ran = 0;
        let out: unknown;
        try {
          out = renderString(`\${{ ${src} }}`, scope, 'f');
        } catch (err) {
          assert.ok(
            allowedFailure(err),
            `${src}: ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`,
          );
          out = undefined;
        }
        assert.equal(ran, 0, `${src} ran code of a value`);
        assertPlain(out);
        if (typeof out === 'string') assert.ok(out.length <= MAX_STRING);
        assert.deepEqual(protoSnapshot(), before, `${src} changed a prototype`);
        assert.equal((globalThis as Record<string, unknown>).polluted, undefined);
      }),
      { numRuns: 3000 },
    );
  });

  it('templates with loops, sets and hostile expressions stay bounded and never run code', () => {
    const tag = fc.oneof(
      expressionText.map((e) => `\${{ ${e} }}`),
      expressionText.map((e) => `{% if ${e} %}`),
      fc.constant('{% endif %}'),
      fc.constantFrom(
        '{% for x in range(100) %}',
        '{% for x in parameters.list %}',
        '{% for k, v in parameters.getter %}${{ v }}',
        '{% for k, v in parameters.service %}',
      ),
      fc.constant('{% endfor %}'),
      expressionText.map((e) => `{% set s = ${e} %}`),
      fc.constant('{% set s = s ~ s ~ parameters.long %}${{ s | length }}'),
      fc.constant('{% raw %}${{ constructor }}{% endraw %}'),
      fc.constant('text\n'),
    );
    fc.assert(
      fc.property(fc.array(tag, { maxLength: 12 }), (parts) => {
        ran = 0;
        const text = parts.join('');
        try {
          const out = renderTemplate(compileTemplate(text, 'skeleton/f'), { ...scope, s: 'ab' });
          assert.ok(out.length <= 2 << 20, 'output capped');
        } catch (err) {
          assert.ok(
            allowedFailure(err),
            `${text}: ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`,
          );
        }
        assert.equal(ran, 0, `${text} ran code of a value`);
      }),
      { numRuns: 1500 },
    );
  });

  it('nesting and loops past the limits are refused, not run until the stack or the memory gives out', () => {
    assert.throws(() => renderString(`\${{ ${'['.repeat(5000)} }}`, scope, 'f'), /nested too deeply/);
    assert.throws(() => renderString(`\${{ ${'not '.repeat(2000)}1 }}`, scope, 'f'), /nested too deeply/);
    assert.throws(() => renderString(`\${{ ${'-'.repeat(5000)}1 }}`, scope, 'f'), /nested too deeply/);
    assert.throws(() => renderString(`\${{ 1${' | abs'.repeat(1500)} }}`, scope, 'f'), /nested too deeply/);
    assert.throws(() => renderString(`\${{ ${'1+'.repeat(4000)}1 }}`, scope, 'f'), /nested too deeply/);
    assert.throws(
      () => renderString(`\${{ parameters${'.a'.repeat(3000)} }}`, scope, 'f'),
      /nested too deeply/,
    );
    const deepBlocks = `${'{% if true %}'.repeat(100)}x${'{% endif %}'.repeat(100)}`;
    assert.throws(() => compileTemplate(deepBlocks, 'f'), /nested more than 50 deep/);
    assert.throws(
      () =>
        renderTemplate(
          compileTemplate(
            '{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}',
            'f',
          ),
          scope,
        ),
      /more than 10000 loop iterations/,
    );
    assert.throws(
      () =>
        renderTemplate(
          compileTemplate(`{% set s = parameters.long %}${'{% set s = s ~ s %}'.repeat(12)}`, 'f'),
          scope,
        ),
      ExpressionError,
    );
    assert.throws(() => renderString('${{ range(parameters.big) }}', scope, 'f'), /more than 10000 numbers/);
    assert.throws(
      () =>
        renderString(
          '${{ parameters.long | replace("x", parameters.long) | replace("x", parameters.long) }}',
          scope,
          'f',
        ),
      /more than 1048576 characters/,
    );
  });
});
