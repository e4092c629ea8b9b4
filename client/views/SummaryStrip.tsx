import { memo, useMemo } from 'react';
import { formatCount, formatSlotRange, type RegionStats } from '../../shared/view.ts';
import type { Metric } from '../../shared/scheme.ts';
import type { FrameData } from '../state/model.ts';
import { summaryOf } from './stats.ts';

const FIELDS = ['min', 'p50', 'p90', 'p99', 'max'] as const;

/**
 * count, min, p50, p90, p99, max as a definition list; each value is its bucket's range. The
 * side panels follow a moving view four times a second, where mostly the count changes: a
 * statistic is rendered again only when its bucket does.
 */
export function StatsList({ stats, metric, className }: { stats: RegionStats; metric: Metric; className?: string }) {
  return (
    <dl className={className}>
      <div>
        <dt>count</dt>
        <dd data-stat="count">{formatCount(stats.count)}</dd>
      </div>
      {FIELDS.map((field) => (
        <SlotStat key={field} field={field} slot={stats[field]} metric={metric} />
      ))}
    </dl>
  );
}

const SlotStat = memo(function SlotStat({ field, slot, metric }: { field: (typeof FIELDS)[number]; slot: number; metric: Metric }) {
  return (
    <div>
      <dt>{field}</dt>
      <dd data-stat={field} data-slot={slot}>
        {formatSlotRange(metric, slot)}
      </dd>
    </div>
  );
});

/** `frame`: the snapshot's panel frame (it follows a moving view a few times a second); rendered only when it changes. */
export const SummaryStrip = memo(function SummaryStrip({ frame }: { frame: FrameData | null }) {
  const stats = useMemo(() => (frame ? summaryOf(frame) : null), [frame]);
  if (!frame || !stats) return <div className="summary" />;
  return (
    <section className="summary" aria-label="Summary of the visible time range">
      <h2>Visible range</h2>
      <StatsList stats={stats} metric={frame.view.filter.metric} className="stats-inline" />
    </section>
  );
});
