/**
 * Backstage's form language split for rjsf (schema and uiSchema, also inside dependencies/oneOf and
 * items), and the eval-free validator rjsf runs in the browser: required, pattern, enum, oneOf branches.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractUiSchema, formValidator } from './form-schema.ts';

const page = {
  type: 'object',
  required: ['name'],
  'ui:order': ['name', 'database'],
  properties: {
    name: { type: 'string', pattern: '^[a-z-]+$', 'ui:field': 'EntityNamePicker', 'ui:autofocus': true },
    tags: { type: 'array', items: { type: 'string', 'ui:widget': 'text' } },
    database: { type: 'string', enum: ['none', 'postgres'] },
    __proto__: { type: 'string' },
  },
  dependencies: {
    database: {
      oneOf: [
        { properties: { database: { enum: ['none'] } } },
        {
          required: ['dbSize'],
          properties: { database: { enum: ['postgres'] }, dbSize: { type: 'string', 'ui:widget': 'radio' } },
        },
      ],
    },
  },
};

describe('the form schema', () => {
  it('moves every ui: key into the uiSchema, also from dependency branches and items, and drops prototype keys', () => {
    const { schema, uiSchema } = extractUiSchema(JSON.parse(JSON.stringify(page)));
    assert.deepEqual(uiSchema, {
      'ui:order': ['name', 'database'],
      name: { 'ui:field': 'EntityNamePicker', 'ui:autofocus': true },
      tags: { items: { 'ui:widget': 'text' } },
      dbSize: { 'ui:widget': 'radio' },
    });
    assert.ok(!JSON.stringify(schema).includes('ui:'));
    assert.deepEqual(Object.keys(schema.properties ?? {}), ['name', 'tags', 'database']);
  });

  it('validates without generating code: required, pattern, and the oneOf branch chosen', () => {
    const { schema } = extractUiSchema(JSON.parse(JSON.stringify(page)));
    const errors = (data: unknown) =>
      formValidator.validateFormData(data, schema).errors.map((e) => `${e.property} ${e.message}`);
    assert.deepEqual(errors({}), ['.name is required']);
    assert.deepEqual(errors({ name: 'Bad_Name' }), ['.name does not have the expected form']);
    assert.deepEqual(errors({ name: 'ok', database: 'none' }), []);
    assert.ok(errors({ name: 'ok', database: 'postgres' }).includes('.dbSize is required'));
    assert.deepEqual(errors({ name: 'ok', database: 'postgres', dbSize: 'large' }), []);
    assert.equal(formValidator.isValid(schema, { name: 'ok' }, schema), true);
    assert.equal(formValidator.isValid(schema, { name: 'NO' }, schema), false);
    // The error schema rjsf shows under each field.
    assert.deepEqual(formValidator.validateFormData({}, schema).errorSchema, {
      name: { __errors: ['is required'] },
    });
  });
});
