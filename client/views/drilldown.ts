/**
 * The drill-down's arithmetic, pure: the order of the exemplar table, the per-process
 * breakdown, the cell an exemplar falls in, and the threshold control's text in and out.
 */
import { slotOf } from '../../shared/buckets.ts';
import type { Exemplar, ExemplarOrder } from '../../shared/exemplar.ts';
import type { ExemplarCapture } from '../../shared/protocol.ts';
import type { Metric } from '../../shared/scheme.ts';
import { formatLatency } from '../../shared/view.ts';

export const SORT_KEYS = ['timeMs', 'latencyNs', 'bytes', 'device', 'op', 'pid', 'comm', 'sector'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface Sort {
  readonly key: SortKey;
  readonly descending: boolean;
}

/** Slowest first: the outliers are what the table is for. */
export const DEFAULT_SORT: Sort = { key: 'latencyNs', descending: true };

/** The table's first sort: the order the server chose the listed exemplars by. */
export function sortForOrder(order: ExemplarOrder): Sort {
  if (order === 'largest') return { key: 'bytes', descending: true };
  if (order === 'newest' || order === 'oldest') return { key: 'timeMs', descending: order === 'newest' };
  return DEFAULT_SORT;
}

/** Clicking a header: that column, descending for numbers and ascending for names; clicking it again flips it. */
export function nextSort(sort: Sort, key: SortKey): Sort {
  if (sort.key === key) return { key, descending: !sort.descending };
  return { key, descending: key !== 'comm' && key !== 'op' };
}

/**
 * A sorted copy. Ties go by time, then sector, in the same direction as the sort, so the order
 * is the same however the rows arrived.
 */
export function sortExemplars(exemplars: readonly Exemplar[], sort: Sort): Exemplar[] {
  const sign = sort.descending ? -1 : 1;
  const compare = (a: Exemplar, b: Exemplar): number => {
    // an exemplar without a sector (a flush) sorts before sector 0
    const x = a[sort.key] ?? -1;
    const y = b[sort.key] ?? -1;
    // Names by code unit, not locale: the same order in every browser.
    const primary = typeof x === 'string' || typeof y === 'string' ? (x < y ? -1 : x > y ? 1 : 0) : x - y;
    return sign * (primary || a.timeMs - b.timeMs || (a.sector ?? -1) - (b.sector ?? -1));
  };
  return [...exemplars].sort(compare);
}

export interface ProcessRow {
  readonly comm: string;
  readonly pid: number;
  readonly count: number;
  /** exact latencies (ns) of the process's exemplars, by nearest rank */
  readonly p50Ns: number;
  readonly p99Ns: number;
  readonly maxNs: number;
}

/**
 * Count and latency percentiles per process (comm and pid: a pid is reused, a comm is shared).
 * Exact, from the exemplars' own latencies, by the nearest-rank rule of the bucket statistics
 * (rank = ceil(q × count)), so each value lies in the bucket quantileSlot gives for the same
 * exemplars. Most I/Os first, then the slowest.
 */
export function topProcesses(exemplars: readonly Exemplar[]): ProcessRow[] {
  const groups = new Map<string, { comm: string; pid: number; latencies: number[] }>();
  for (const e of exemplars) {
    const key = `${e.pid}\u0000${e.comm}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { comm: e.comm, pid: e.pid, latencies: [] }));
    group.latencies.push(e.latencyNs);
  }
  const rows: ProcessRow[] = [];
  for (const { comm, pid, latencies } of groups.values()) {
    latencies.sort((a, b) => a - b);
    const rank = (q: number): number => latencies[Math.max(1, Math.ceil(q * latencies.length)) - 1]!;
    rows.push({ comm, pid, count: latencies.length, p50Ns: rank(0.5), p99Ns: rank(0.99), maxNs: latencies[latencies.length - 1]! });
  }
  return rows.sort((a, b) => b.count - a.count || b.maxNs - a.maxNs || a.pid - b.pid);
}

/** The heat-map cell an exemplar was counted in: its column, and its bucket on the metric shown. */
export function exemplarCell(exemplar: Exemplar, intervalMs: number, metric: Metric): { seq: number; slot: number } {
  return { seq: Math.floor(exemplar.timeMs / intervalMs), slot: slotOf(metric === 'latency' ? exemplar.latencyNs : exemplar.bytes) };
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

/**
 * The threshold control's input: "adaptive", or a latency with its unit ("250us", "2 ms", "0").
 * Returns the threshold in ns (null: adaptive), or an error to show.
 */
export function parseThreshold(text: string): { thresholdNs: number | null } | { error: string } {
  const value = text.trim().toLowerCase();
  if (value === 'adaptive' || value === 'p99') return { thresholdNs: null };
  const match = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?$/.exec(value);
  if (!match || (match[2] === undefined && Number(match[1]) !== 0)) {
    return { error: 'a latency with its unit (500us, 2ms, 1s; 0 for every I/O) or "adaptive"' };
  }
  const ns = Math.round(Number(match[1]) * UNIT_NS[match[2] ?? 'ns']!);
  if (!Number.isSafeInteger(ns)) return { error: 'that threshold is too large' };
  return { thresholdNs: ns };
}

/** Which I/Os are captured now (the kernel keeps those with latency >= the threshold). */
export function describeCapture(capture: ExemplarCapture): string {
  if (capture.thresholdNs === null) return 'adaptive: I/Os at or above the recent p99';
  if (capture.thresholdNs === 0) return 'every I/O';
  return `I/Os of ${formatLatency(capture.thresholdNs)} or more`;
}
