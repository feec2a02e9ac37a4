// Loads Prisma's schema engine compiled to WebAssembly (@prisma/schema-engine-wasm) and opens it on a driver
// adapter. The native engine cannot be downloaded here; the wasm build has the same RPCs.
//
// Node 20 cannot `import` a .wasm file as ESM, and the package's entry point does exactly that. So we import
// only the JS glue (`schema_engine_bg.js`), instantiate the .wasm beside it by hand and hand the instance to
// the glue. The package's package.json is not in its exports map, so the .wasm is located relative to the
// glue module, which is.
import { readFile } from 'node:fs/promises';
import type { ErrorCapturingSqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

type Glue = typeof import('@prisma/schema-engine-wasm/schema_engine_bg') & {
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
};

let loading: Promise<Glue> | undefined;

function loadGlue(): Promise<Glue> {
  loading ??= (async () => {
    const glueUrl = import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const glue = (await import(glueUrl)) as Glue;
    const bytes = await readFile(new URL('./schema_engine_bg.wasm', glueUrl));
    // The glue exports every import the wasm module needs, under the module name it was built with.
    const imports: WebAssembly.ModuleImports = { ...(glue as unknown as WebAssembly.ModuleImports) };
    // The engine arms 10 s timers (e.g. around PostgreSQL's advisory lock) that it never clears: with a
    // plain setTimeout the process would linger ~10 s after every PG command. Unref'd, they still fire
    // while the process is busy but never keep it alive.
    for (const name of Object.keys(imports).filter((n) => n.startsWith('__wbg_setTimeout_'))) {
      imports[name] = (fn: () => void, ms: number) => setTimeout(fn, ms >>> 0).unref();
    }
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': imports });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return loading;
}

export type { SchemaEngine };

/** Opens the engine on `schemaPath` (its datamodel) and a migration-aware adapter factory. */
export async function openEngine(
  schemaPath: string,
  schema: string,
  adapterFactory: ErrorCapturingSqlMigrationAwareDriverAdapterFactory,
): Promise<SchemaEngine> {
  const glue = await loadGlue();
  const log = (message: string) => {
    if (process.env.DEBUG_MIGRATE) process.stderr.write(`[schema-engine] ${message.trimEnd()}\n`);
  };
  const engine = await glue.SchemaEngine.new({ datamodels: [[schemaPath, schema]] }, log, adapterFactory);
  return process.env.DEBUG_MIGRATE ? timed(engine) : engine;
}

/** With DEBUG_MIGRATE set, logs how long each engine call takes. */
function timed(engine: SchemaEngine): SchemaEngine {
  return new Proxy(engine, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const started = performance.now();
        const out = value.apply(target, args);
        const done = () =>
          process.stderr.write(`[migrate] ${String(prop)}: ${Math.round(performance.now() - started)} ms\n`);
        if (out instanceof Promise) out.then(done, done);
        return out;
      };
    },
  });
}

export async function engineVersion(): Promise<string> {
  return (await loadGlue()).version();
}
