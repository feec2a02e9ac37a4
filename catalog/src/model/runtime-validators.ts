import {
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  DefaultNamespaceEntityPolicy,
  domainEntityV1alpha1Validator,
  type EntityPolicy,
  groupEntityV1alpha1Validator,
  type KindValidator,
  locationEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  SchemaValidEntityPolicy,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';

/**
 * catalog-model's own validators, compiled at run time (about half a second): the fallback when the
 * precompiled ones (precompiled.ts) cannot be loaded or written, and the reference precompiled.test.ts
 * compares them with. A module of its own, imported only then: catalog-model's kind modules build their
 * model layers with zod when loaded, which cost every start about 0.1 s when nothing used them.
 */
export const KIND_VALIDATORS: KindValidator[] = [
  componentEntityV1alpha1Validator,
  apiEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
];

export const runtimeNamespacePolicy: EntityPolicy = new DefaultNamespaceEntityPolicy();
export const runtimeSchemaPolicy: EntityPolicy = new SchemaValidEntityPolicy();
