import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slackHref } from './slack.ts';

describe('slackHref', () => {
  it('links a channel name, with or without its #, to Slack', () => {
    assert.equal(slackHref('#squad-ledger'), 'https://slack.com/app_redirect?channel=squad-ledger');
    assert.equal(slackHref('inc_payments'), 'https://slack.com/app_redirect?channel=inc_payments');
  });

  it('links nothing that is not a channel name', () => {
    for (const bad of [
      '',
      '#',
      'javascript:alert(1)',
      '#Squad',
      '# squad',
      '#a?b=c',
      `#${'a'.repeat(81)}`,
      null,
    ])
      assert.equal(slackHref(bad), undefined, String(bad));
  });
});
