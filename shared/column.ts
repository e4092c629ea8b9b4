/**
 * A column: every count of one interval, sparse, per (metric, device, op).
 * Columns are aligned to wall-clock multiples of their interval, so seq = startMs / intervalMs
 * names a column uniquely and "the column after" is seq + 1.
 */
import { SLOTS, type Metric, type Op } from './scheme.ts';
import { slotBounds } from './buckets.ts';

export type SourceKind = 'bpf' | 'synthetic' | 'replay' | 'import' | 'prometheus';

export interface Series {
  readonly metric: Metric;
  /** device id, an index into Dimensions.devices */
  readonly device: number;
  readonly op: Op;
  /** ascending slot numbers with a non-zero count */
  readonly slots: readonly number[];
  /** counts[k] belongs to slots[k]; every count > 0 */
  readonly counts: readonly number[];
}

/** A count of one device and op within a column. */
export interface DeviceOpCount {
  readonly device: number;
  readonly op: Op;
  readonly count: number;
}

export interface ExemplarDrops extends DeviceOpCount {
  /** the latency slot of the dropped I/Os; absent in recordings made before drops were kept per bucket (then: at any latency) */
  readonly slot?: number;
}

export interface Column {
  readonly seq: number;
  readonly startMs: number;
  readonly intervalMs: number;
  readonly series: readonly Series[];
  /** outlier I/Os of this column the kernel could not send (rate cap or full ring); absent when none */
  readonly droppedExemplars?: readonly ExemplarDrops[];
  /** completions the kernel accounted in its I/O statistics that no program saw; absent when none */
  readonly unseen?: readonly DeviceOpCount[];
}

/** A column from its parts, carrying each per-device count list only when it is not empty. */
export function columnWith(
  head: Pick<Column, 'seq' | 'startMs' | 'intervalMs' | 'series'>,
  droppedExemplars: readonly ExemplarDrops[],
  unseen: readonly DeviceOpCount[],
): Column {
  return { ...head, ...(droppedExemplars.length > 0 ? { droppedExemplars } : {}), ...(unseen.length > 0 ? { unseen } : {}) };
}

export interface DeviceInfo {
  readonly id: number;
  readonly name: string;
  /**
   * the devices this one sends its I/O on to, by name: a dm device's slaves, a loop device's
   * backing file's disk. Its I/Os are counted again there. Absent when none (or not known).
   */
  readonly stackedOn?: readonly string[];
  /**
   * the machine it belongs to, where hosts are read apart (--source prometheus with --text or
   * --jsonl, each host's devices apart); absent: the source's own host. Never sent to a page: the
   * dashboard reads a fleet's sum, and a page narrowed to hosts gets their sum (hostViews.ts).
   */
  readonly host?: string;
}

/** Which part of a column to look at; null or empty device/op lists mean all. */
export interface Filter {
  readonly metric: Metric;
  readonly devices?: readonly number[] | null;
  readonly ops?: readonly Op[] | null;
}


/** Whether a filter's devices and ops (none listed: all) take a device's op. */
export function selects(filter: Omit<Filter, 'metric'>, device: number, op: Op): boolean {
  if (filter.devices && filter.devices.length > 0 && !filter.devices.includes(device)) return false;
  return !(filter.ops && filter.ops.length > 0 && !filter.ops.includes(op));
}

/** Whether a filter takes the series of a metric, device and op. */
export function takesSeries(filter: Filter, metric: Metric, device: number, op: Op): boolean {
  return metric === filter.metric && selects(filter, device, op);
}

/** The column's histogram under a filter: one count per slot, summed over the matching series. */
export function histogramOf(column: Column, filter: Filter): Float64Array {
  const histogram = new Float64Array(SLOTS);
  for (const series of column.series) {
    if (!takesSeries(filter, series.metric, series.device, series.op)) continue;
    for (let k = 0; k < series.slots.length; k++) histogram[series.slots[k]!]! += series.counts[k]!;
  }
  return histogram;
}

/** Completions the kernel accounted in a column on the filter's devices and ops that no program saw. */
export function unseenOf(column: Pick<Column, 'unseen'>, filter: Omit<Filter, 'metric'>): number {
  let unseen = 0;
  for (const u of column.unseen ?? []) if (selects(filter, u.device, u.op)) unseen += u.count;
  return unseen;
}

export function histogramTotal(histogram: ArrayLike<number>): number {
  let total = 0;
  for (let slot = 0; slot < histogram.length; slot++) total += histogram[slot]!;
  return total;
}

/** Non-empty buckets as [lower, upper, count] with integer bounds (lower exclusive, upper inclusive; null = unbounded). */
export function bucketList(histogram: ArrayLike<number>): [number, number | null, number][] {
  const buckets: [number, number | null, number][] = [];
  for (let slot = 0; slot < histogram.length; slot++) {
    const count = histogram[slot]!;
    if (count === 0) continue;
    const { lower, upper } = slotBounds(slot);
    buckets.push([lower, Number.isFinite(upper) ? upper : null, count]);
  }
  return buckets;
}

/**
 * The slot holding the q-quantile (0 < q <= 1) of a histogram, or -1 when it is empty.
 * The true quantile lies inside that slot's bounds: the error is at most one bucket.
 */
export function quantileSlot(histogram: ArrayLike<number>, q: number): number {
  const total = histogramTotal(histogram);
  if (total === 0) return -1;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let slot = 0; slot < histogram.length; slot++) {
    seen += histogram[slot]!;
    if (seen >= rank) return slot;
  }
  return histogram.length - 1;
}
