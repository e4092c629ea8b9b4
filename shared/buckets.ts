/**
 * Exponential buckets of OpenTelemetry scale 3 / Prometheus native schema 3: bucket i holds
 * v with 2^(i/8) < v <= 2^((i+1)/8). For integers that is floor(2^(i/8)) < v <= floor(2^((i+1)/8)),
 * so every boundary is an exact integer, computed here once with BigInt.
 *
 * Slots number what the kernel counts: slot 0 holds v = 0, slot 1 holds v = 1 (bucket -1),
 * slot i + 2 holds bucket i, and the last slot holds everything above 2^MAX_EXPONENT.
 */
import { BUCKETS_PER_OCTAVE, MAX_EXPONENT, SLOTS, SLOT_ONE, SLOT_OVERFLOW, SLOT_ZERO, SPLIT_BITS, SPLITS_PER_EXPONENT, THRESHOLDS_PER_EXPONENT } from './scheme.ts';

/** floor(2^(i/8)) exactly: the integer 8th root of 2^i, by Newton's method on BigInt. */
export function floorBound(i: number): bigint {
  if (!Number.isInteger(i) || i < 0) throw new RangeError(`bucket index must be a non-negative integer, got ${i}`);
  const n = 1n << BigInt(i);
  const k = BigInt(BUCKETS_PER_OCTAVE);
  let x = 1n << BigInt(Math.ceil(i / BUCKETS_PER_OCTAVE) + 1);
  for (;;) {
    const next = ((k - 1n) * x + n / x ** (k - 1n)) / k;
    if (next >= x) break;
    x = next;
  }
  while (x ** k > n) x -= 1n;
  while ((x + 1n) ** k <= n) x += 1n;
  return x;
}

/** thresholds[e][k] = floor(2^(e + (k+1)/8)): what the kernel compares against, flattened row by row. */
export function thresholdTable(): bigint[] {
  const table: bigint[] = [];
  for (let e = 0; e < MAX_EXPONENT; e++) {
    for (let k = 1; k <= THRESHOLDS_PER_EXPONENT; k++) table.push(floorBound(e * BUCKETS_PER_OCTAVE + k));
  }
  return table;
}

/** Past every value: a part of an octave that holds no threshold. */
const NO_THRESHOLD = 1n << 60n;

/**
 * What the kernel's bpfheat_slot loads, flattened row by row: for exponent e (v - 1 in [2^e, 2^(e+1)))
 * and part m of that octave (the SPLIT_BITS bits of v - 1 below its top bit), (the threshold inside
 * the part, or NO_THRESHOLD) << 3 | the thresholds already at or below the part's start. v exceeds a
 * threshold t when v - 1 >= t. Below 2^SPLIT_BITS a part holds one value of v - 1 or none.
 * `thresholds` is thresholdTable() unless a test gives a row that breaks the one-per-part rule.
 */
export function placementTable(thresholds: readonly bigint[] = thresholdTable()): bigint[] {
  const table: bigint[] = [];
  for (let e = 0; e < MAX_EXPONENT; e++) {
    const row = thresholds.slice(e * THRESHOLDS_PER_EXPONENT, (e + 1) * THRESHOLDS_PER_EXPONENT);
    const passed = (d: bigint): number => row.filter((t) => t <= d).length;
    const octave = 1n << BigInt(e);
    for (let m = 0n; m < BigInt(SPLITS_PER_EXPONENT); m++) {
      const start = e >= SPLIT_BITS ? octave + (m << BigInt(e - SPLIT_BITS)) : octave + (m >> BigInt(SPLIT_BITS - e));
      const end = e >= SPLIT_BITS ? start + (1n << BigInt(e - SPLIT_BITS)) : start + 1n; // exclusive
      const inside = row.filter((t) => t > start && t < end);
      if (inside.length > 1) throw new Error(`bucket placement: part ${m} of octave ${e} holds ${inside.length} thresholds`);
      table.push(((inside[0] ?? NO_THRESHOLD) << 3n) | BigInt(passed(start)));
    }
  }
  return table;
}

/** Integer bounds of every slot: slot s holds the integers v with lower[s] < v <= upper[s]. */
const BOUNDS = buildBounds();
const THRESHOLDS: readonly number[] = thresholdTable().map(Number);

function buildBounds(): { lower: number[]; upper: number[] } {
  const lower = new Array<number>(SLOTS);
  const upper = new Array<number>(SLOTS);
  lower[SLOT_ZERO] = -1;
  upper[SLOT_ZERO] = 0;
  lower[SLOT_ONE] = 0;
  upper[SLOT_ONE] = 1;
  for (let bucket = 0; bucket < SLOT_OVERFLOW - 2; bucket++) {
    lower[bucket + 2] = Number(floorBound(bucket));
    upper[bucket + 2] = Number(floorBound(bucket + 1));
  }
  lower[SLOT_OVERFLOW] = 2 ** MAX_EXPONENT;
  upper[SLOT_OVERFLOW] = Infinity;
  return { lower, upper };
}

function log2Floor(v: number): number {
  if (v < 2 ** 32) return 31 - Math.clz32(v);
  return 32 + (31 - Math.clz32(Math.floor(v / 2 ** 32)));
}

/** Slot of a non-negative integer value (ns or bytes); the same rule as bpfheat_slot in bpf/bpfheat.h. */
export function slotOf(value: number): number {
  if (!(value >= 0) || !Number.isInteger(value)) throw new RangeError(`value must be a non-negative integer, got ${value}`);
  if (value === 0) return SLOT_ZERO;
  if (value === 1) return SLOT_ONE;
  const e = log2Floor(value - 1);
  if (e >= MAX_EXPONENT) return SLOT_OVERFLOW;
  let bucket = e * BUCKETS_PER_OCTAVE;
  const row = e * THRESHOLDS_PER_EXPONENT;
  for (let k = 0; k < THRESHOLDS_PER_EXPONENT; k++) if (value > THRESHOLDS[row + k]!) bucket++;
  return bucket + 2;
}

/** Integer bounds of a slot: it holds v with lower < v <= upper (upper is Infinity for the overflow slot). */
export function slotBounds(slot: number): { lower: number; upper: number } {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new RangeError(`slot must be in 0..${SLOTS - 1}, got ${slot}`);
  return { lower: BOUNDS.lower[slot]!, upper: BOUNDS.upper[slot]! };
}


/**
 * Real-valued edges of a slot for drawing on a log axis: (2^(i/8), 2^((i+1)/8)].
 * The zero slot is drawn just below 1 and the overflow slot one bucket above the top.
 */
export function slotEdges(slot: number): { low: number; high: number } {
  if (slot === SLOT_ZERO) return { low: 2 ** (-2 / BUCKETS_PER_OCTAVE), high: 2 ** (-1 / BUCKETS_PER_OCTAVE) };
  if (slot === SLOT_OVERFLOW) return { low: 2 ** MAX_EXPONENT, high: 2 ** (MAX_EXPONENT + 1 / BUCKETS_PER_OCTAVE) };
  const bucket = slot - 2;
  return { low: 2 ** (bucket / BUCKETS_PER_OCTAVE), high: 2 ** ((bucket + 1) / BUCKETS_PER_OCTAVE) };
}
