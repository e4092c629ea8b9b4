/**
 * Statistics of what is on screen, for the summary strip and the selection panel: bucket
 * statistics (each within one bucket of the truth) from the frame's histograms.
 */
import { SLOTS, type Op } from '../../shared/scheme.ts';
import type { Column, Filter } from '../../shared/column.ts';
import { regionHistogram, regionStats, slotsIn, type RegionStats } from '../../shared/view.ts';
import type { FrameData } from '../state/model.ts';

/** The whole visible time range, every bucket. */
export function summaryOf(frame: FrameData): RegionStats {
  return regionStats(regionHistogram(frame.histograms));
}

/** The visible region: time range × value range. */
export function regionOf(frame: FrameData): RegionStats {
  const { first, last } = slotsIn(frame.yRange[0], frame.yRange[1]);
  return regionStats(regionHistogram(frame.histograms, first, last));
}

export interface Breakdown {
  readonly byDevice: { readonly id: number; readonly stats: RegionStats }[];
  readonly byOp: { readonly op: Op; readonly stats: RegionStats }[];
}

function accepts(filter: Filter, device: number, op: Op): boolean {
  if (filter.devices && filter.devices.length > 0 && !filter.devices.includes(device)) return false;
  if (filter.ops && filter.ops.length > 0 && !filter.ops.includes(op)) return false;
  return true;
}

/** The region's statistics per device and per operation, from the columns' series. */
export function breakdownOf(columns: readonly Column[], filter: Filter, yRange: readonly [number, number]): Breakdown {
  const { first, last } = slotsIn(yRange[0], yRange[1]);
  const devices = new Map<number, Float64Array>();
  const ops = new Map<Op, Float64Array>();
  const into = <K,>(map: Map<K, Float64Array>, key: K): Float64Array => {
    let h = map.get(key);
    if (!h) map.set(key, (h = new Float64Array(SLOTS)));
    return h;
  };
  for (const column of columns) {
    for (const s of column.series) {
      if (s.metric !== filter.metric || !accepts(filter, s.device, s.op)) continue;
      const byDevice = into(devices, s.device);
      const byOp = into(ops, s.op);
      for (let k = 0; k < s.slots.length; k++) {
        const slot = s.slots[k]!;
        if (slot < first || slot > last) continue;
        byDevice[slot]! += s.counts[k]!;
        byOp[slot]! += s.counts[k]!;
      }
    }
  }
  return {
    byDevice: [...devices].map(([id, h]) => ({ id, stats: regionStats(h) })).filter((d) => d.stats.count > 0).sort((a, b) => b.stats.count - a.stats.count),
    byOp: [...ops].map(([op, h]) => ({ op, stats: regionStats(h) })).filter((d) => d.stats.count > 0).sort((a, b) => b.stats.count - a.stats.count),
  };
}
