/**
 * parseManifests reads most files with js-yaml and the rest with the yaml package; what it returns (objects
 * and errors, or what it throws) must be what the yaml package alone returns (parseManifestsSlow): for every
 * manifest of a generated estate, for hostile and edge inputs, and for generated block YAML with wrong
 * indentation, odd keys and scalars that the two parsers' schemas read differently.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { generateEstate } from '../../../bench/estate/generate.ts';
import { serviceDescriptors } from '../../../bench/estate/write.ts';
import { fastDocuments, parseManifests, parseManifestsSlow } from './manifests.ts';

type Files = { path: string; text: string }[];
const outcome = (parse: typeof parseManifests, files: Files) => {
  try {
    return parse(files);
  } catch (err) {
    return { threw: String(err) };
  }
};
const same = (text: string) =>
  assert.deepStrictEqual(
    outcome(parseManifests, [{ path: 'm.yaml', text }]),
    outcome(parseManifestsSlow, [{ path: 'm.yaml', text }]),
    JSON.stringify(text),
  );

describe('parseManifests equals parseManifestsSlow', () => {
  it('for every manifest of a generated estate (300 services), each read on the fast path', () => {
    const perService = new Map<string, Files>();
    for (const [file, text] of serviceDescriptors(generateEstate({ services: 300, seed: 42 }))) {
      if (!file.includes('/k8s/')) continue;
      const service = file.split('/')[0];
      perService.set(service, [...(perService.get(service) ?? []), { path: `/estate/${file}`, text }]);
    }
    assert.ok(perService.size > 250, `${perService.size} services with manifests`);
    for (const files of perService.values()) {
      assert.deepStrictEqual(parseManifests(files), parseManifestsSlow(files));
      for (const f of files) assert.ok(fastDocuments(f.text), `${f.path} is read on the fast path`);
    }
  });

  const scalars = [
    ...['yes', 'no', 'on', 'off', 'y', 'n', 'Yes', 'ON', 'true', 'True', 'TRUE', 'tRUE', 'false', 'FALSE'],
    ...['null', 'Null', 'NULL', 'nULL', '~', '0o7', '0o8', '0x1F', '0x1f', '0X1F', '0b101', '1_000', '1_0.5'],
    ...['-.5', '+.5', '.5', '5.', '+5', '-0', '0', '00', '012', '09', '1e3', '1E3', '1e+3', '.1e3', '1.e3'],
    ...['-1e-3', '1.0', '1.50', '.inf', '-.inf', '+.inf', '.Inf', '.INF', '.nan', '.NaN', '.NAN', '-.nan'],
    ...['nan', 'inf', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '12:30:00'],
    ...['1:20', '190:20:30', '99999999999999999999', `0x${'f'.repeat(20)}`, `1${'0'.repeat(400)}`],
    ...['"quoted"', "'it''s'", '""', "''", '"1"', '"true"', '"null"', "'~'", 'a b c', 'a #c', 'a#b', 'a:b'],
    ...[
      'http://x:80/y?a=1&b=2',
      'sha256@x',
      'registry/x:v1@sha256:00ff',
      '=',
      '<',
      'a,b',
      '-x',
      '--x',
      '---',
    ],
    ...['...', 'é', '日本', 'a\u00a0b', '"a"#c', '"x"y', '"unterminated', 'a: b', "'multi\n\n  line'"],
  ];

  it('for hostile and edge inputs', () => {
    const long = 'x'.repeat(200_000);
    const cases = [
      '',
      '\n\n',
      '# only a comment\n',
      '---\n---\n---\n',
      'a: 1\n---\n---\nb: 2\n...\n---\n',
      '- a\n- b\n',
      'just text\n',
      '42\n',
      '"quoted"\n',
      'a: 1\na: 2\n',
      'a: 1\n"a": 2\n',
      '1: a\n"1": b\n',
      'x: {a: 1, a: 2}\n',
      'base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n',
      '<<: {x: 1}\n',
      'a: &x 1\nb: *x\n',
      'a: *missing\n',
      `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`,
      'a:\n\tb: 1\n',
      'a: "x\tb"\n',
      'a: 1\r\nb: 2\r\n',
      '\ufeffa: 1\n',
      '%YAML 1.1\n---\na: yes\n',
      'a: !!str 1\nb: !!int "2"\n',
      'a: !custom x\n',
      'a: |\n  line\n  two\nb: >-\n  folded\n  text\n',
      'a: "esc \\u00e9 \\x41 \\n"\n',
      'a: "bad \\q"\n',
      '? complex\n: key\n',
      '[a, b]: c\n',
      'a: [1, 2,]\nb: {c: d}\n',
      `a: ${long}\n`,
      `${'k'.repeat(1100)}: v\n`,
      `'${"''".repeat(520)}': v\n`,
      'a:\n  b: 1\n c: 2\n',
      'a:\n  b: 1\n   c: 2\n',
      '- - a\n - b\n',
      'a:\n  -\n    - x\n    -\n  - y\n',
      'kind: Service\napiVersion: \n - a:  "multi\n  line"\n',
      '~: a\n',
      'null: a\n',
      '"null": a\n',
      '__proto__: {polluted: 1}\n',
      '__proto__:\n  polluted: 1\nconstructor: x\ntoString: y\n',
      'a: b: c\n',
      'a: @x\n',
      'a: `x`\n',
      'a: "x" # c\nb: x # c\nc: x#c\n',
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n${scalars.map((s, i) => `  k${i}: ${s}`).join('\n')}\n`,
      ...scalars.map((s) => `a: ${s}\n- ${s}\n`),
      ...scalars.map((s) => `${s}: a\n`),
      ...scalars.map((s) => `- ${s}\n- x: ${s}\n  y: [${s}]\n`),
    ];
    for (const text of cases) same(text);
    assert.deepStrictEqual(
      outcome(parseManifests, [
        { path: 'a.yaml', text: 'a: 1\na: 2\n' },
        { path: 'b.yaml', text: 'kind: A\n---\n- x\n---\nkind: B\n' },
        { path: 'c.yaml', text: 'kind: C\nmetadata:\n  name: c\n' },
      ]),
      outcome(parseManifestsSlow, [
        { path: 'a.yaml', text: 'a: 1\na: 2\n' },
        { path: 'b.yaml', text: 'kind: A\n---\n- x\n---\nkind: B\n' },
        { path: 'c.yaml', text: 'kind: C\nmetadata:\n  name: c\n' },
      ]),
    );
  });

  it('for generated block YAML, with wrong indentation and odd keys and scalars', () => {
    type Node = { t: 's'; v: string } | { t: 'm'; e: [string, Node][] } | { t: 'q'; e: Node[] };
    const keys = [
      ...[
        'a',
        'b',
        'c',
        'kind',
        'apiVersion',
        'metadata',
        'name',
        'app.kubernetes.io/name',
        'x y',
        '1',
        '"1"',
      ],
      ...[
        '1.0',
        '0x1',
        'true',
        'yes',
        'on',
        '-1',
        '.inf',
        '.nan',
        '"a"',
        "'b'",
        "'it''s'",
        'k#',
        '"k"#',
        '~',
      ],
      ...[
        'null',
        '"null"',
        '""',
        '__proto__',
        'constructor',
        'toString',
        'a b',
        'k ',
        '- a',
        '#k',
        '-',
        '...',
      ],
    ];
    const oneLine = scalars.filter((s) => !s.includes('\n'));
    const node: fc.Arbitrary<Node> = fc.letrec<{ n: Node }>((tie) => ({
      n: fc.oneof(
        { depthSize: 'small' },
        { weight: 5, arbitrary: fc.constantFrom(...oneLine).map((v) => ({ t: 's' as const, v })) },
        {
          weight: 2,
          arbitrary: fc
            .array(fc.tuple(fc.constantFrom(...keys), tie('n')), { minLength: 1, maxLength: 5 })
            .map((e) => ({ t: 'm' as const, e })),
        },
        {
          weight: 1,
          arbitrary: fc.array(tie('n'), { minLength: 1, maxLength: 4 }).map((e) => ({ t: 'q' as const, e })),
        },
      ),
    })).n;
    const style = fc.record({
      step: fc.constantFrom(1, 2, 2, 3, 4),
      seqIndented: fc.boolean(),
      pad: fc.constantFrom('', '', ' '),
      comment: fc.constantFrom('', '', ' # c'),
    });
    type Style = typeof style extends fc.Arbitrary<infer S> ? S : never;
    const emit = (n: Node, indent: number, st: Style, out: string[]): void => {
      const sp = ' '.repeat(indent);
      if (n.t === 's') out.push(sp + n.v);
      else if (n.t === 'm') {
        for (const [k, v] of n.e) {
          if (v.t === 's') out.push(`${sp}${k}: ${v.v}${st.pad}`);
          else {
            out.push(`${sp}${k}:${st.comment}`);
            emit(v, v.t === 'q' && !st.seqIndented ? indent : indent + st.step, st, out);
          }
        }
      } else {
        for (const v of n.e) {
          if (v.t === 's') out.push(`${sp}- ${v.v}${st.pad}`);
          else if (v.t === 'm') {
            const sub: string[] = [];
            emit(v, indent + 2, st, sub);
            out.push(`${sp}- ${sub[0].trimStart()}`, ...sub.slice(1));
          } else {
            out.push(`${sp}-${st.comment}`);
            emit(v, indent + st.step, st, out);
          }
        }
      }
    };
    const edit = fc.record({
      kind: fc.constantFrom('none', 'none', 'none', 'indent', 'dedent', 'swap', 'duplicate', 'join'),
      at: fc.nat(),
      by: fc.constantFrom(1, 2, 3),
    });
    const text = fc
      .tuple(
        fc.array(fc.tuple(node, style), { minLength: 1, maxLength: 3 }),
        fc.array(edit, { maxLength: 2 }),
        fc.constantFrom('', '\n'),
      )
      .map(([docs, edits, end]) => {
        const out: string[] = [];
        docs.forEach(([n, st], i) => {
          if (i > 0) out.push('---');
          emit(n, 0, st, out);
        });
        for (const e of edits) {
          const j = e.at % out.length;
          if (e.kind === 'indent') out[j] = ' '.repeat(e.by) + out[j];
          if (e.kind === 'dedent') out[j] = out[j].replace(new RegExp(`^ {1,${e.by}}`), '');
          if (e.kind === 'swap' && j + 1 < out.length) [out[j], out[j + 1]] = [out[j + 1], out[j]];
          if (e.kind === 'duplicate') out.splice(j, 0, out[j]);
          if (e.kind === 'join' && j + 1 < out.length) out.splice(j, 2, `${out[j]} ${out[j + 1].trim()}`);
        }
        return out.join('\n') + end;
      });
    let fast = 0;
    fc.assert(
      fc.property(text, (t) => {
        if (fastDocuments(t)) fast++;
        same(t);
      }),
      { numRuns: 3000, seed: 17 },
    );
    assert.ok(fast > 100, `${fast} of 3000 read on the fast path`);
  });
});

describe('parseManifests on an alias bomb', () => {
  it('reports the file as not valid YAML and still reads the other files', () => {
    const bomb = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`;
    const good = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: ledger\n';
    const { objects, errors } = parseManifests([
      { path: 'k8s/bomb.yaml', text: bomb },
      { path: 'k8s/service.yaml', text: good },
    ]);
    assert.deepEqual(
      objects.map((o) => `${o.file} ${o.kind} ${o.name}`),
      ['k8s/service.yaml Service ledger'],
    );
    assert.equal(errors.length, 1);
    assert.equal(errors[0].file, 'k8s/bomb.yaml');
    assert.match(errors[0].errors[0], /^not valid YAML: .*alias/i);
  });
});
