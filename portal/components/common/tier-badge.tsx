const LABEL: Record<string, string> = { '1': 'Tier 1', '2': 'Tier 2', '3': 'Tier 3', '4': 'Tier 4' };

export function TierBadge({ tier }: { tier: string | number | null | undefined }) {
  if (tier === null || tier === undefined || tier === '') return null;
  const t = String(tier);
  const known = LABEL[t];
  return (
    <span
      className={`badge tier ${known ? `tier-${t}` : ''}`}
      title={known ? `${known} service` : `Tier ${t}`}
    >
      T{t}
    </span>
  );
}
