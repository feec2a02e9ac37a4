import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RpcError, statusForCode } from './errors.ts';

test('codes map to statuses by prefix; unknown codes are 500', () => {
  assert.equal(statusForCode('bad_request.missing_param'), 400);
  assert.equal(statusForCode('not_found'), 404);
  assert.equal(statusForCode('rate_limited'), 429);
  assert.equal(statusForCode('timeout.attempt'), 504);
  assert.equal(statusForCode('bad_requests'), 500, 'prefix matches whole dotted parts only');
  assert.equal(statusForCode('whatever'), 500);
});

test('retryable by default: internal_service, timeout, unknown, rate_limited; an explicit flag wins', () => {
  assert.equal(new RpcError('internal_service.db', '').retryable, true);
  assert.equal(new RpcError('timeout', '').retryable, true);
  assert.equal(new RpcError('rate_limited', '').retryable, true);
  assert.equal(new RpcError('unknown', '').retryable, true);
  assert.equal(new RpcError('bad_request', '').retryable, false);
  assert.equal(new RpcError('internal_service', '', { retryable: false }).retryable, false);
  assert.equal(new RpcError('not_found', '', { retryable: true }).retryable, true);
});

test('the wire form round-trips and counts each crossing', () => {
  const e = new RpcError('not_found.card', 'No card 7', { params: { card: '7' }, retryable: false });
  const once = RpcError.fromWire(JSON.parse(JSON.stringify(e.toWire())), 'cards');
  assert.equal(once.code, 'not_found.card');
  assert.deepEqual(once.params, { card: '7' });
  assert.equal(once.explicitRetryable, false);
  assert.equal(once.marshalCount, 1);
  const twice = RpcError.fromWire(once.toWire(), 'card-api');
  assert.equal(twice.marshalCount, 2);
  assert.deepEqual(twice.messageChain, ['cards: No card 7', 'card-api: No card 7']);
  assert.equal(RpcError.fromStatus(503, 'down').code, 'internal_service.unavailable');
});
