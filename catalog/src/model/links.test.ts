import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSafeUrl, MAX_LINK_LENGTH, safeUrl } from './links.ts';

describe('safeUrl: only http, https and mailto links are rendered', () => {
  it('keeps ordinary links', () => {
    for (const url of [
      'https://runbooks.bank.internal/ledger',
      'http://x.example/a?b=c#d',
      'mailto:team@bank.example',
      'HTTPS://X.EXAMPLE',
    ]) {
      assert.equal(safeUrl(url), url);
    }
    assert.equal(safeUrl('  https://x.example  '), 'https://x.example');
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
      assert.equal(safeUrl(url), null, JSON.stringify(url));
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
      assert.equal(safeUrl(url), null, String(url));
    }
  });

  it(`keeps a link of exactly ${MAX_LINK_LENGTH} characters and refuses one more`, () => {
    const longest = `https://x.example/${'a'.repeat(MAX_LINK_LENGTH - 'https://x.example/'.length)}`;
    assert.equal(longest.length, MAX_LINK_LENGTH);
    assert.equal(safeUrl(longest), longest);
    assert.equal(safeUrl(`${longest}a`), null);
  });
});

describe('isSafeUrl: which descriptor links validation accepts', () => {
  it('accepts http, https and mailto URLs and refuses other schemes and non-URLs', () => {
    for (const url of ['https://x.example', 'http://x.example/a', 'mailto:team@bank.example']) {
      assert.equal(isSafeUrl(url), true, url);
    }
    for (const url of [
      'javascript:alert(1)',
      'java\tscript:alert(1)',
      'file:///etc/passwd',
      'ledger',
      '',
      42,
    ]) {
      assert.equal(isSafeUrl(url), false, String(url));
    }
  });
});
