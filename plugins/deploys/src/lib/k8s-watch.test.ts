import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter } from './k8s-watch.ts';

describe('LineSplitter: the watch stream cut into lines', () => {
  const split = (max: number) => {
    const lines: string[] = [];
    return { lines, s: new LineSplitter(max, (l) => lines.push(l)) };
  };

  it('lines across chunks, several in one chunk, CRLF, empty lines skipped, UTF-8 split mid-character', () => {
    const { lines, s } = split(1024);
    const euro = Buffer.from('{"a":"€"}\n');
    assert.ok(s.push(Buffer.from('{"type":"ADDED"')));
    assert.ok(s.push(Buffer.from(',"n":1}\n{"n":2}\r\n\n{"n"')));
    assert.ok(s.push(Buffer.from(':3}\n')));
    assert.ok(s.push(euro.subarray(0, 7)));
    assert.ok(s.push(euro.subarray(7)));
    assert.deepEqual(lines, ['{"type":"ADDED","n":1}', '{"n":2}', '{"n":3}', '{"a":"€"}']);
  });

  it('a line up to the limit is taken; one past it is refused, whole or unfinished', () => {
    const { lines, s } = split(8);
    assert.ok(s.push(Buffer.from('12345678\n')));
    assert.deepEqual(lines, ['12345678']);
    assert.equal(split(8).s.push(Buffer.from('123456789\n')), false);
    const open = split(8).s;
    assert.ok(open.push(Buffer.from('12345')));
    assert.equal(open.push(Buffer.from('6789')), false, 'no newline yet, already past the limit');
  });
});
