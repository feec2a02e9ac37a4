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
