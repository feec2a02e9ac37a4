// Node module hooks for the tests, doing what the bundler of a Backstage app does with Backstage's ESM
// builds (core-components, catalog-react…), which Node would otherwise load differently:
// - images and styles imported as modules (core-components imports .svg files) become their file URL;
// - a CommonJS module compiled from ESM (`__esModule`, e.g. `import Card from '@material-ui/core/Card'`)
//   gives its `default` export as the default import, not the whole exports object;
// - lodash, whose named exports Node cannot detect statically, is served with one named export per key.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ASSET = /\.(svg|png|jpe?g|gif|webp|css|woff2?)$/i;
const LODASH = /\/node_modules\/lodash\/lodash\.js$/;
const ORIGINAL = 'cjs-original';

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || url.endsWith(`?${ORIGINAL}`)) return nextLoad(url, context);
  const file = fileURLToPath(url);
  if (ASSET.test(file)) {
    return { format: 'module', source: `export default ${JSON.stringify(url)};`, shortCircuit: true };
  }
  if (LODASH.test(file)) {
    const names = Object.keys(createRequire(url)(file)).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k));
    const source = [
      `import { createRequire } from 'node:module';`,
      `const m = createRequire(${JSON.stringify(url)})(${JSON.stringify(file)});`,
      'export default m;',
      ...names.map((n) => `export const ${n} = m[${JSON.stringify(n)}];`),
    ].join('\n');
    return { format: 'module', source, shortCircuit: true };
  }
  const result = await nextLoad(url, context);
  if (result.format !== 'commonjs' || !file.includes('/node_modules/')) return result;
  const original = JSON.stringify(`${url}?${ORIGINAL}`);
  const source = [
    `import m from ${original};`,
    `export * from ${original};`,
    'export default m !== null && typeof m === "object" && m.__esModule && "default" in m ? m.default : m;',
  ].join('\n');
  return { format: 'module', source, shortCircuit: true };
}
