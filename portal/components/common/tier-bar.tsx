/** Services per tier as one stacked bar, with the numbers in its label for screen readers. */
export function TierBar({ byTier, width = 140 }: { byTier: Record<string, number>; width?: number }) {
  const keys = ['1', '2', '3', '4', 'unknown'];
  const total = keys.reduce((n, k) => n + (byTier[k] ?? 0), 0);
  const label = keys
    .filter((k) => byTier[k])
    .map((k) => `${k === 'unknown' ? 'no tier' : `tier ${k}`}: ${byTier[k]}`)
    .join(', ');
  return (
    <div
      className="bar"
      style={{ width }}
      role="img"
      aria-label={label || 'no services'}
      title={label || 'no services'}
    >
      {total > 0 &&
        keys.map((k) =>
          byTier[k] ? (
            <span
              key={k}
              className={k === 'unknown' ? 'tu' : `t${k}`}
              style={{ width: `${(100 * byTier[k]) / total}%` }}
            />
          ) : null,
        )}
    </div>
  );
}

/** What the bars' colours mean, shown beside every table of them (tier 4 and "no tier" share a colour). */
export function TierLegend() {
  return (
    <div className="legend" data-testid="tier-legend" role="note" aria-label="Tier colours">
      <span>
        <i style={{ background: 'var(--tier1)' }} aria-hidden="true" />
        tier 1: money moves through it
      </span>
      <span>
        <i style={{ background: 'var(--tier2)' }} aria-hidden="true" />
        tier 2
      </span>
      <span>
        <i style={{ background: 'var(--tier3)' }} aria-hidden="true" />
        tier 3
      </span>
      <span>
        <i style={{ background: 'var(--tier4)' }} aria-hidden="true" />
        tier 4 or none
      </span>
    </div>
  );
}
