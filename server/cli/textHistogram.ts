/**
 * The terminal histogram in bitehist/biolatency's layout ("usecs : count distribution"
 * with a bar of stars), over our 8-buckets-per-octave slots. Pure, so its layout is tested.
 */
import { slotBounds, slotOf } from '../../shared/buckets.ts';
import { SLOTS, type Metric } from '../../shared/scheme.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import { maxSlot, minSlot } from '../../shared/column.ts';

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

const BAR_WIDTH = 40;

function formatBound(raw: number, unit: TextUnit): string {
  if (!Number.isFinite(raw)) return 'inf';
  const value = raw / unit.divisor;
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, '');
}

/** Rows from the lowest to the highest non-empty slot, empty ones between them included. */
export function formatTextHistogram(histogram: ArrayLike<number>, unit: TextUnit): string {
  const header = `${unit.label.padStart(24)}${' '.repeat(11)}: count    distribution`;
  const first = minSlot(histogram);
  if (first < 0) return `${header}\n`;
  const last = maxSlot(histogram);
  let peak = 0;
  for (let slot = first; slot <= last; slot++) peak = Math.max(peak, histogram[slot]!);
  const rows = [header];
  for (let slot = first; slot <= last; slot++) {
    const count = histogram[slot]!;
    const { lower, upper } = slotBounds(slot);
    const stars = '*'.repeat(Math.round((count / peak) * BAR_WIDTH));
    const range = `${formatBound(Math.max(lower, 0), unit).padStart(16)} -> ${formatBound(upper, unit).padEnd(16)}`;
    rows.push(`${range} : ${String(count).padEnd(8)} |${stars.padEnd(BAR_WIDTH)}|`);
  }
  return `${rows.join('\n')}\n`;
}

/**
 * One histogram per process, in bitesize's layout ("PID: … CMD: …" then the distribution),
 * busiest process first, from exemplars (with --threshold 0, every I/O).
 */
export function formatByProcess(exemplars: readonly Exemplar[], metric: Metric, unit: TextUnit): string {
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
    .map((p) => `\nPID: ${p.pid}    CMD: ${p.comm}\n${formatTextHistogram(p.histogram, unit)}`)
    .join('');
}
