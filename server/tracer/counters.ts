/**
 * From the kernel's counters to a column: pure, so it is tested on fixed inputs.
 * The counters of one column are u64 little-endian, laid out [metric][device][op][slot]
 * (bpf/bpfheat.h), one copy per CPU slice; they are read as pairs of u32 words because most
 * are zero and a BigInt per cell would cost more than the whole scan.
 */
import { COLUMN_CELLS, MAX_DEVICES, METRICS, OPS, SLOTS } from '../../shared/scheme.ts';
import type { DeviceOpCount, Series } from '../../shared/column.ts';

const HIGH = 2 ** 32;

/**
 * The non-empty series of one column, summed over the copies whose first cells are at firstCells
 * of words (u32 pairs): the kernel keeps one copy per CPU, so that no increment is atomic.
 */
export function seriesFromCounters(words: Uint32Array, firstCells: readonly number[]): Series[] {
  for (const first of firstCells) if (words.length < (first + COLUMN_CELLS) * 2) throw new RangeError('counter array is shorter than one column');
  const series: Series[] = [];
  for (let metric = 0; metric < METRICS.length; metric++) {
    for (let device = 0; device < MAX_DEVICES; device++) {
      for (let op = 0; op < OPS.length; op++) {
        const offset = ((metric * MAX_DEVICES + device) * OPS.length + op) * SLOTS;
        let slots: number[] | null = null;
        let counts: number[] | null = null;
        for (let slot = 0; slot < SLOTS; slot++) {
          let count = 0;
          for (const first of firstCells) {
            const at = (first + offset + slot) * 2;
            const low = words[at]!;
            const high = words[at + 1]!;
            if (low !== 0 || high !== 0) count += high * HIGH + low;
          }
          if (count === 0) continue;
          (slots ??= []).push(slot);
          (counts ??= []).push(count);
        }
        if (slots && counts) series.push({ metric: METRICS[metric]!, device, op: OPS[op]!, slots, counts });
      }
    }
  }
  return series;
}

/** The non-zero counts of a block of u64 counters laid out [device][op] (unseen completions). */
export function deviceOpCounts(counts: BigUint64Array, firstCounter: number): DeviceOpCount[] {
  const found: DeviceOpCount[] = [];
  for (let device = 0; device < MAX_DEVICES; device++) {
    for (let op = 0; op < OPS.length; op++) {
      const count = Number(counts[firstCounter + device * OPS.length + op]!);
      if (count > 0) found.push({ device, op: OPS[op]!, count });
    }
  }
  return found;
}
