/**
 * How long the graph explorer's views take to build and lay out, per estate size.
 *
 *   npx tsx bench/ui/layout.ts [--services 350,3500,35000] [--seed 42] [--runs 3]
 *
 * For each size: the generated estate (bench/estate) as entities, the graph index, the explorer's estate
 * graph (what GET /api/explorer/estate sends), then for each view: buildGraphView (lib/graph-model.ts) and
 * the layered layout (layoutView, lib/graph-layout.ts), the same code the browser runs. Canvas aspect 1.6
 * (the explorer at 1440×900). Prints JSON on stdout (medians of `runs`); progress on stderr.
 */
import { parseArgs } from 'node:util';
import { buildGraphIndex } from '@bank/graph';
import { buildEstateGraph } from '@bank/plugin-explorer';
import { buildGraphView, type GraphViewState, layoutView } from '../../portal/lib/graph-model.ts';
import { generateEstate } from '../estate/generate.ts';
import { estateEntities } from '../graph/estate-entities.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '350,3500,35000' },
    seed: { type: 'string', default: '42' },
    runs: { type: 'string', default: '3' },
  },
});
const sizes = (values.services ?? '').split(',').map(Number);
const runs = Number(values.runs);
const log = (m: string) => process.stderr.write(`${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const base: GraphViewState = {
  focus: '',
  depth: 1,
  group: 'collective',
  tier: [],
  team: '',
  edges: 'any',
  resources: false,
};
const VIEWS: Record<string, Partial<GraphViewState>> = {
  overview: {},
  'team squad ledger': { team: 'group:default/ledger' },
  'team collective core-banking': { team: 'group:default/core-banking' },
  'focus ledger, 1 hop': { focus: 'ledger', depth: 1 },
  'focus ledger, 2 hops': { focus: 'ledger', depth: 2 },
  'focus card-api, 2 hops': { focus: 'card-api', depth: 2 },
  'focus ledger, 4 hops': { focus: 'ledger', depth: 4 },
};

const results = [];
for (const services of sizes) {
  log(`${services} services: generating and indexing …`);
  const index = buildGraphIndex(estateEntities(generateEstate({ services, seed: Number(values.seed) })));
  const graph = buildEstateGraph(index);
  const views = [];
  for (const [name, patch] of Object.entries(VIEWS)) {
    const model: number[] = [];
    const layout: number[] = [];
    let shape = { nodes: 0, edges: 0 };
    for (let r = 0; r < runs; r++) {
      let t = performance.now();
      const view = buildGraphView(graph, { ...base, ...patch });
      model.push(performance.now() - t);
      t = performance.now();
      layoutView(view, 1.6);
      layout.push(performance.now() - t);
      shape = { nodes: view.nodes.length, edges: view.edges.length };
    }
    const row = {
      view: name,
      ...shape,
      modelMs: Math.round(median(model)),
      layoutMs: Math.round(median(layout)),
    };
    log(`  ${JSON.stringify(row)}`);
    views.push(row);
  }
  results.push({ services, entities: graph.nodes.length, callEdges: graph.edges.length / 3, views });
}
process.stdout.write(`${JSON.stringify({ runs, aspect: 1.6, results }, null, 2)}\n`);
