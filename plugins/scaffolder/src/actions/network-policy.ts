/**
 * A callee's ingress policy, re-rendered to admit a new caller: when `text` holds a scaffolder-managed
 * ingress NetworkPolicy, the caller's pod name joins its `app.kubernetes.io/name In […]` rule (sorted,
 * once), or a rule is added; comments and the rest of the file stay. Undefined when not ours to change.
 */
import { parseAllDocuments } from 'yaml';

interface MatchExpression {
  key?: string;
  operator?: string;
  values?: string[];
}
interface PolicyDoc {
  kind?: string;
  metadata?: { labels?: Record<string, string> };
  spec?: {
    policyTypes?: string[];
    ingress?: { from?: { podSelector?: { matchExpressions?: MatchExpression[] } }[] }[];
  };
}

export function admitCaller(text: string, callerId: string): string | undefined {
  const docs = parseAllDocuments(text, { merge: false, uniqueKeys: true });
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return undefined;
  let changed = false;
  const isName = (e: MatchExpression) => e.key === 'app.kubernetes.io/name';
  for (const doc of docs) {
    const o = doc.toJS({ maxAliasCount: 10 }) as PolicyDoc | null;
    if (
      o?.kind !== 'NetworkPolicy' ||
      o.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'portal-scaffolder'
    )
      continue;
    const ingress = o.spec?.ingress;
    if (!o.spec?.policyTypes?.includes('Ingress') || !Array.isArray(ingress)) continue;
    const at = ingress.findIndex((r) =>
      (r.from ?? []).some((p) =>
        (p.podSelector?.matchExpressions ?? []).some((e) => isName(e) && e.operator === 'In'),
      ),
    );
    if (at === -1) {
      const seq = doc.getIn(['spec', 'ingress']) as { items: unknown[] };
      seq.items.unshift(
        doc.createNode({
          from: [
            {
              podSelector: {
                matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: [callerId] }],
              },
            },
          ],
          ports: [{ port: 'http', protocol: 'TCP' }],
        }),
      );
      changed = true;
      continue;
    }
    const from = ingress[at].from ?? [];
    const pi = from.findIndex((p) => (p.podSelector?.matchExpressions ?? []).some(isName));
    const expressions = from[pi].podSelector?.matchExpressions ?? [];
    const ei = expressions.findIndex(isName);
    const path = ['spec', 'ingress', at, 'from', pi, 'podSelector', 'matchExpressions', ei, 'values'];
    const values = expressions[ei].values ?? [];
    if (values.includes(callerId)) continue;
    doc.setIn(path, doc.createNode([...values, callerId].sort()));
    changed = true;
  }
  if (!changed) return undefined;
  return docs.map((d) => d.toString({ lineWidth: 0, flowCollectionPadding: false })).join('');
}
