import { describe, expect, it } from 'vitest';
import { histogramOf, type Column, type Filter, type Series } from './column.ts';
import { OPS, SLOTS } from './scheme.ts';
import { ColumnSum, rollUp, stepFor, stepsOf } from './rollup.ts';
import { seededRandom } from '../test/random.ts';

/** Columns of 1 s from seq `first`, with holes (skipped seqs), several devices, ops and both metrics, and some drops. */
function columns(seed: number, first: number, count: number): Column[] {
  const next = seededRandom(seed);
  const out: Column[] = [];
  for (let seq = first; seq < first + count; seq++) {
    if (next() < 0.1) continue;
    const series: Series[] = [];
    for (const metric of ['latency', 'size'] as const) {
      for (let device = 0; device < 3; device++) {
        const op = OPS[Math.floor(next() * OPS.length)]!;
        if (series.some((s) => s.metric === metric && s.device === device && s.op === op) || next() < 0.3) continue;
        const slots = [...new Set(Array.from({ length: 1 + Math.floor(next() * 12) }, () => Math.floor(next() * SLOTS)))].sort((a, b) => a - b);
        series.push({ metric, device, op, slots, counts: slots.map(() => 1 + Math.floor(next() * 5000)) });
      }
    }
    const column: Column = { seq, startMs: seq * 1000, intervalMs: 1000, series };
    out.push(next() < 0.2 ? { ...column, droppedExemplars: [{ device: 1, op: 'write', count: 1 + Math.floor(next() * 9) }, { device: 2, op: 'read', count: 1 + Math.floor(next() * 9), slot: 100 + Math.floor(next() * 3) }] } : column);
  }
  return out;
}

function sumOf(cols: readonly Column[]): Column {
  const sum = new ColumnSum();
  for (const column of cols) sum.add(column);
  return sum.toColumn(0, 0, 1);
}

const FILTERS: Filter[] = [
  { metric: 'latency' },
  { metric: 'size' },
  { metric: 'latency', devices: [1], ops: ['read', 'write'] },
  { metric: 'size', devices: [0, 2] },
];

describe('roll-ups', () => {
  const day = columns(7, 1_800_000_000 - 3333, 7200); // two hours not aligned to any step

  it('sum to the same histograms at every step, under every filter', () => {
    const whole = sumOf(day);
    for (const step of [10_000, 60_000, 600_000, 3_600_000]) {
      const rolled = rollUp(day, step);
      expect(rolled.every((c) => c.intervalMs === step && c.startMs === c.seq * step), `step ${step}`).toBe(true);
      expect(sumOf(rolled), `step ${step}`).toEqual(whole);
      for (const filter of FILTERS) expect(histogramOf(sumOf(rolled), filter)).toEqual(histogramOf(whole, filter));
    }
  });

  it('hold exactly the columns of their step', () => {
    for (const rollup of rollUp(day, 60_000)) {
      const inside = day.filter((c) => c.startMs >= rollup.startMs && c.startMs < rollup.startMs + 60_000);
      expect(inside.length).toBeGreaterThan(0);
      expect(sumOf([rollup])).toEqual(sumOf(inside));
    }
  });

  it('any split of a range into steps sums to the same histogram', () => {
    const next = seededRandom(99);
    const whole = sumOf(day);
    const steps = [1000, 10_000, 60_000, 600_000];
    for (let trial = 0; trial < 20; trial++) {
      // cut the range at random places, and draw each piece at a random step whose grid it fits
      const cuts = [...new Set(Array.from({ length: 1 + Math.floor(next() * 6) }, () => Math.floor(next() * 12) * 600_000 + 1_800_000_000_000 - 3_600_000))].sort((a, b) => a - b);
      const edges = [-Infinity, ...cuts, Infinity];
      const pieces: Column[] = [];
      for (let k = 0; k + 1 < edges.length; k++) {
        const inside = day.filter((c) => c.startMs >= edges[k]! && c.startMs < edges[k + 1]!);
        const step = steps[Math.floor(next() * steps.length)]!;
        // the cuts are on the 10-min grid, so a roll-up never straddles two pieces
        pieces.push(...(step === 1000 ? inside : rollUp(inside, step)));
      }
      expect(sumOf(pieces), `cuts ${cuts.join(',')}`).toEqual(whole);
    }
  });

  it('of roll-ups are the roll-ups of the columns (10 s → 1 min → 10 min)', () => {
    expect(rollUp(rollUp(day, 10_000), 60_000)).toEqual(rollUp(day, 60_000));
    expect(rollUp(rollUp(rollUp(day, 10_000), 60_000), 600_000)).toEqual(rollUp(day, 600_000));
  });

  it('keep the dropped-exemplar counts', () => {
    const dropped = (cols: readonly Column[]): number => cols.reduce((n, c) => n + (c.droppedExemplars ?? []).reduce((m, d) => m + d.count, 0), 0);
    expect(dropped(day)).toBeGreaterThan(0);
    expect(dropped(rollUp(day, 600_000))).toBe(dropped(day));
  });

  it('keep the unseen completions per device and op', () => {
    const a: Column = { seq: 1, startMs: 1000, intervalMs: 1000, series: [], unseen: [{ device: 2, op: 'read', count: 3 }, { device: 0, op: 'write', count: 1 }] };
    const b: Column = { seq: 2, startMs: 2000, intervalMs: 1000, series: [], unseen: [{ device: 2, op: 'read', count: 4 }] };
    expect(rollUp([a, b], 10_000)[0]!.unseen).toEqual([{ device: 0, op: 'write', count: 1 }, { device: 2, op: 'read', count: 7 }]);
    expect(sumOf([b]).unseen).toEqual([{ device: 2, op: 'read', count: 4 }]);
    expect(sumOf(day.slice(0, 5)).unseen).toBeUndefined();
  });

  it('of nothing is nothing', () => {
    expect(rollUp([], 10_000)).toEqual([]);
    expect(new ColumnSum().toColumn(4, 40_000, 10_000)).toEqual({ seq: 4, startMs: 40_000, intervalMs: 10_000, series: [] });
  });
});

describe('steps', () => {
  it('are the interval, then the level steps that are coarser whole multiples of it', () => {
    const cases: [number, number[]][] = [
      [1000, [1000, 10_000, 60_000, 600_000]],
      [100, [100, 10_000, 60_000, 600_000]],
      [10_000, [10_000, 60_000, 600_000]],
      [7000, [7000]],
      [4000, [4000, 60_000, 600_000]],
      [600_000, [600_000]],
    ];
    for (const [interval, steps] of cases) expect(stepsOf(interval), `interval ${interval}`).toEqual(steps);
  });

  it('answer at the coarsest that still gives every pixel its own cell', () => {
    const steps = [1000, 10_000, 60_000, 600_000];
    const cases: [number, number][] = [
      [0.5, 1000], // finer than the columns: the columns
      [1000, 1000],
      [9999, 1000],
      [10_000, 10_000],
      [86_400_000 / 1920, 10_000], // a day across 1,920 pixels: 45 s a pixel
      [7 * 86_400_000 / 1920, 60_000], // a week: 315 s a pixel
      [30 * 86_400_000 / 1920, 600_000],
    ];
    for (const [msPerPixel, step] of cases) expect(stepFor(steps, msPerPixel), `${msPerPixel} ms a pixel`).toBe(step);
  });
});
