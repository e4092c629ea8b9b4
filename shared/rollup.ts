/**
 * Levels of detail: a roll-up is the sum of the columns of one coarser step. Counts are
 * integers, so a roll-up is exact, not an approximation: any split of a range into steps sums
 * to the same histogram. The server keeps roll-ups beside its history; the client picks the
 * step to ask for with the same rule (stepFor) the server answers with.
 *
 * A roll-up is itself a Column (shared/column.ts): seq = startMs / stepMs, intervalMs = stepMs.
 */
import { METRICS, OPS, SLOTS } from './scheme.ts';
import { columnWith, type Column, type DeviceOpCount, type ExemplarDrops, type Series } from './column.ts';

/** The coarser steps kept beside the columns (when they are whole multiples of the column interval). */
export const LEVEL_STEPS_MS: readonly number[] = [10_000, 60_000, 600_000];

/**
 * The steps a history at this column interval offers, finest first: the interval itself, then
 * every level step that is a whole multiple of it and coarser.
 */
export function stepsOf(intervalMs: number, levelStepsMs: readonly number[] = LEVEL_STEPS_MS): number[] {
  return [intervalMs, ...levelStepsMs.filter((step) => step > intervalMs && step % intervalMs === 0)];
}

/**
 * The coarsest of the offered steps (ascending) that still gives every pixel column its own
 * cell: at most `msPerPixel`; the finest step when even that is coarser.
 */
export function stepFor(steps: readonly number[], msPerPixel: number): number {
  let chosen = steps[0]!;
  for (const step of steps) if (step <= msPerPixel) chosen = step;
  return chosen;
}

/** The seq of the roll-up at `stepMs` that holds a column starting at startMs. */
export function rollupSeqOf(startMs: number, stepMs: number): number {
  return Math.floor(startMs / stepMs);
}

/**
 * A running sum of columns: per (metric, device, op) a histogram, the dropped exemplars per
 * (device, op, slot), and the unseen completions per (device, op).
 */
export class ColumnSum {
  private readonly histograms = new Map<number, Float64Array>();
  private readonly drops = new Map<number, number>();
  private readonly unseen = new Map<number, number>();

  add(column: Column): void {
    for (const s of column.series) {
      const key = (METRICS.indexOf(s.metric) * 65_536 + s.device) * OPS.length + OPS.indexOf(s.op);
      let histogram = this.histograms.get(key);
      if (!histogram) this.histograms.set(key, (histogram = new Float64Array(SLOTS)));
      for (let k = 0; k < s.slots.length; k++) histogram[s.slots[k]!]! += s.counts[k]!;
    }
    for (const d of column.droppedExemplars ?? []) {
      // slot SLOTS: drops kept without their latency slot (older recordings)
      const key = (d.device * OPS.length + OPS.indexOf(d.op)) * (SLOTS + 1) + (d.slot ?? SLOTS);
      this.drops.set(key, (this.drops.get(key) ?? 0) + d.count);
    }
    for (const u of column.unseen ?? []) {
      const key = u.device * OPS.length + OPS.indexOf(u.op);
      this.unseen.set(key, (this.unseen.get(key) ?? 0) + u.count);
    }
  }

  /** The sum as a column, series ordered by metric, device, op. */
  toColumn(seq: number, startMs: number, intervalMs: number): Column {
    const series: Series[] = [];
    for (const key of [...this.histograms.keys()].sort((a, b) => a - b)) {
      const histogram = this.histograms.get(key)!;
      const slots: number[] = [];
      const counts: number[] = [];
      for (let slot = 0; slot < SLOTS; slot++) {
        if (histogram[slot]! > 0) {
          slots.push(slot);
          counts.push(histogram[slot]!);
        }
      }
      if (slots.length === 0) continue;
      const op = key % OPS.length;
      const rest = (key - op) / OPS.length;
      series.push({ metric: METRICS[Math.floor(rest / 65_536)]!, device: rest % 65_536, op: OPS[op]!, slots, counts });
    }
    const droppedExemplars: ExemplarDrops[] = [...this.drops.keys()]
      .sort((a, b) => a - b)
      .map((key) => {
        const slot = key % (SLOTS + 1);
        const rest = (key - slot) / (SLOTS + 1);
        const drop = { device: Math.floor(rest / OPS.length), op: OPS[rest % OPS.length]!, count: this.drops.get(key)! };
        return slot === SLOTS ? drop : { ...drop, slot };
      });
    const unseen: DeviceOpCount[] = [...this.unseen.keys()]
      .sort((a, b) => a - b)
      .map((key) => ({ device: Math.floor(key / OPS.length), op: OPS[key % OPS.length]!, count: this.unseen.get(key)! }));
    return columnWith({ seq, startMs, intervalMs, series }, droppedExemplars, unseen);
  }
}

/** Columns (ascending by start) summed per step: one roll-up per step that holds any of them. */
export function rollUp(columns: readonly Column[], stepMs: number): Column[] {
  const out: Column[] = [];
  let seq: number | null = null;
  let sum = new ColumnSum();
  for (const column of columns) {
    const at = rollupSeqOf(column.startMs, stepMs);
    if (seq !== null && at !== seq) {
      out.push(sum.toColumn(seq, seq * stepMs, stepMs));
      sum = new ColumnSum();
    }
    seq = at;
    sum.add(column);
  }
  if (seq !== null) out.push(sum.toColumn(seq, seq * stepMs, stepMs));
  return out;
}
