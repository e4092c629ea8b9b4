/**
 * The terminal histogram in bitehist/biolatency's layout ("usecs : count distribution"
 * with a bar of stars), over our 8-buckets-per-octave slots or, with --log2, over powers of
 * two as biolatency prints them. Pure, so its layout is tested.
 */
import { slotBounds, slotOf } from '../../shared/buckets.ts';
import { BUCKETS_PER_OCTAVE, SLOT_ONE, SLOT_OVERFLOW, SLOT_ZERO, SLOTS, type Metric } from '../../shared/scheme.ts';
import type { Exemplar } from '../../shared/exemplar.ts';

export interface TextUnit {
  /** column label: usecs, msecs, kbytes */
  readonly label: string;
  /** raw units (ns or bytes) per displayed unit */
  readonly divisor: number;
}

export const TEXT_UNITS = {
  usecs: { label: 'usecs', divisor: 1_000 },
  msecs: { label: 'msecs', divisor: 1_000_000 },
  kbytes: { label: 'kbytes', divisor: 1_024 },
} as const satisfies Record<string, TextUnit>;

/** fine: one row per bucket (9 % wide); log2: one row per power of two, as biolatency and bitesize print */
export const TEXT_BUCKETS = ['fine', 'log2'] as const;
export type TextBuckets = (typeof TEXT_BUCKETS)[number];

/** A printed row: the values v with lower < v <= upper (raw units), and how many there were. */
export interface TextRow {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
}

const BAR_WIDTH = 40;

/** The slot range of each printed row: every slot, or (for log2) 0 and 1 together, then the 8 slots of each power of two. */
function rowSlots(buckets: TextBuckets): readonly (readonly [number, number])[] {
  if (buckets === 'fine') return Array.from({ length: SLOTS }, (_, slot) => [slot, slot] as const);
  const rows: (readonly [number, number])[] = [[SLOT_ZERO, SLOT_ONE]];
  // Every 8th bucket bound is a power of two, so 8 buckets make one power-of-two row exactly.
  for (let first = SLOT_ONE + 1; first < SLOT_OVERFLOW; first += BUCKETS_PER_OCTAVE) rows.push([first, first + BUCKETS_PER_OCTAVE - 1]);
  rows.push([SLOT_OVERFLOW, SLOT_OVERFLOW]);
  return rows;
}

const ROW_SLOTS: Record<TextBuckets, readonly (readonly [number, number])[]> = { fine: rowSlots('fine'), log2: rowSlots('log2') };

/** The rows from the lowest to the highest non-empty one, empty ones between them included. */
export function textRows(histogram: ArrayLike<number>, buckets: TextBuckets): TextRow[] {
  const all = ROW_SLOTS[buckets].map(([first, last]): TextRow => {
    let count = 0;
    for (let slot = first; slot <= last; slot++) count += histogram[slot]!;
    return { lower: slotBounds(first).lower, upper: slotBounds(last).upper, count };
  });
  const first = all.findIndex((row) => row.count > 0);
  if (first < 0) return [];
  let last = all.length - 1;
  while (all[last]!.count === 0) last--;
  return all.slice(first, last + 1);
}

function formatBound(raw: number, unit: TextUnit): string {
  if (!Number.isFinite(raw)) return 'inf';
  const value = raw / unit.divisor;
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, '');
}

/** The histogram's rows under a column header; a row's range is lower (exclusive) -> upper (inclusive). */
export function formatTextHistogram(histogram: ArrayLike<number>, unit: TextUnit, buckets: TextBuckets = 'fine'): string {
  const header = `${unit.label.padStart(24)}${' '.repeat(11)}: count    distribution`;
  const rows = textRows(histogram, buckets);
  const peak = Math.max(0, ...rows.map((row) => row.count));
  const lines = rows.map(({ lower, upper, count }) => {
    const stars = '*'.repeat(Math.round((count / peak) * BAR_WIDTH));
    const range = `${formatBound(Math.max(lower, 0), unit).padStart(16)} -> ${formatBound(upper, unit).padEnd(16)}`;
    return `${range} : ${String(count).padEnd(8)} |${stars.padEnd(BAR_WIDTH)}|`;
  });
  return `${[header, ...lines].join('\n')}\n`;
}

export interface IntervalHeading {
  readonly startMs: number;
  readonly intervalMs: number;
  /** the devices counted: those named with --device, or every one the source has seen */
  readonly devices: readonly string[];
  readonly everyDevice: boolean;
  readonly total: number;
}

function formatInterval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The line above each interval's histogram: when, which devices, how many I/Os over how long. */
export function formatHeading({ startMs, intervalMs, devices, everyDevice, total }: IntervalHeading): string {
  const names = devices.length > 0 ? devices.join(', ') : 'none yet';
  const which = everyDevice ? `all devices (${names})` : `device${devices.length === 1 ? '' : 's'} ${names}`;
  return `${new Date(startMs).toTimeString().slice(0, 8)}  ${which}  total ${total} I/O${total === 1 ? '' : 's'} in ${formatInterval(intervalMs)}`;
}

/**
 * What --by-process says under the heading: whether its histograms hold every I/O of the
 * interval or a sample (the exemplars: I/Os over the threshold, within the per-bucket cap),
 * and how to get every one when tracing live.
 */
export function formatSampleNote(shown: number, total: number, dropped: number, live: boolean): string {
  if (shown >= total && dropped === 0) return `every I/O shown (${shown})`;
  const lost = dropped > 0 ? `, ${dropped} more over the threshold dropped by the exemplar cap` : '';
  const all = live ? 'for every I/O, run with --threshold 0 --exemplar-rate 100000' : 'a recording holds only the exemplars it captured';
  return `a sample: ${shown} of ${total} I/Os (those over the exemplar threshold${lost}); ${all}`;
}

/**
 * One histogram per process, in bitesize's layout ("PID: … CMD: …" then the distribution),
 * busiest process first, from exemplars (with --threshold 0, every I/O).
 */
export function formatByProcess(exemplars: readonly Exemplar[], metric: Metric, unit: TextUnit, buckets: TextBuckets = 'fine'): string {
  const processes = new Map<string, { pid: number; comm: string; histogram: Float64Array; count: number }>();
  for (const e of exemplars) {
    const key = `${e.pid}\0${e.comm}`;
    let entry = processes.get(key);
    if (!entry) processes.set(key, (entry = { pid: e.pid, comm: e.comm, histogram: new Float64Array(SLOTS), count: 0 }));
    entry.histogram[slotOf(metric === 'latency' ? e.latencyNs : e.bytes)]! += 1;
    entry.count += 1;
  }
  return [...processes.values()]
    .sort((a, b) => b.count - a.count || a.pid - b.pid)
    .map((p) => `\nPID: ${p.pid}    CMD: ${p.comm}\n${formatTextHistogram(p.histogram, unit, buckets)}`)
    .join('');
}
