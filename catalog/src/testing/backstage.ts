import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Backstage's own material for the compatibility tests: `@backstage/create-app`'s example catalogues as npm
 * publishes them (read from node_modules at test time, never copied into the repository), and fixtures
 * written here, one or more documents per rule where Backstage and the bank differ.
 */

const createApp = path.dirname(createRequire(import.meta.url).resolve('@backstage/create-app/package.json'));

/** One create-app template's example catalogue, and the app-config `catalog.locations` create-app writes for it. */
export interface CreateAppExamples {
  template: string;
  files: { entities: string; org: string; template: string; skeleton: string };
  /** create-app's app-config: global rules, and the rules of each location. */
  rules: { allow: string[] }[];
  locations: { type: 'file'; target: string; rules?: { allow: string[] }[] }[];
}

/** Every template of the installed @backstage/create-app that ships examples/entities.yaml. */
export function createAppExamples(): CreateAppExamples[] {
  const templates = path.join(createApp, 'templates');
  return readdirSync(templates)
    .sort()
    .filter((t) => existsSync(path.join(templates, t, 'examples', 'entities.yaml')))
    .map((t) => {
      const examples = path.join(templates, t, 'examples');
      const files = {
        entities: path.join(examples, 'entities.yaml'),
        org: path.join(examples, 'org.yaml'),
        template: path.join(examples, 'template', 'template.yaml'),
        // The skeleton's descriptor: not a location in create-app's config, read here to see it refused.
        skeleton: path.join(examples, 'template', 'content', 'catalog-info.yaml'),
      };
      return {
        template: t,
        files,
        // templates/default-app/app-config.yaml.hbs, catalog section.
        rules: [{ allow: ['Component', 'System', 'API', 'Resource', 'Location'] }],
        locations: [
          { type: 'file', target: files.entities },
          { type: 'file', target: files.template, rules: [{ allow: ['Template'] }] },
          { type: 'file', target: files.org, rules: [{ allow: ['User', 'Group'] }] },
        ],
      };
    });
}

/**
 * Backstage's rules, one fixture each: an owner that is a User, names like My_Service.v2, a missing owner
 * that must not cascade through domain → system → component → API (the domain's owner a typo of an existing
 * group), a dangling dependsOn, and what Backstage refuses too (a space in a name, no lifecycle, a bad
 * namespace, a 64-character name, a foreign root field). Backstage accepts 8 of the 13.
 */
export const BACKSTAGE_RULE_FIXTURES = `
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane}
spec: {memberOf: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: owned-by-a-person}
spec: {type: service, lifecycle: production, owner: user:jane}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: My_Service.v2}
spec: {type: service, lifecycle: production, owner: user:jane}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: cards-team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: payments}
spec: {owner: group:card-team}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: cards}
spec: {owner: missing-team, domain: payments}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: card-api}
spec: {type: service, lifecycle: production, owner: missing-team, system: cards, providesApis: [card-rest], dependsOn: ['resource:card-db']}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: card-rest}
spec: {type: openapi, lifecycle: production, owner: missing-team, system: cards, definition: "openapi: 3.0.0"}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: Bad Name}
spec: {type: service, lifecycle: production, owner: user:jane}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: no-lifecycle}
spec: {type: service, owner: user:jane}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: other, namespace: Not_A_Namespace}
spec: {type: service, lifecycle: production, owner: user:jane}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ${'n'.repeat(64)}}
spec: {type: service, lifecycle: production, owner: user:jane}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: extra-root}
spec: {type: service, lifecycle: production, owner: user:jane}
extra: field
`;

/**
 * Backstage's placeholders, resolved from files beside the descriptor: `$text` (the file as text), `$json`
 * and `$yaml` (parsed). Backstage resolves them while reading a location, before validation, so only a
 * running catalogue can decide these (catalog-model's validators see the unresolved object).
 */
export const PLACEHOLDER_FIXTURES: Record<string, string> = {
  'placeholders.yaml': `apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: cards-rest}
spec:
  type: openapi
  lifecycle: production
  owner: user:jane
  definition: {$text: ./cards.openapi.yaml}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: cards-web
  labels: {$json: ./labels.json}
spec:
  type: website
  lifecycle: production
  owner: user:jane
  providesApis: {$yaml: ./apis.yaml}
`,
  'cards.openapi.yaml': 'openapi: 3.0.0\ninfo: {title: Cards, version: 1.0.0}\npaths: {}\n',
  'labels.json': '{"team": "cards", "tier": "2"}\n',
  'apis.yaml': '- cards-rest\n',
};
