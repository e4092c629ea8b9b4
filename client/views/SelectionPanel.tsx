import { memo, useMemo, type ReactNode } from 'react';
import type { Metric } from '../../shared/scheme.ts';
import { formatCount, formatDateTime, formatSlotRange, formatValue, type RegionStats } from '../../shared/view.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import type { AppModel, FrameData, Snapshot } from '../state/model.ts';
import { StatsList } from './SummaryStrip.tsx';
import { Exemplars } from './Exemplars.tsx';
import { breakdownOf, regionOf } from './stats.ts';

/**
 * Statistics of the current (zoomed) region, how its I/Os split by device and operation, and
 * the drill-down to the outlier I/Os and processes behind them.
 */
export interface SelectionPanelProps {
  readonly model: AppModel;
  /** the snapshot's panel frame, which follows a moving view a few times a second */
  readonly frame: FrameData | null;
  readonly meta: Snapshot['meta'];
  readonly state: Snapshot['state'];
  readonly exemplars: Snapshot['exemplars'];
  readonly onHighlight: (exemplar: Exemplar | null) => void;
}

/** Rendered only when one of its props changes: not on every frame of a scrolling view. */
export const SelectionPanel = memo(function SelectionPanel({ model, frame, meta, state, exemplars, onHighlight }: SelectionPanelProps) {
  const region = useMemo(() => (frame ? regionOf(frame) : null), [frame]);
  // Exemplars are asked for by the region's cells, on the axis of either metric.
  const held = region?.count ?? 0;
  const breakdown = useMemo(() => (frame ? breakdownOf(frame) : null), [frame]);
  if (!frame || !region || !breakdown) return <SelectionBox />;
  const metric = frame.view.filter.metric;
  const deviceName = (id: number): string => meta?.devices.find((d) => d.id === id)?.name ?? `dev${id}`;
  return (
    <SelectionBox>
      <h2>{state.stack.length > 0 ? 'Zoomed region' : 'Whole view'}</h2>
      <p className="muted">
        {formatDateTime(frame.view.fromMs, frame.view.utcOffsetMin)} + {((frame.view.toMs - frame.view.fromMs) / 1000).toFixed(1)} s
        <br />
        {formatValue(metric, frame.yRange[0])} – {formatValue(metric, frame.yRange[1])}
      </p>
      <StatsList stats={region} metric={metric} className="stats-block" />
      {state.stack.length === 0 && <p className="hint">Drag a rectangle on the heat map to zoom into a region.</p>}
      <h3>By device</h3>
      <BreakdownTable rows={breakdown.byDevice.map((d) => ({ key: deviceName(d.id), stats: d.stats }))} metric={metric} />
      <h3>By operation</h3>
      <BreakdownTable rows={breakdown.byOp.map((d) => ({ key: d.op, stats: d.stats }))} metric={metric} />
      <Exemplars model={model} frame={frame} meta={meta} exemplars={exemplars} held={held} onHighlight={onHighlight} />
    </SelectionBox>
  );
});

/**
 * The panel's box, sized by the page's grid, and its content in an absolutely placed box of the
 * same size: the browser lays out what changes inside it (four times a second while the view
 * moves) without laying out the page (a grid item is not a layout boundary; this inner box is).
 */
function SelectionBox({ children }: { children?: ReactNode }) {
  return (
    <aside className="selection" aria-label="Selection">
      <div className="selection-body">{children}</div>
    </aside>
  );
}

function BreakdownTable({ rows, metric }: { rows: { key: string; stats: RegionStats }[]; metric: Metric }) {
  if (rows.length === 0) return <p className="muted">no I/O in this region</p>;
  return (
    <table className="breakdown">
      <BreakdownHead />
      <tbody>
        {rows.map(({ key, stats }) => (
          <BreakdownRow key={key} name={key} count={stats.count} p50={stats.p50} p99={stats.p99} metric={metric} />
        ))}
      </tbody>
    </table>
  );
}

/** The tables' head: the same always, so rendered once, not with the panel's every update. */
const BreakdownHead = memo(function BreakdownHead() {
  return (
    <thead>
      <tr>
        <th scope="col" />
        <th scope="col">count</th>
        <th scope="col">p50</th>
        <th scope="col">p99</th>
      </tr>
    </thead>
  );
});

/** One row, rendered again only when one of its figures changed (the panel follows a moving view four times a second). */
const BreakdownRow = memo(function BreakdownRow({ name, count, p50, p99, metric }: { name: string; count: number; p50: number; p99: number; metric: Metric }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td>{formatCount(count)}</td>
      <td title={formatSlotRange(metric, p50)}>≤ {upper(metric, p50)}</td>
      <td title={formatSlotRange(metric, p99)}>≤ {upper(metric, p99)}</td>
    </tr>
  );
});

/** The upper bound of a statistic's bucket: the statement that is certainly true. */
function upper(metric: Metric, slot: number): string {
  const range = formatSlotRange(metric, slot);
  const dash = range.lastIndexOf('– ');
  return dash >= 0 ? range.slice(dash + 2) : range;
}
