import { shortName } from '../../lib/refs.ts';

/** Calls from the row team's services to the column team's services; darker = more. */
export function CouplingMatrix({
  teams,
  pairs,
}: {
  teams: { ref: string; title: string }[];
  pairs: { from: string; to: string; calls: number }[];
}) {
  const index = new Map(teams.map((t, i) => [t.ref, i]));
  const cells = new Map<string, number>();
  let max = 1;
  for (const p of pairs) {
    if (!index.has(p.from) || !index.has(p.to)) continue;
    cells.set(`${p.from}>${p.to}`, p.calls);
    max = Math.max(max, p.calls);
  }
  return (
    <table className="matrix" aria-label="Calls from row team to column team">
      <thead>
        <tr>
          <th scope="col">
            <span className="sr-only">caller \ callee</span>
          </th>
          {teams.map((t) => (
            <th key={t.ref} scope="col" className="col" title={t.ref}>
              {t.title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {teams.map((row) => (
          <tr key={row.ref}>
            <th scope="row" style={{ textAlign: 'right' }} title={row.ref}>
              {row.title}
            </th>
            {teams.map((col) => {
              const n = cells.get(`${row.ref}>${col.ref}`) ?? 0;
              const alpha = n === 0 ? 0 : 0.12 + 0.78 * (n / max);
              return (
                <td
                  key={col.ref}
                  title={`${shortName(row.ref)} → ${shortName(col.ref)}: ${n} calls`}
                  style={{
                    background:
                      row.ref === col.ref
                        ? 'var(--surface-2)'
                        : `color-mix(in srgb, var(--brand) ${Math.round(alpha * 100)}%, transparent)`,
                    color: alpha > 0.55 ? 'var(--brand-ink)' : undefined,
                  }}
                >
                  {n || ''}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
