import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeHref } from './safe-url.ts';

describe('safeHref: only http, https and mailto links are rendered', () => {
  it('keeps ordinary links', () => {
    for (const url of [
      'https://runbooks.bank.internal/ledger',
      'http://x.example/a?b=c#d',
      'mailto:team@bank.example',
      'HTTPS://X.EXAMPLE',
    ]) {
      assert.equal(safeHref(url), url);
    }
    assert.equal(safeHref('  https://x.example  '), 'https://x.example');
  });

  it('refuses script and data schemes, however they are disguised', () => {
    for (const url of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      '\u0000javascript:alert(1)',
      ' javascript:alert(1)',
      'jav&#x09;ascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
    ]) {
      assert.equal(safeHref(url), null, JSON.stringify(url));
    }
  });

  it('refuses relative URLs, non-strings and absurd lengths', () => {
    for (const url of [
      '/etc',
      '//evil.example',
      'ledger',
      '',
      null,
      undefined,
      42,
      { url: 'https://x' },
      `https://x.example/${'a'.repeat(3000)}`,
    ]) {
      assert.equal(safeHref(url), null, String(url));
    }
  });
});
