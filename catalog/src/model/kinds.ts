import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Entity, entityKindSchemaValidator, type KindValidator } from '@backstage/catalog-model';

/**
 * Kinds from modules: what a Backstage catalog module does with `addEntityKindValidator` / a processor's
 * `validateEntityKind`. A module names a kind, the apiVersions it answers for, and a JSON schema (draft-07,
 * written against catalog-model's `Entity` base schema as Backstage's own kinds are); the schema is compiled
 * by catalog-model's own `entityKindSchemaValidator`, so error wording and behaviour are Backstage's.
 * Schemas are data, never code read from a catalogue file.
 */
export interface CatalogKindModule {
  /** The kind as written in descriptors, e.g. `Template`. */
  kind: string;
  /** The JSON schema (an object with `$id`), typically `allOf: [{ $ref: 'Entity' }, …]`. */
  schema: object;
  /** Where the schema comes from, shown when the kind is listed. */
  source: string;
}

interface RegisteredKind extends CatalogKindModule {
  validator: KindValidator;
}

const registered = new Map<string, RegisteredKind>();

/** Register an extra kind; registering the same kind again replaces it (a module reloaded). */
export function registerKind(module: CatalogKindModule): void {
  if (typeof module.kind !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(module.kind)) {
    throw new Error(
      `A kind module needs a kind name of letters and digits, e.g. Template (got "${module.kind}")`,
    );
  }
  // Compiled (ajv, a few hundred milliseconds for Template's schema) when the first entity is checked, not
  // at registration: a process that reads no entity of the kind, or none at all, never pays for it.
  let validate: ((data: Entity) => Entity | false) | undefined;
  registered.set(module.kind.toLowerCase(), {
    ...module,
    // As scaffolder-common's templateEntityV1beta3Validator: another kind or apiVersion → false.
    validator: {
      check: async (data: Entity) => {
        validate ??= entityKindSchemaValidator(
          module.schema as Parameters<typeof entityKindSchemaValidator>[0],
        ) as (data: Entity) => Entity | false;
        return validate(data) === data;
      },
    },
  });
}

/** Remove a registered kind (tests, or a module switched off). */
export function unregisterKind(kind: string): boolean {
  return registered.delete(kind.toLowerCase());
}

/** The kinds modules have registered, in registration order. */
export function registeredKinds(): readonly CatalogKindModule[] {
  return [...registered.values()].map(({ kind, schema, source }) => ({ kind, schema, source }));
}

export function registeredKindValidator(kind: string): KindValidator | undefined {
  return registered.get(kind.toLowerCase())?.validator;
}

/**
 * Backstage's `Template` kind (scaffolder.backstage.io/v1beta3), with the schema that
 * `@backstage/plugin-scaffolder-common` ships (dist/Template.v1beta3.schema.json.*; the package exports only
 * a validator built from it, so the file is read from the installed package). This is what Backstage's
 * scaffolder catalog module registers, so templates can live in the catalogue.
 */
export function templateKindModule(): CatalogKindModule {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve('@backstage/plugin-scaffolder-common/package.json'));
  const file = path.join(dir, 'dist', 'Template.v1beta3.schema.json.cjs.js');
  // The file is ESM-interop CommonJS built from a JSON file: load it as a module, never evaluate user text.
  const mod = require(file) as { default?: object } & object;
  const schema = (mod.default ?? mod) as object;
  const version = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version as string;
  return { kind: 'Template', schema, source: `@backstage/plugin-scaffolder-common ${version}` };
}

/** The modules the portal registers unless told otherwise (PORTAL_CATALOG_KINDS). */
export const BUILT_IN_KIND_MODULES: Record<string, () => CatalogKindModule> = {
  template: templateKindModule,
};

/**
 * Register the built-in kind modules named in `names` (PORTAL_CATALOG_KINDS, comma-separated; default
 * `template`; `none` for none). Unknown names are an error naming the known ones.
 */
export function registerBuiltInKinds(names: string | undefined = process.env.PORTAL_CATALOG_KINDS): string[] {
  const wanted = (names ?? 'template')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s && s !== 'none');
  for (const name of wanted) {
    const make = BUILT_IN_KIND_MODULES[name];
    if (!make) {
      throw new Error(
        `PORTAL_CATALOG_KINDS: unknown kind module "${name}"; known: ${Object.keys(BUILT_IN_KIND_MODULES).join(', ')} (or none)`,
      );
    }
    registerKind(make());
  }
  return wanted;
}

let builtIns: Error | true | undefined;

/** Registers the built-in kind modules once, on first validation; a bad PORTAL_CATALOG_KINDS is thrown each time. */
export function ensureBuiltInKinds(): void {
  if (builtIns === undefined) {
    try {
      registerBuiltInKinds();
      builtIns = true;
    } catch (err) {
      builtIns = err instanceof Error ? err : new Error(String(err));
    }
  }
  if (builtIns instanceof Error) throw builtIns;
}
