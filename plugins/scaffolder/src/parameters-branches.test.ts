/**
 * Fields defined in `dependencies`/`oneOf` branches of a parameter page (Backstage's forms show them when
 * their branch applies) are parameters of the template: accepted, typed by --set, and a secret one is
 * redacted in the task history like any other.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pageFields } from './parameters.ts';
import { redactParameters } from './tasks.ts';
import type { ParameterPage } from './template.ts';

const page = {
  properties: { database: { type: 'string', enum: ['none', 'postgres'] } },
  dependencies: {
    database: {
      oneOf: [
        { properties: { database: { enum: ['none'] } } },
        {
          properties: {
            database: { enum: ['postgres'] },
            dbSize: { type: 'integer' },
            dbPhrase: { type: 'string', 'ui:widget': 'password' },
          },
        },
      ],
    },
  },
} as unknown as ParameterPage;

describe('parameters in dependency branches', () => {
  it('are fields of the page', () => {
    const out = new Map<string, Record<string, unknown>>();
    pageFields(page as unknown as Record<string, unknown>, out);
    assert.deepEqual([...out.keys()], ['database', 'dbSize', 'dbPhrase']);
    assert.equal(out.get('database')?.type, 'string', 'the first definition (the page) wins');
  });

  it('a field the template marks secret (ui:widget password) is redacted, though its name does not say so', () => {
    assert.deepEqual(
      redactParameters({ database: 'postgres', dbSize: 2, dbPhrase: 'correct horse' }, [page]),
      {
        database: 'postgres',
        dbSize: 2,
        dbPhrase: '[redacted]',
      },
    );
  });
});
