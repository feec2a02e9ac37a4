import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { cypherString, dotString, exportGraph, xmlText } from './export.ts';
import { buildGraphIndex, relationCount } from './graph-index.ts';
import { toEntities } from './testing/entities.ts';
import { smallEstateSpecs } from './testing/small-estate.ts';

const HOSTILE = 'Bob\'s "card" api \\ }) DETACH DELETE n //\n<script>&amp;\u0007 ünï ☃';

function hostileIndex() {
  const specs = smallEstateSpecs();
  const cardApi = specs.find((s) => s.name === 'card-api');
  assert.ok(cardApi);
  cardApi.title = HOSTILE;
  cardApi.oncall = "o'clock";
  return buildGraphIndex(toEntities(specs));
}

/** Reads a Cypher single-quoted literal back (the escapes cypherString writes). */
function readCypherString(literal: string): string {
  assert.ok(literal.startsWith("'") && literal.endsWith("'"));
  return literal
    .slice(1, -1)
    .replace(/\\(u[0-9a-f]{4}|.)/g, (_m, e: string) =>
      e.length === 5 ? String.fromCharCode(Number.parseInt(e.slice(1), 16)) : e,
    );
}

describe('exportGraph', () => {
  const index = hostileIndex();

  it('json: every node and edge, deterministic', () => {
    const json = JSON.parse(exportGraph(index, { format: 'json' }));
    assert.equal(json.nodes.length, index.relations.order);
    assert.equal(json.edges.length, relationCount(index) + index.calls.size);
    assert.equal(
      json.nodes.find((n: { ref: string }) => n.ref === 'component:default/card-api').title,
      HOSTILE,
    );
    assert.equal(exportGraph(index, { format: 'json' }), exportGraph(hostileIndex(), { format: 'json' }));
    const calls = JSON.parse(exportGraph(index, { format: 'json', scope: 'calls' }));
    assert.ok(calls.edges.every((e: { type: string }) => e.type === 'CALLS'));
  });

  it('cypher: string literals escape quotes, backslashes and control characters, and read back exactly', () => {
    assert.equal(cypherString("a'b\\c\nd"), "'a\\'b\\\\c\\u000ad'");
    assert.equal(readCypherString(cypherString(HOSTILE)), HOSTILE);
    const script = exportGraph(index, { format: 'cypher', batchSize: 3 });
    assert.ok(script.includes(cypherString(HOSTILE)));
    assert.ok(!script.includes(HOSTILE.split('\n')[0]), 'the raw title never appears unescaped');
    const statements = script.split(/;\n/).filter((s) => s.trim() && !s.trim().startsWith('//'));
    assert.ok(statements.length > 5);
    // Every literal in the script is well-formed: strip them and no quote is left over.
    const withoutLiterals = script.replace(/'(?:[^'\\]|\\.)*'/g, "''");
    assert.ok(!/[^']'[^']/.test(withoutLiterals.replace(/''/g, '')), 'unbalanced quote');
    assert.match(script, /MERGE \(n:Entity \{ref: row\.ref\}\)\nSET n \+= row, n:Component;/);
    assert.match(script, /MERGE \(a\)-\[r:CALLS\]->\(b\)/);
  });

  it('graphml: well-formed XML with the title escaped', (t) => {
    const xml = exportGraph(index, { format: 'graphml' });
    assert.ok(xml.includes(xmlText(HOSTILE)));
    assert.ok(!xml.includes('<script>'));
    const python = spawnSync(
      'python3',
      [
        '-c',
        'import sys, xml.dom.minidom as m; d = m.parseString(sys.stdin.buffer.read()); print(len(d.getElementsByTagName("node")), len(d.getElementsByTagName("edge")))',
      ],
      {
        input: xml,
        encoding: 'utf8',
      },
    );
    if (python.error) {
      t.skip('python3 not available to parse the XML');
      return;
    }
    assert.equal(python.status, 0, python.stderr);
    assert.equal(python.stdout.trim(), `${index.relations.order} ${relationCount(index) + index.calls.size}`);
  });

  it('dot: quoted ids and labels, escaped', () => {
    assert.equal(dotString('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
    const dot = exportGraph(index, { format: 'dot', scope: 'calls' });
    assert.match(dot, /^digraph estate \{/);
    assert.ok(dot.trim().endsWith('}'));
    assert.match(
      dot,
      /"component:default\/card-api" -> "component:default\/card-processing" \[label="dependsOn"\];/,
    );
    // Outside quoted strings there are no stray quotes or braces from entity text.
    const bare = dot.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    assert.ok(!bare.includes('DETACH'));
  });

  it('an unknown format is refused with the choices', () => {
    assert.throws(
      () => exportGraph(index, { format: 'pdf' as 'json' }),
      /format must be one of cypher, graphml, dot, json/,
    );
  });
});
