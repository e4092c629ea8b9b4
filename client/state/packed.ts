/**
 * A column as the page holds it: every series in one typed array, so a day of one-second
 * columns (86,400) fits in tens of MB instead of the ~4 kB of objects per column the decoded
 * message costs. Rules of the layout (`data`):
 *
 *   [0, 4·n)          per series: metric index (METRICS), device, op index (OPS), end of its entries
 *   [4·n, 4·n + e)    the slots of every series, series after series, ascending within each
 *   [4·n + e, 4·n+2e) the counts, in the same order
 *
 * where n is the number of series and e the number of entries (non-zero counts). The array is the
 * narrowest unsigned type that holds every value exactly: 16 bits for the usual counts, 32 or a
 * double only when a count (or a device id) needs it.
 */
import { METRICS, OPS } from '../../shared/scheme.ts';
import type { Column, ExemplarDrops, Filter, Series } from '../../shared/column.ts';
import { packedColumnAt, type PackedColumns } from '../../shared/protocol.ts';

type Words = Uint16Array | Uint32Array | Float64Array;

const HEADER = 4;

/** The narrowest typed array of this length whose elements hold every integer 0..max exactly. */
export function narrowest(length: number, max: number): Words {
  if (max <= 0xffff) return new Uint16Array(length);
  if (max <= 0xffff_ffff) return new Uint32Array(length);
  return new Float64Array(length);
}

/** A filter resolved to indices, checked once per series rather than per count. */
export interface SeriesFilter {
  readonly metric: number;
  /** null: every device */
  readonly devices: ReadonlySet<number> | null;
  /** null: every op */
  readonly ops: ReadonlySet<number> | null;
}

export function seriesFilter(filter: Filter): SeriesFilter {
  return {
    metric: METRICS.indexOf(filter.metric),
    devices: filter.devices && filter.devices.length > 0 ? new Set(filter.devices) : null,
    ops: filter.ops && filter.ops.length > 0 ? new Set(filter.ops.map((op) => OPS.indexOf(op))) : null,
  };
}

export class PackedColumn implements Column {
  readonly seq: number;
  readonly startMs: number;
  readonly intervalMs: number;
  readonly droppedExemplars?: readonly ExemplarDrops[];
  readonly seriesCount: number;
  readonly data: Words;

  /**
   * Column i of a packed answer (shared/protocol.ts), copied straight from its typed arrays into
   * this layout: one object and one typed array per column, none per series or count.
   */
  static fromPacked(p: PackedColumns, i: number): PackedColumn {
    const firstSeries = i > 0 ? p.seriesEnd[i - 1]! : 0;
    const seriesCount = p.seriesEnd[i]! - firstSeries;
    const firstEntry = firstSeries > 0 ? p.entryEnd[firstSeries - 1]! : 0;
    const entries = (seriesCount > 0 ? p.entryEnd[p.seriesEnd[i]! - 1]! : firstEntry) - firstEntry;
    let max = entries;
    for (let j = firstSeries; j < firstSeries + seriesCount; j++) if (p.device[j]! > max) max = p.device[j]!;
    for (let k = firstEntry; k < firstEntry + entries; k++) if (p.counts[k]! > max) max = p.counts[k]!;
    const data = narrowest(HEADER * seriesCount + 2 * entries, max);
    for (let j = 0; j < seriesCount; j++) {
      data[HEADER * j] = p.metric[firstSeries + j]!;
      data[HEADER * j + 1] = p.device[firstSeries + j]!;
      data[HEADER * j + 2] = p.op[firstSeries + j]!;
      data[HEADER * j + 3] = p.entryEnd[firstSeries + j]! - firstEntry;
    }
    data.set(p.slots.subarray(firstEntry, firstEntry + entries), HEADER * seriesCount);
    data.set(p.counts.subarray(firstEntry, firstEntry + entries), HEADER * seriesCount + entries);
    const dropsFrom = i > 0 ? p.dropEnd[i - 1]! : 0;
    const drops = p.dropEnd[i]! > dropsFrom ? packedColumnAt(p, i).droppedExemplars : undefined;
    return new PackedColumn({ seq: p.seq[i]!, startMs: p.startMs[i]!, intervalMs: p.intervalMs[i]!, ...(drops ? { droppedExemplars: drops } : {}) }, seriesCount, data);
  }

  /** The column in this layout. */
  static of(column: Column): PackedColumn {
    const series = column.series;
    let entries = 0;
    let max = 0;
    for (const s of series) {
      entries += s.slots.length;
      if (s.device > max) max = s.device;
      for (let k = 0; k < s.counts.length; k++) if (s.counts[k]! > max) max = s.counts[k]!;
    }
    // ends and slots are at most entries and SLOTS - 1
    if (entries > max) max = entries;
    const data = narrowest(HEADER * series.length + 2 * entries, max);
    let slotAt = HEADER * series.length;
    let countAt = slotAt + entries;
    series.forEach((s, i) => {
      data[HEADER * i] = METRICS.indexOf(s.metric);
      data[HEADER * i + 1] = s.device;
      data[HEADER * i + 2] = OPS.indexOf(s.op);
      for (let k = 0; k < s.slots.length; k++) {
        data[slotAt++] = s.slots[k]!;
        data[countAt++] = s.counts[k]!;
      }
      data[HEADER * i + 3] = slotAt - HEADER * series.length;
    });
    return new PackedColumn(column, series.length, data);
  }

  constructor(head: Omit<Column, 'series'>, seriesCount: number, data: Words) {
    this.seq = head.seq;
    this.startMs = head.startMs;
    this.intervalMs = head.intervalMs;
    if (head.droppedExemplars) this.droppedExemplars = head.droppedExemplars;
    this.seriesCount = seriesCount;
    this.data = data;
  }

  /** The series as the protocol has them, decoded anew on every read (export and tests read it once). */
  get series(): Series[] {
    const { data, seriesCount } = this;
    const base = HEADER * seriesCount;
    const entries = seriesCount === 0 ? 0 : data[HEADER * seriesCount - 1]!;
    const out: Series[] = [];
    let from = 0;
    for (let i = 0; i < seriesCount; i++) {
      const to = data[HEADER * i + 3]!;
      const slots: number[] = [];
      const counts: number[] = [];
      for (let k = from; k < to; k++) {
        slots.push(data[base + k]!);
        counts.push(data[base + entries + k]!);
      }
      out.push({ metric: METRICS[data[HEADER * i]!]!, device: data[HEADER * i + 1]!, op: OPS[data[HEADER * i + 2]!]!, slots, counts });
      from = to;
    }
    return out;
  }

  /**
   * Adds sign × the counts of every series the filter accepts into each of the histograms that
   * `into` returns for the series' device and op (none: the series is skipped). sign −1 takes a
   * column back out of a sum; counts are integers, so the sums stay exact.
   */
  addTo(filter: SeriesFilter, sign: number, into: (device: number, op: number) => readonly Float64Array[] | null): void {
    const { data, seriesCount } = this;
    const base = HEADER * seriesCount;
    const entries = seriesCount === 0 ? 0 : data[HEADER * seriesCount - 1]!;
    let from = 0;
    for (let i = 0; i < seriesCount; i++) {
      const to = data[HEADER * i + 3]!;
      const device = data[HEADER * i + 1]!;
      const op = data[HEADER * i + 2]!;
      if (data[HEADER * i] === filter.metric && (!filter.devices || filter.devices.has(device)) && (!filter.ops || filter.ops.has(op))) {
        const targets = into(device, op);
        if (targets) {
          for (const histogram of targets) {
            for (let k = from; k < to; k++) histogram[data[base + k]!]! += sign * data[base + entries + k]!;
          }
        }
      }
      from = to;
    }
  }
}
