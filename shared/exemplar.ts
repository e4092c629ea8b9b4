/**
 * An exemplar: one outlier I/O, recorded by the kernel when its latency is above the
 * threshold, with the task that issued it (the task at completion is usually not it).
 * Also which exemplars a region asks for, in which order, and the drops counted for it: pure
 * functions the server's store, its API and the page share.
 */
import { slotOf } from './buckets.ts';
import type { Column } from './column.ts';
import type { Op } from './scheme.ts';

export interface Exemplar {
  /** completion time, unix ms (fractional: microsecond resolution) */
  readonly timeMs: number;
  readonly latencyNs: number;
  readonly bytes: number;
  /** device id, an index into the devices table */
  readonly device: number;
  readonly op: Op;
  /** first sector (512 bytes) of the request; null when it addresses none (a flush) */
  readonly sector: number | null;
  /** the thread group id (the "process id") that issued the I/O, and its command name */
  readonly pid: number;
  readonly comm: string;
}

export interface ExemplarQuery {
  /** unix ms, inclusive */
  readonly fromMs: number;
  /** unix ms, exclusive */
  readonly toMs: number;
  /** latency range in ns, both inclusive */
  readonly latMinNs: number;
  readonly latMaxNs: number;
  /** size range in bytes, both inclusive; absent: every size */
  readonly sizeMinBytes?: number;
  readonly sizeMaxBytes?: number;
  readonly devices?: readonly number[] | null;
  readonly ops?: readonly Op[] | null;
}

export function exemplarMatches(exemplar: Exemplar, query: ExemplarQuery): boolean {
  return (
    exemplar.timeMs >= query.fromMs &&
    exemplar.timeMs < query.toMs &&
    exemplar.latencyNs >= query.latMinNs &&
    exemplar.latencyNs <= query.latMaxNs &&
    exemplar.bytes >= (query.sizeMinBytes ?? 0) &&
    exemplar.bytes <= (query.sizeMaxBytes ?? Infinity) &&
    (!query.devices || query.devices.length === 0 || query.devices.includes(exemplar.device)) &&
    (!query.ops || query.ops.length === 0 || query.ops.includes(exemplar.op))
  );
}

/**
 * Which of a region's exemplars a list holds when there are more than it can show: the slowest
 * (those nearest the top of a latency region), the largest (nearest the top of a size region),
 * the newest or the oldest.
 */
export const EXEMPLAR_ORDERS = ['slowest', 'largest', 'newest', 'oldest'] as const;
export type ExemplarOrder = (typeof EXEMPLAR_ORDERS)[number];
export const DEFAULT_EXEMPLAR_ORDER: ExemplarOrder = 'slowest';

/**
 * Negative when a comes first in the order. Ties go by time (oldest first), then sector, so the
 * order is total and the same however the exemplars arrived.
 */
export function compareExemplars(order: ExemplarOrder, a: Exemplar, b: Exemplar): number {
  const primary = order === 'slowest' ? b.latencyNs - a.latencyNs : order === 'largest' ? b.bytes - a.bytes : order === 'newest' ? b.timeMs - a.timeMs : 0;
  return primary || a.timeMs - b.timeMs || (a.sector ?? -1) - (b.sector ?? -1);
}

/** Where an exemplar goes in a list sorted by the order (after its equals). */
export function insertionPoint(sorted: readonly Exemplar[], exemplar: Exemplar, order: ExemplarOrder): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareExemplars(order, sorted[mid]!, exemplar) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Each order's first key as a number that is larger for those that come first. */
const LEAD: Record<ExemplarOrder, (e: Exemplar) => number> = {
  slowest: (e) => e.latencyNs,
  largest: (e) => e.bytes,
  newest: (e) => e.timeMs,
  oldest: (e) => -e.timeMs,
};

/**
 * The first `limit` exemplars in the order, sorted by it. A region can hold 100,000: the
 * limit-th largest first key (a native sort of numbers) cuts them down before the full
 * comparison sorts what is left.
 */
export function firstInOrder(exemplars: readonly Exemplar[], order: ExemplarOrder, limit: number): Exemplar[] {
  if (limit <= 0) return [];
  let candidates = exemplars;
  if (exemplars.length > limit) {
    const lead = LEAD[order];
    const cut = Float64Array.from(exemplars, lead).sort()[exemplars.length - limit]!;
    candidates = exemplars.filter((e) => lead(e) >= cut);
  }
  return [...candidates].sort((a, b) => compareExemplars(order, a, b)).slice(0, limit);
}

/**
 * Exemplars the kernel could not send (over the per-bucket cap, or the ring full) in these
 * columns, for the query's devices and ops and, for drops that carry their latency bucket, its
 * latency range. Drops carry no size: a size range does not narrow them.
 */
export function droppedIn(columns: readonly Pick<Column, 'startMs' | 'intervalMs' | 'droppedExemplars'>[], query: ExemplarQuery): number {
  const firstSlot = slotOf(query.latMinNs);
  const lastSlot = slotOf(Math.min(query.latMaxNs, Number.MAX_SAFE_INTEGER));
  let dropped = 0;
  for (const column of columns) {
    // most columns drop nothing: the side panels walk a window's columns four times a second
    const drops = column.droppedExemplars;
    if (!drops || column.startMs + column.intervalMs <= query.fromMs || column.startMs >= query.toMs) continue;
    for (const d of drops) {
      if (query.devices && query.devices.length > 0 && !query.devices.includes(d.device)) continue;
      if (query.ops && query.ops.length > 0 && !query.ops.includes(d.op)) continue;
      if (d.slot !== undefined && (d.slot < firstSlot || d.slot > lastSlot)) continue;
      dropped += d.count;
    }
  }
  return dropped;
}
