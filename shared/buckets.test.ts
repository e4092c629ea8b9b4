import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { floorBound, placementTable, slotBounds, slotOf, thresholdTable, slotEdges } from './buckets.ts';
import { BUCKETS_PER_OCTAVE, MAX_EXPONENT, SLOTS, SLOT_ONE, SLOT_OVERFLOW, SLOT_ZERO, SPLITS_PER_EXPONENT, THRESHOLDS_PER_EXPONENT } from './scheme.ts';

/** The independent oracle: exact floor(2^(i/8)) for i = 0..512, and values with their bucket index. */
function readTsv(name: string): [string, string][] {
  return readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#') && /^\d/.test(line))
    .map((line) => line.split('\t') as [string, string]);
}

const TOP = 2 ** MAX_EXPONENT;

describe('floorBound', () => {
  it('equals the reference floor(2^(i/8)) for every i from 0 to 512', () => {
    const rows = readTsv('exp-scale3-bounds.tsv');
    expect(rows).toHaveLength(513);
    for (const [i, bound] of rows) expect(floorBound(Number(i))).toBe(BigInt(bound));
  });

  it('is the largest integer whose 8th power does not exceed 2^i', () => {
    for (let i = 0; i <= 512; i += 7) {
      const x = floorBound(i);
      expect(x ** 8n <= 1n << BigInt(i)).toBe(true);
      expect((x + 1n) ** 8n > 1n << BigInt(i)).toBe(true);
    }
  });
});

describe('slotOf', () => {
  it('places every reference value in its reference bucket (overflow above 2^40)', () => {
    const rows = readTsv('exp-scale3-samples.tsv');
    expect(rows.length).toBeGreaterThan(3000);
    for (const [value, bucket] of rows) {
      const v = BigInt(value);
      if (v > BigInt(TOP)) continue;
      expect([value, slotOf(Number(v))]).toEqual([value, Number(bucket) + 2]);
    }
  });

  it.each([
    [0, SLOT_ZERO],
    [1, SLOT_ONE],
    [2, 7 + 2],
    [4096, 95 + 2],
    [TOP, SLOT_OVERFLOW - 1],
    [TOP + 1, SLOT_OVERFLOW],
    [Number.MAX_SAFE_INTEGER, SLOT_OVERFLOW],
  ])('slotOf(%d) = %d', (value, slot) => expect(slotOf(value)).toBe(slot));

  it('rejects values that are not non-negative integers', () => {
    expect(() => slotOf(-1)).toThrow(RangeError);
    expect(() => slotOf(1.5)).toThrow(RangeError);
    expect(() => slotOf(Number.NaN)).toThrow(RangeError);
  });
});

describe('slotBounds', () => {
  it('are contiguous and cover 0 to infinity', () => {
    expect(slotBounds(0)).toEqual({ lower: -1, upper: 0 });
    for (let slot = 1; slot < SLOTS; slot++) expect(slotBounds(slot).lower).toBe(slotBounds(slot - 1).upper);
    expect(slotBounds(SLOT_OVERFLOW).upper).toBe(Infinity);
  });

  it('hold exactly the values slotOf puts in them, at both edges', () => {
    for (let slot = 1; slot < SLOT_OVERFLOW; slot++) {
      const { lower, upper } = slotBounds(slot);
      if (upper === lower) continue; // buckets 0..6 hold no integer: floor(2^(i/8)) = 1 for i < 8
      expect(slotOf(upper)).toBe(slot);
      expect(slotOf(lower + 1)).toBe(slot);
      expect(slotOf(upper + 1)).toBe(slot + 1 + countEmptyAbove(slot));
    }
  });

  it('rejects slots out of range', () => {
    expect(() => slotBounds(SLOTS)).toThrow(RangeError);
    expect(() => slotBounds(-1)).toThrow(RangeError);
  });
});

function countEmptyAbove(slot: number): number {
  let empty = 0;
  while (slot + 1 + empty < SLOT_OVERFLOW && slotBounds(slot + 1 + empty).lower === slotBounds(slot + 1 + empty).upper) empty++;
  return empty;
}

describe('thresholdTable', () => {
  it('holds floor(2^(e + k/8)) for k = 1..7 of every exponent', () => {
    const table = thresholdTable();
    expect(table).toHaveLength(MAX_EXPONENT * (BUCKETS_PER_OCTAVE - 1));
    expect(table[0]).toBe(1n);
    expect(table[7 * 12 + 6]).toBe(floorBound(8 * 12 + 7));
  });
});

describe('placementTable', () => {
  const table = placementTable();
  const entry = (e: number, m: number) => {
    const packed = table[e * SPLITS_PER_EXPONENT + m]!;
    return { threshold: packed >> 3n, passed: Number(packed & 7n) };
  };

  it.each([
    // e, part, threshold inside the part (none: 2^60), thresholds at or below the part's start
    [0, 0, 1n << 60n, 7], // v = 2: past all seven thresholds floor(2^(k/8)) = 1
    [3, 2, 1n << 60n, 2], // below 2^4 a part is one value: v - 1 = 9 is past 8 and 9 of 8, 9, …, 14
    [4, 0, 1n << 60n, 0], // v - 1 = 16: no threshold of 2^4 (17, 19, 20, 22, 24, 26, 29) at or below 16
    [4, 1, 1n << 60n, 1], // v - 1 = 17 alone in the part: at its threshold 17, so past it
    [12, 15, 1n << 60n, 7], // the last sixteenth of an octave is past its last threshold
    [6, 1, 69n, 0], // v - 1 in 68..71, and the first threshold of 2^6 (69, 76, …) inside
    [6, 3, 1n << 60n, 2], // v - 1 in 76..79: the threshold 76 is the part's start, so passed
    [6, 4, 82n, 2], // v - 1 in 80..83: past 69 and 76, and 82 inside
  ])('octave %i, part %i: threshold %s, %i passed', (e, m, threshold, passed) => {
    expect(entry(e, m)).toEqual({ threshold, passed });
  });

  it('refuses a row with two thresholds in one part, which one packed entry cannot hold', () => {
    // octave 10 (v - 1 in 1024..2047) has parts of 64: put its first two thresholds in part 1 (1088..1151)
    const thresholds = thresholdTable();
    thresholds.splice(10 * THRESHOLDS_PER_EXPONENT, 2, 1090n, 1100n);
    expect(() => placementTable(thresholds)).toThrow('bucket placement: part 1 of octave 10 holds 2 thresholds');
  });
});

describe('bucket index and edges', () => {
  it('map slots to log-axis edges', () => {
    expect(slotEdges(97)).toEqual({ low: 2 ** (95 / 8), high: 2 ** 12 });
    for (let slot = 1; slot < SLOTS; slot++) expect(slotEdges(slot).low).toBeCloseTo(slotEdges(slot - 1).high, 9);
  });
});
