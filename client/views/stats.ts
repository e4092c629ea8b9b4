/**
 * Statistics of what is on screen, for the summary strip and the selection panel: bucket
 * statistics (each within one bucket of the truth) from the frame's summed histograms, which
 * the model keeps up to date column by column (client/state/rollup.ts), so none of this walks
 * the columns in view.
 */
import { OPS, type Op } from '../../shared/scheme.ts';
import { regionStats, slotsIn, type RegionStats } from '../../shared/view.ts';
import type { FrameData } from '../state/model.ts';

/** The whole visible time range, every bucket. */
export function summaryOf(frame: FrameData): RegionStats {
  return regionStats(frame.sums.total);
}

/** The visible region: time range × value range. */
export function regionOf(frame: FrameData): RegionStats {
  const { first, last } = slotsIn(frame.yRange[0], frame.yRange[1]);
  return regionStats(frame.sums.total, first, last);
}

export interface Breakdown {
  readonly byDevice: { readonly id: number; readonly stats: RegionStats }[];
  readonly byOp: { readonly op: Op; readonly stats: RegionStats }[];
}

/** The region's statistics per device and per operation; most I/Os first, ties by device id and op order. */
export function breakdownOf(frame: FrameData): Breakdown {
  const { first, last } = slotsIn(frame.yRange[0], frame.yRange[1]);
  const stats = (h: Float64Array): RegionStats => regionStats(h, first, last);
  return {
    byDevice: [...frame.sums.byDevice]
      .map(([id, h]) => ({ id, stats: stats(h) }))
      .filter((d) => d.stats.count > 0)
      .sort((a, b) => b.stats.count - a.stats.count || a.id - b.id),
    byOp: [...frame.sums.byOp]
      .map(([op, h]) => ({ op, stats: stats(h) }))
      .filter((d) => d.stats.count > 0)
      .sort((a, b) => b.stats.count - a.stats.count || OPS.indexOf(a.op) - OPS.indexOf(b.op)),
  };
}
