import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseScorecard } from './definition.ts';

const good = (checks: string, levels = '    - name: bronze\n      checks: [has-runbook]\n') =>
  `apiVersion: bank.io/v1
kind: Scorecard
metadata:
  name: readiness
  title: Readiness
spec:
  checks:
${checks}  levels:
${levels}`;

const RUNBOOK = '    - name: has-runbook\n      kind: fact\n      fact: runbook\n      present: true\n';

const errorsOf = (text: string) => {
  const r = parseScorecard(text, 'scorecards/x.yaml');
  assert.equal(r.ok, false, 'expected the file to be refused');
  return r.ok ? [] : r.errors;
};

describe('scorecard files', () => {
  it("the bank's default scorecard is valid: three levels, every check placed", () => {
    const file = fileURLToPath(new URL('../../../../scorecards/production-readiness.yaml', import.meta.url));
    const r = parseScorecard(readFileSync(file, 'utf8'), 'scorecards/production-readiness.yaml');
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.deepEqual(
      r.scorecard.levels.map((l) => l.name),
      ['bronze', 'silver', 'gold'],
    );
    const placed = new Set(r.scorecard.levels.flatMap((l) => l.checks));
    for (const c of r.scorecard.checks) assert.ok(placed.has(c.name), `${c.name} is in no level`);
  });

  it('a check carries the line and column it is defined at', () => {
    const r = parseScorecard(good(RUNBOOK), 'scorecards/x.yaml');
    assert.ok(r.ok);
    assert.deepEqual(r.scorecard.checks[0].at, { file: 'scorecards/x.yaml', line: 8, column: 7 });
  });

  it('a malformed check (a list item that is not a mapping, a check without kind) is refused at its line', () => {
    const errors = errorsOf(good(`${RUNBOOK}    - just-a-string\n    - name: no-kind\n`));
    assert.deepEqual(
      errors.map((e) => [e.line, e.column]),
      [
        [12, 7],
        [13, 7],
      ],
    );
    assert.match(errors[0].message, /spec\.checks\[1\] must be a mapping/);
    assert.match(errors[1].message, /spec\.checks\[2\]\.kind is required; one of fact, /);
  });

  it('an unknown fact names the known facts and the closest', () => {
    const [e] = errorsOf(
      good('    - name: has-runbook\n      kind: fact\n      fact: runbok\n      present: true\n'),
    );
    assert.equal(e.line, 10);
    assert.equal(e.column, 13);
    assert.match(e.message, /unknown fact "runbok"; known facts: runbook, oncall/);
    assert.match(e.message, /did you mean "runbook"/);
  });

  it('an unknown check kind is refused with the list of kinds', () => {
    const [e] = errorsOf(good('    - name: has-runbook\n      kind: sonar-coverage\n'));
    assert.match(e.message, /kind "sonar-coverage" is not a check kind; known: fact, replicas-by-tier/);
    assert.deepEqual([e.line, e.column], [9, 13]);
  });

  it('a check that would need code (an expression field, or a script kind) is refused: nothing is evaluated', () => {
    const errors = errorsOf(
      good(
        `${RUNBOOK}    - name: clever\n      kind: fact\n      fact: tier\n      expr: "entity.tier < 2 && require('child_process')"\n    - name: cleverer\n      kind: script\n`,
      ),
    );
    const code = errors.filter((e) => /code/.test(e.message));
    assert.equal(code.length, 2);
    assert.match(code[0].message, /"expr" would need code to be run; scorecards never evaluate code/);
    assert.equal(code[0].line, 15);
    assert.match(code[1].message, /kind "script" would need code to be run/);
  });

  it('a duplicate check name is refused at the second, naming the first', () => {
    const [e] = errorsOf(good(`${RUNBOOK}${RUNBOOK}`));
    assert.deepEqual([e.line, e.column], [12, 13]);
    assert.match(e.message, /duplicate check name "has-runbook" \(first at line 8\)/);
  });

  it('a level referencing a missing check is refused at that reference', () => {
    const [e] = errorsOf(good(RUNBOOK, '    - name: bronze\n      checks: [has-runbook, has-runbok]\n'));
    assert.deepEqual([e.line, e.column], [14, 29]);
    assert.match(e.message, /level "bronze" references check "has-runbok", which is not defined/);
    assert.match(e.message, /did you mean "has-runbook"/);
  });

  it('broken YAML and a wrong apiVersion are errors with positions, not exceptions', () => {
    const [e] = errorsOf('apiVersion: bank.io/v1\nkind: [Scorecard\n');
    assert.match(e.message, /^not valid YAML/);
    assert.equal(e.file, 'scorecards/x.yaml');
    const [v] = errorsOf(good(RUNBOOK).replace('bank.io/v1', 'bank.io/v9'));
    assert.deepEqual([v.line, v.column, v.message], [1, 13, 'apiVersion must be bank.io/v1']);
  });
});
