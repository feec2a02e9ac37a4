'use strict';
// The stock Backstage catalogue backend as ../shared/anchors/backstage/backend.js runs it (backend-defaults
// and plugin-catalog-backend, the anchor's versions), without the portal-graph plugin, plus the Template kind
// as a create-app backend has it. There the scaffolder's catalogue module
// (@backstage/plugin-catalog-backend-module-scaffolder-entity-model, not installed here) accepts the kind
// through scaffolder-common's own validator and relates a Template to its owner; the module below does what
// that module's ScaffolderEntitiesProcessor does, and nothing else.
//   node dev/catalog-backend.cjs --config <app-config.yaml>
const { createBackend } = require('@backstage/backend-defaults');
const { createBackendModule } = require('@backstage/backend-plugin-api');
const {
  getCompoundEntityRef,
  parseEntityRef,
  RELATION_OWNED_BY,
  RELATION_OWNER_OF,
} = require('@backstage/catalog-model');
const { catalogProcessingExtensionPoint, processingResult } = require('@backstage/plugin-catalog-node');
const { templateEntityV1beta3Validator } = require('@backstage/plugin-scaffolder-common');

const templateKind = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'template-kind',
  register(env) {
    env.registerInit({
      deps: { catalog: catalogProcessingExtensionPoint },
      async init({ catalog }) {
        catalog.addProcessor({
          getProcessorName: () => 'TemplateKindProcessor',
          validateEntityKind: async (entity) => templateEntityV1beta3Validator.check(entity),
          async postProcessEntity(entity, _location, emit) {
            const owner = entity.kind === 'Template' ? entity.spec?.owner : undefined;
            if (entity.apiVersion !== 'scaffolder.backstage.io/v1beta3' || !owner) return entity;
            const self = getCompoundEntityRef(entity);
            const { kind, namespace, name } = parseEntityRef(owner, {
              defaultKind: 'Group',
              defaultNamespace: self.namespace,
            });
            const target = { kind, namespace, name };
            emit(processingResult.relation({ source: self, type: RELATION_OWNED_BY, target }));
            emit(processingResult.relation({ source: target, type: RELATION_OWNER_OF, target: self }));
            return entity;
          },
        });
      },
    });
  },
});

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.add(templateKind);
backend.start();
