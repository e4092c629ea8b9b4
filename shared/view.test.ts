import { describe, expect, it } from 'vitest';
import { slotEdges, slotOf } from './buckets.ts';
import { quantileSlot } from './column.ts';
import {
  CLAMPED_LEVEL,
  COLOR_LEVELS,
  RAMP,
  EMPTY_COLOR,
  CLAMPED_COLOR,
  cellValue,
  colorLevel,
  colorPosition,
  colorScaleOf,
  colorValueAt,
  exportFileName,
  fitYRange,
  formatSlotRange,
  legendTicks,
  perSecondLabel,
  formatBytes,
  formatClock,
  formatCount,
  formatLatency,
  levelColor,
  mapFrom,
  mapTo,
  ColorScaleCounts,
  bucketedValues,
  type BucketedValues,
  nearestRankSlots,
  regionStats,
  slotsIn,
  timeTicks,
  timeTickRun,
  valueTicks,
  type AxisMap,
  type ColorScale,
  type ColorScaleKind,
} from './view.ts';
import { SLOTS } from './scheme.ts';

describe('unit formatting', () => {
  it.each([
    [0, '0 ns'],
    [850, '850 ns'],
    [999, '999 ns'],
    [1000, '1 µs'],
    [12_345, '12.3 µs'],
    [999_700, '1 ms'],
    [4_100_000, '4.1 ms'],
    [1_200_000_000, '1.2 s'],
    [90e9, '90 s'],
  ])('latency %d ns is %s', (ns, text) => expect(formatLatency(ns)).toBe(text));

  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [4096, '4 KiB'],
    [1536 * 1024, '1.5 MiB'],
    [2 ** 30, '1 GiB'],
  ])('size %d B is %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it.each([
    [7, '7'],
    [1234, '1234'],
    [12_345, '12.3k'],
    [4_500_000, '4.5M'],
  ])('count %d is %s', (n, text) => expect(formatCount(n)).toBe(text));

  it('clock labels are as precise as the tick step, in the given offset', () => {
    const ms = Date.UTC(2025, 10, 25, 13, 20, 5, 250);
    expect(formatClock(ms, 0, 100)).toBe('13:20:05.250');
    expect(formatClock(ms - 250, 0, 1000)).toBe('13:20:05');
    expect(formatClock(Date.UTC(2025, 10, 25, 13, 20), 60, 60_000)).toBe('14:20');
  });

  it('export file names carry host, metric and time range and no path characters', () => {
    const name = exportFileName({ host: 'db/1 primary', fromMs: Date.UTC(2025, 10, 25, 13, 20, 5), toMs: Date.UTC(2025, 10, 25, 13, 25, 5), filter: { metric: 'latency' } });
    expect(name).toBe('bpfheat-db_1_primary-latency-20251125T132005Z-20251125T132505Z.svg');
  });
});

/** The colour maximum of these values (colorScaleOf's). */
const quantileOf = (values: readonly number[], q: number): number => colorScaleOf(values, 'linear', q).max;

/**
 * The colour scale of the values of these parts taken together, both ways: colorScaleOf over all
 * of them, and a ColorScaleCounts that counted each part (the renderer's). The two must agree.
 */
function scaleOfParts(parts: readonly (readonly number[])[], kind: ColorScaleKind, q: number): ColorScale {
  const whole = colorScaleOf(parts.flat(), kind, q);
  const counts = new ColorScaleCounts();
  const bucketed = parts.map((values) => bucketedValues(values));
  for (const part of bucketed) counts.add(part, 1);
  expect(counts.scaleOf(bucketed, kind, q), 'kept in counts').toEqual(whole);
  return whole;
}

const quantileOfParts = (parts: readonly (readonly number[])[], q: number): number => scaleOfParts(parts, 'linear', q).max;

describe('colour maximum from a high percentile', () => {
  it('one hot cell among many does not set the maximum', () => {
    const values = [...new Array<number>(100).fill(1), 1000];
    expect(quantileOf(values, 0.99)).toBe(1);
    const scale = colorScaleOf(values, 'linear', 0.99);
    expect(scale.max).toBe(1);
    expect(colorLevel(scale, 1000)).toBe(CLAMPED_LEVEL);
    expect(colorLevel(scale, 1)).toBe(COLOR_LEVELS - 1);
  });

  it('with few cells the maximum is the largest (nearest rank)', () => {
    expect(quantileOf([3, 9, 1, 4], 0.99)).toBe(9);
    expect(quantileOf([3, 9, 1, 4], 0.5)).toBe(3);
  });

  it('ignores empty cells and is 0 when all are empty', () => {
    expect(quantileOf([0, 0, 5, 0], 0.99)).toBe(5);
    expect(quantileOf([0, 0], 0.99)).toBe(0);
    expect(quantileOf([], 0.99)).toBe(0);
  });

  it('agrees with sorting on random data', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 50; trial++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 50));
      const q = random();
      const positive = values.filter((v) => v > 0).sort((a, b) => a - b);
      const expected = positive.length === 0 ? 0 : positive[Math.min(positive.length, Math.max(1, Math.ceil(q * positive.length))) - 1];
      expect(quantileOf(values, q)).toBe(expected);
    }
  });
});

describe('colour maximum of cells kept in parts (radix selection)', () => {
  /** The nearest-rank quantile by sorting every positive value: what the selection must equal. */
  const bySorting = (parts: readonly (readonly number[])[], q: number): number => {
    const positive = parts.flat().filter((v) => v > 0).sort((a, b) => a - b);
    return positive.length === 0 ? 0 : positive[Math.min(positive.length, Math.max(1, Math.ceil(q * positive.length))) - 1]!;
  };

  it('equals sorting on fixed inputs split into parts, empty parts included', () => {
    const parts = [[5, 0, 3], [], [0.25, 1e9, 7, 7, 7], [2 ** -30, 1]];
    for (const q of [0, 0.1, 0.5, 0.9, 0.99, 1]) expect(quantileOfParts(parts, q)).toBe(bySorting(parts, q));
    expect(quantileOfParts(parts, 0.99)).toBe(1e9);
    expect(quantileOfParts(parts, 0.5)).toBe(5);
    expect(quantileOfParts([[], [0, 0]], 0.99)).toBe(0);
  });

  it('tells apart values in the same sixteenth of an octave (one bucket)', () => {
    // 1024..1087 share a bucket: the rank is selected among them, not rounded to the bucket
    const parts = [[1030, 1024, 1087], [1025, 1031], [1029]];
    expect([0.01, 0.2, 0.4, 0.6, 0.8, 1].map((q) => quantileOfParts(parts, q))).toEqual([1024, 1025, 1029, 1030, 1031, 1087]);
  });

  it('equals sorting on random counts and byte-weighted values, over random splits', () => {
    let seed = 11;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 200; trial++) {
      const weighted = trial % 2 === 1;
      const parts = Array.from({ length: 1 + Math.floor(random() * 20) }, () =>
        Array.from({ length: Math.floor(random() * 400) }, () => {
          const count = random() < 0.3 ? 0 : Math.floor(random() * 2 ** (1 + Math.floor(random() * 20)));
          return weighted ? count * (1 + random()) * 4096 : count;
        }),
      );
      const q = trial % 3 === 0 ? 0.99 : random();
      expect(quantileOfParts(parts, q)).toBe(bySorting(parts, q));
      const positive = parts.flat().filter((v) => v > 0);
      expect(scaleOfParts(parts, 'log', q)).toEqual({ kind: 'log', min: positive.length > 0 ? Math.min(...positive) : 0, max: bySorting(parts, q) });
    }
  });

  it.each([
    ['a single value', [[0, 42, 0]], 0.99, 42],
    ['q = 0: the smallest', [[9, 3, 0], [5]], 0, 3],
    ['q = 1: the largest', [[9, 3], [5]], 1, 9],
    ['Infinity among them', [[1, Infinity, 2]], 1, Infinity],
    ['Infinity below the rank', [[1, Infinity, 2, 3, 4]], 0.5, 3],
    ['subnormal values', [[5e-324, 1e-320, 2e-320], [0]], 0.5, 1e-320],
    ['NaN and negatives are not positive', [[Number.NaN, 4, -1], [Number.NaN, 2]], 1, 4],
    ['many equal values in one bucket', [Array.from({ length: 5000 }, () => 1), [2]], 0.99, 1],
  ])('%s', (_, parts, q, expected) => {
    expect(quantileOfParts(parts, q)).toBe(expected);
    expect(quantileOfParts(parts, q)).toBe(bySorting(parts, q));
  });

  it('gives the scale sorting gives while parts are added and taken out, in any order (ColorScaleCounts)', () => {
    let seed = 5;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const counts = new ColorScaleCounts();
    let held: { values: number[]; part: BucketedValues }[] = [];
    for (let trial = 0; trial < 200; trial++) {
      // a part or two in, a random one out now and then: as a scrolling view's groups come and go
      for (let k = Math.floor(random() * 3); k > 0; k--) {
        const values = Array.from({ length: Math.floor(random() * 300) }, () => (random() < 0.3 ? 0 : Math.floor(random() * 2 ** (1 + Math.floor(random() * 16))) * (trial % 2 === 1 ? 1 + random() : 1)));
        const part = bucketedValues(values);
        counts.add(part, 1);
        held.push({ values, part });
      }
      if (held.length > 0 && random() < 0.5) {
        const gone = held[Math.floor(random() * held.length)]!;
        counts.add(gone.part, -1);
        held = held.filter((h) => h !== gone);
      }
      const parts = held.map((h) => h.values);
      const q = trial % 4 === 0 ? 0.99 : random();
      const positive = parts.flat().filter((v) => v > 0);
      const sorted = { kind: 'sqrt', min: positive.length > 0 ? Math.min(...positive) : 0, max: bySorting(parts, q) };
      expect(counts.scaleOf(held.map((h) => h.part), 'sqrt', q), `trial ${trial}`).toEqual(sorted);
      expect(colorScaleOf(parts.flat(), 'sqrt', q), `trial ${trial}`).toEqual(sorted);
    }
  });

  it('gives the scale sorting gives after more values change between scales than there are buckets, in and out, and after few again (ColorScaleCounts)', () => {
    let seed = 11;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    // values over 2^0..2^30 with fractions: a spread over many blocks of buckets
    const partOf = (): number[] => Array.from({ length: 100 }, () => (1 + random()) * 2 ** Math.floor(random() * 30));
    const counts = new ColorScaleCounts();
    let held: { values: number[]; part: BucketedValues }[] = [];
    const expectSorted = (step: string): void => {
      const parts = held.map((h) => h.values);
      for (const q of [0.5, 0.99, 1]) {
        expect(counts.scaleOf(held.map((h) => h.part), 'log', q), `${step}, q ${q}`).toEqual({ kind: 'log', min: Math.min(...parts.flat()), max: bySorting(parts, q) });
      }
    };
    const addOne = (): void => {
      const values = partOf();
      const part = bucketedValues(values);
      counts.add(part, 1);
      held.push({ values, part });
    };
    const takeOut = (n: number): void => {
      for (const gone of held.slice(0, n)) counts.add(gone.part, -1);
      held = held.slice(n);
    };
    // a new picture's first frame: 500 parts of 100 values, more than the 32,768 buckets
    for (let k = 0; k < 500; k++) addOne();
    expectSorted('all added');
    // a scrolling frame: a few parts out and in
    takeOut(3);
    for (let k = 0; k < 2; k++) addOne();
    expectSorted('a few changed');
    // most taken out at once, then a few again
    takeOut(400);
    expectSorted('most taken out');
    addOne();
    expectSorted('one added after');
  });

  it('says in one line when the parts given are not those counted (ColorScaleCounts.scaleOf)', () => {
    const counts = new ColorScaleCounts();
    const added = bucketedValues([1, 2, 3]);
    counts.add(added, 1);
    expect(() => counts.scaleOf([], 'linear', 0.5)).toThrow("ColorScaleCounts.scaleOf: the parts hold 0 values of the quantile's bucket where the counts hold 1: pass exactly the parts added and not taken out");
    expect(() => counts.scaleOf([added, bucketedValues([2])], 'linear', 0.5)).toThrow('the parts hold 2 values of the quantile');
    expect(counts.scaleOf([added], 'linear', 0.5)).toEqual({ kind: 'linear', min: 1, max: 2 });
  });

  it.each([
    ['nothing', [], [], 'none'],
    ['no positive value', [0, -2, Number.NaN], [], 'none'],
    ['the positive values ascending, each with its bucket', [3, 0, 1, Number.NaN, 1.5, -2, 3, 1.03], [1, 1.03, 1.5, 3, 3], '1 and 1.03 share one, 1.5 and 3 their own'],
  ])('bucketedValues: %s', (_, values, sorted, buckets) => {
    const part = bucketedValues(values);
    expect(Array.from(part.sorted)).toEqual(sorted);
    const b = Array.from(part.buckets);
    expect(b).toHaveLength(sorted.length);
    if (buckets !== 'none') expect([b[0] === b[1], b[1]! < b[2]!, b[2]! < b[3]!, b[3] === b[4]], buckets).toEqual([true, true, true, true]);
  });

  it('takes the smallest positive value as the minimum, whatever the parts', () => {
    expect(scaleOfParts([[0, 7, Number.NaN], [3e-310, 2]], 'log', 0.99).min).toBe(3e-310);
    expect(scaleOfParts([[0], []], 'log', 0.99)).toEqual({ kind: 'log', min: 0, max: 0 });
  });

  it.each([-0.1, 1.5, Number.NaN])('rejects the quantile %f with a line naming it', (q) => {
    const line = `colour quantile ${q} is not within 0..1: give a fraction such as 0.99`;
    expect(() => colorScaleOf([1, 2], 'linear', q)).toThrow(line);
    expect(() => new ColorScaleCounts().scaleOf([], 'linear', q)).toThrow(line);
  });
});

describe('colour scales on fixed inputs', () => {
  const linear = { kind: 'linear', min: 1, max: 100 } as const;
  const sqrt = { kind: 'sqrt', min: 1, max: 100 } as const;
  const log = { kind: 'log', min: 1, max: 100 } as const;
  it.each([
    [linear, 25, 0.25],
    [linear, 100, 1],
    [sqrt, 25, 0.5],
    [sqrt, 1, 0.1],
    [log, 10, 0.5],
    [log, 1, 0],
  ])('%o at %d is %d', (scale, value, position) => expect(colorPosition(scale, value)).toBeCloseTo(position, 12));

  it('empty is -1 and above the maximum is clamped', () => {
    expect(colorPosition(linear, 0)).toBe(-1);
    expect(colorLevel(linear, 0)).toBe(-1);
    expect(colorLevel(linear, 101)).toBe(CLAMPED_LEVEL);
  });

  it('colorValueAt inverts colorPosition', () => {
    for (const scale of [linear, sqrt, log]) {
      for (const value of [1, 2, 10, 50, 100]) expect(colorValueAt(scale, colorPosition(scale, value))).toBeCloseTo(value, 9);
    }
  });

  it('the lowest count gets the ramp start, distinct from empty; clamped is outside the ramp', () => {
    expect(levelColor(0)).toBe(RAMP[0]);
    expect(levelColor(COLOR_LEVELS - 1)).toBe(RAMP[RAMP.length - 1]);
    expect(levelColor(CLAMPED_LEVEL)).toBe(CLAMPED_COLOR);
    expect(RAMP).not.toContain(EMPTY_COLOR);
    expect(RAMP).not.toContain(CLAMPED_COLOR);
  });

  it('time spent weights a count by its bucket, so slow cells outweigh fast ones', () => {
    const fast = slotOf(10_000);
    const slow = slotOf(100_000_000);
    expect(cellValue('count', 100, fast)).toBe(100);
    expect(cellValue('time', 1, slow)).toBeGreaterThan(cellValue('time', 100, fast));
    const { low, high } = slotEdges(slow);
    expect(cellValue('time', 1, slow)).toBeGreaterThan(low);
    expect(cellValue('time', 1, slow)).toBeLessThan(high);
  });
});

describe('geometry', () => {
  it('log and linear maps invert', () => {
    const log: AxisMap = { kind: 'log', domain: [1000, 1e9], range: [500, 0] };
    expect(mapTo(log, 1000)).toBe(500);
    expect(mapTo(log, 1e9)).toBeCloseTo(0, 9);
    expect(mapFrom(log, mapTo(log, 123_456))).toBeCloseTo(123_456, 3);
    const linear: AxisMap = { kind: 'linear', domain: [0, 100], range: [0, 1000] };
    expect(mapTo(linear, 25)).toBe(250);
    expect(mapFrom(linear, 250)).toBe(25);
  });

  it('slotsIn covers exactly the slots overlapping a range', () => {
    const { first, last } = slotsIn(1000, 1_000_000);
    expect(slotEdges(first).high).toBeGreaterThan(1000);
    expect(slotEdges(first - 1).high).toBeLessThanOrEqual(1000);
    expect(slotEdges(last).low).toBeLessThan(1_000_000);
    expect(slotEdges(last + 1).low).toBeGreaterThanOrEqual(1_000_000);
    expect(slotsIn(0, Infinity)).toEqual({ first: 0, last: SLOTS - 1 });
  });

  it.each([
    [0, Infinity],
    [1000, 1_000_000],
    [0.9, 1],
    [slotEdges(40).low, slotEdges(40).high],
    [slotEdges(40).high, slotEdges(41).high],
    [2 ** 41, 2 ** 42],
    [5, 5],
    [10, 1],
    [-1, 0.5],
  ])('slotsIn(%d, %d) is every slot whose edges overlap the range', (low, high) => {
    const overlapping = Array.from({ length: SLOTS }, (_, slot) => slot).filter((slot) => slotEdges(slot).high > low && slotEdges(slot).low < high);
    const { first, last } = slotsIn(low, high);
    if (overlapping.length > 0) expect({ first, last }).toEqual({ first: overlapping[0], last: overlapping.at(-1) });
    else expect(last).toBeLessThan(first);
  });

  it('fitYRange covers every non-empty slot with round ends', () => {
    const h = new Float64Array(SLOTS);
    h[slotOf(30_000)] = 1;
    h[slotOf(7_000_000)] = 2;
    const [low, high] = fitYRange([h], 'latency', 'log');
    expect(low).toBe(20_000);
    expect(high).toBe(10_000_000);
    expect(fitYRange([h], 'latency', 'linear')).toEqual([0, 8_000_000]);
    expect(fitYRange([new Float64Array(SLOTS)], 'size', 'log')).toEqual([512, 2 ** 20]);
  });

  it.each([
    ['latency', 226_000_000, 250_000_000],
    ['latency', 146_000_000, 150_000_000],
    ['latency', 9_000, 10_000],
    ['size', 976 * 1024, 1024 * 1024],
    ['size', 4096, 4096],
  ] as const)('fitYRange on a linear axis tops %s data of max %d close above it: %d', (metric, max, top) => {
    const h = new Float64Array(SLOTS);
    h[slotOf(max)] = 1;
    expect(fitYRange([h], metric, 'linear')).toEqual([0, top]);
  });

  it('legend labels per second divide the colour values by the seconds of a cell; the colours stay', () => {
    const scale = { kind: 'linear', min: 1, max: 3000 } as const;
    const view = { colorBy: 'count', filter: { metric: 'latency' } } as const;
    expect(legendTicks(scale, view).map((t) => t.label)).toEqual(['0', '750', '1500', '2250', '3000']);
    expect(legendTicks(scale, view, 30).map((t) => t.label)).toEqual(['0', '25', '50', '75', '100']);
    expect(perSecondLabel(view)).toBe('I/Os per second');
    expect(perSecondLabel({ colorBy: 'time', filter: { metric: 'latency' } })).toBe('time spent /s');
  });

  it.each([
    ['latency', 4096, '3.76 µs – 4.1 µs'],
    ['size', 4096, '4 KiB'],
    // no sector multiple fits: the bucket's own bounds
    ['size', 4097, '4 KiB – 4.36 KiB'],
    ['size', 1_000_000, '940 KiB – 1 MiB'],
    ['size', 100, '98.7 B – 108 B'],
    ['size', 0, '0 B'],
  ] as const)('a %s bucket holding %d reads %s', (metric, value, label) => {
    expect(formatSlotRange(metric, slotOf(value))).toBe(label);
  });

  it('time ticks fall on round clock times', () => {
    const from = Date.UTC(2025, 0, 1, 10, 0, 3);
    const ticks = timeTicks(from, from + 300_000, 6, 0);
    expect(ticks.map((t) => t.label)).toEqual(['10:01', '10:02', '10:03', '10:04', '10:05']);
  });

  // the run is the round clock times from the first at or after the start, a step apart, up to and with the end
  it.each([
    ['5 min from a second past the minute, UTC', Date.UTC(2025, 0, 1, 10, 0, 3), 300_000, 6, 0, { firstMs: Date.UTC(2025, 0, 1, 10, 1), stepMs: 60_000, count: 5 }],
    ['an hour ending on a tick', Date.UTC(2025, 0, 1, 10, 0, 0) + 0.25, 3_600_000 - 0.25, 17, 0, { firstMs: Date.UTC(2025, 0, 1, 10, 5), stepMs: 300_000, count: 12 }],
    ['an hour in a zone 5:30 ahead', Date.UTC(2025, 0, 1, 10, 7, 11) + 0.6, 3_600_000, 17, 330, { firstMs: Date.UTC(2025, 0, 1, 10, 10), stepMs: 300_000, count: 12 }],
    ['a day in a zone 8 behind', Date.UTC(2025, 0, 1, 3, 0, 0) - 0.125, 86_400_000, 17, -480, { firstMs: Date.UTC(2025, 0, 1, 4), stepMs: 7_200_000, count: 12 }],
    // two-day steps from the epoch in the zone: 2 Jan 00:00 at UTC+1
    ['a week: steps of whole days', Date.UTC(2025, 0, 1, 3, 0, 0), 7 * 86_400_000, 4, 60, { firstMs: Date.UTC(2025, 0, 1, 23), stepMs: 172_800_000, count: 4 }],
    ['a span shorter than any step but the finest', Date.UTC(2025, 0, 1) + 0.2, 0.5, 2, 0, { firstMs: Date.UTC(2025, 0, 1) + 1, stepMs: 1, count: 0 }],
    ['no span', Date.UTC(2025, 0, 1), 0, 6, 0, { firstMs: Date.UTC(2025, 0, 1), stepMs: 1, count: 0 }],
  ])('the time tick run of %s', (_, fromMs, spanMs, maxCount, offsetMin, expected) => {
    const { firstMs, stepMs, count } = timeTickRun(fromMs, fromMs + spanMs, maxCount, offsetMin);
    expect({ firstMs, stepMs, count }).toEqual(expected);
    const values: number[] = [];
    if (spanMs > 0) for (let local = Math.ceil((fromMs + offsetMin * 60_000) / stepMs) * stepMs; local - offsetMin * 60_000 <= fromMs + spanMs; local += stepMs) values.push(local - offsetMin * 60_000);
    expect(Array.from({ length: count }, (_, k) => firstMs + k * stepMs)).toEqual(values);
    expect(count).toBeLessThanOrEqual(maxCount + 1);
    expect(timeTicks(fromMs, fromMs + spanMs, maxCount, offsetMin).map((t) => t.value)).toEqual(values);
  });

  it('value ticks use 1-2-5 decades for latency and powers of two for size', () => {
    expect(valueTicks('log', 1000, 1e9, 10, 'latency').map((t) => t.label)).toEqual(['1 µs', '10 µs', '100 µs', '1 ms', '10 ms', '100 ms', '1 s']);
    expect(valueTicks('log', 1000, 100_000, 10, 'latency').map((t) => t.label)).toEqual(['1 µs', '2 µs', '5 µs', '10 µs', '20 µs', '50 µs', '100 µs']);
    expect(valueTicks('log', 512, 2 ** 20, 6, 'size').map((t) => t.label)).toEqual(['1 KiB', '4 KiB', '16 KiB', '64 KiB', '256 KiB', '1 MiB']);
    expect(valueTicks('linear', 0, 10_000_000, 5, 'latency').map((t) => t.label)).toEqual(['0 ns', '2 ms', '4 ms', '6 ms', '8 ms', '10 ms']);
  });
});

describe('nearestRankSlots', () => {
  it('gives quantileSlot of the range for each quantile, repeated ones too, into the slots handed over', () => {
    let seed = 11;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const quantiles = [Number.MIN_VALUE, 0.25, 0.5, 0.5, 0.9, 0.999, 1];
    const slots = new Int32Array(quantiles.length);
    for (let trial = 0; trial < 300; trial++) {
      const h = new Float64Array(SLOTS);
      for (let k = Math.floor(random() * 25); k > 0; k--) h[Math.floor(random() * SLOTS)]! += 1 + Math.floor(random() * (random() < 0.1 ? 5000 : 4));
      const first = Math.floor(random() * SLOTS) - 10;
      const last = first + Math.floor(random() * SLOTS);
      const kept = h.map((n, slot) => (slot >= first && slot <= last ? n : 0));
      slots.fill(-2);
      const count = nearestRankSlots(h, first, last, quantiles, slots);
      expect(count).toBe(kept.reduce((a, b) => a + b, 0));
      expect([...slots]).toEqual(quantiles.map((q) => quantileSlot(kept, q)));
    }
  });
});

describe('region statistics', () => {
  it('are buckets from the histogram, empty as -1', () => {
    const h = new Float64Array(SLOTS);
    h[100] = 50;
    h[120] = 49;
    h[200] = 1;
    expect(regionStats(h)).toEqual({ count: 100, min: 100, p50: 100, p90: 120, p99: 120, max: 200 });
    expect(regionStats(new Float64Array(SLOTS))).toEqual({ count: 0, min: -1, p50: -1, p90: -1, p99: -1, max: -1 });
  });

  // the statistics of the slots first..last, read in place, are those of the histogram with every other slot emptied
  const sparse = new Float64Array(SLOTS);
  sparse[3] = 7;
  sparse[40] = 1;
  sparse[41] = 900;
  sparse[200] = 2;
  sparse[SLOTS - 1] = 5;
  const dense = Float64Array.from({ length: SLOTS }, (_, slot) => (slot * 7919) % 13);
  const one = new Float64Array(SLOTS);
  one[150] = 1;
  it.each([
    ['sparse, every slot', sparse, 0, SLOTS - 1],
    ['sparse, from the middle of a gap', sparse, 10, 250],
    ['sparse, one slot', sparse, 41, 41],
    ['sparse, an empty stretch', sparse, 42, 199],
    ['sparse, the overflow slot alone', sparse, SLOTS - 1, SLOTS - 1],
    ['sparse, bounds beyond the slots', sparse, -5, SLOTS + 9],
    ['dense, a low range', dense, 0, 30],
    ['dense, a high range', dense, 280, SLOTS - 1],
    ['one I/O, a range around it', one, 100, 200],
    ['one I/O, a range beside it', one, 151, 300],
    ['an inverted range', dense, 50, 40],
  ])('%s: the range read in place', (_, histogram, first, last) => {
    const kept = histogram.map((n, slot) => (slot >= first && slot <= last ? n : 0));
    const count = kept.reduce((a, b) => a + b, 0);
    const at = (q: number): number => quantileSlot(kept, q);
    expect(regionStats(histogram, first, last)).toEqual({ count, min: at(Number.MIN_VALUE), p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) });
  });
});
