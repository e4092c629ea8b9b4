import { describe, expect, it } from 'vitest';
import { slotOf } from './buckets.ts';
import type { Column } from './column.ts';
import { compareExemplars, droppedIn, EXEMPLAR_ORDERS, exemplarMatches, firstInOrder, insertionPoint, type Exemplar } from './exemplar.ts';

const exemplar = (timeMs: number, latencyNs: number, bytes = 4096, sector: number | null = 0): Exemplar => ({ timeMs, latencyNs, bytes, device: 0, op: 'write', sector, pid: 1, comm: 'dd' });
const region = { fromMs: 0, toMs: Infinity, latMinNs: 0, latMaxNs: Number.MAX_SAFE_INTEGER };

describe('exemplarMatches', () => {
  it.each([
    [{}, true],
    [{ sizeMinBytes: 4096, sizeMaxBytes: 4096 }, true],
    [{ sizeMinBytes: 4097 }, false],
    [{ sizeMaxBytes: 4095 }, false],
    [{ latMinNs: 1001 }, false],
    [{ latMaxNs: 1000 }, true],
  ])('%j: %s for a 4 KiB write of 1000 ns', (change, want) => expect(exemplarMatches(exemplar(5, 1000), { ...region, ...change })).toBe(want));
});

describe('the order of a region’s exemplars', () => {
  const pool = [exemplar(1, 500, 4096), exemplar(2, 900, 131_072), exemplar(3, 900, 4096), exemplar(4, 100, 1 << 20), exemplar(2, 900, 131_072, null)];

  it.each([
    ['slowest', [[2, 900, null], [2, 900, 0], [3, 900, 0], [1, 500, 0], [4, 100, 0]]],
    ['largest', [[4, 100, 0], [2, 900, null], [2, 900, 0], [1, 500, 0], [3, 900, 0]]],
    ['newest', [[4, 100, 0], [3, 900, 0], [2, 900, null], [2, 900, 0], [1, 500, 0]]],
    ['oldest', [[1, 500, 0], [2, 900, null], [2, 900, 0], [3, 900, 0], [4, 100, 0]]],
  ] as const)('%s first, ties by time then sector', (order, want) => {
    expect(firstInOrder(pool, order, 10).map((e) => [e.timeMs, e.latencyNs, e.sector])).toEqual(want);
    expect(firstInOrder([...pool].reverse(), order, 10)).toEqual(firstInOrder(pool, order, 10));
  });

  it('cuts a large region down to the same first ones as a full sort, ties included', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // few distinct values, so that many tie at the cut
    const many = Array.from({ length: 3000 }, () => exemplar(Math.floor(random() * 50), 1000 * Math.floor(random() * 20), 4096 * (1 + Math.floor(random() * 3)), Math.floor(random() * 5)));
    for (const order of EXEMPLAR_ORDERS) {
      const sorted = [...many].sort((a, b) => compareExemplars(order, a, b));
      for (const limit of [1, 7, 100, 2999, 3000]) expect(firstInOrder(many, order, limit)).toEqual(sorted.slice(0, limit));
    }
  });

  it('takes at most the limit', () => {
    expect(firstInOrder(pool, 'slowest', 2).map((e) => e.timeMs)).toEqual([2, 2]);
    expect(firstInOrder(pool, 'slowest', 0)).toEqual([]);
  });

  it('inserts where the sorted list stays sorted, after its equals', () => {
    for (const order of EXEMPLAR_ORDERS) {
      const sorted = firstInOrder(pool, order, 10);
      for (const e of [exemplar(0, 0), exemplar(9, 10_000, 1 << 30), exemplar(2, 900, 131_072, null), exemplar(2.5, 700, 8192)]) {
        const at = insertionPoint(sorted, e, order);
        const merged = [...sorted.slice(0, at), e, ...sorted.slice(at)];
        expect(merged).toEqual([...merged].sort((a, b) => compareExemplars(order, a, b)));
        if (at < sorted.length) expect(compareExemplars(order, e, sorted[at]!)).toBeLessThan(0);
      }
    }
  });
});

describe('droppedIn', () => {
  const columns: Column[] = [
    { seq: 1, startMs: 1000, intervalMs: 1000, series: [], droppedExemplars: [{ device: 0, op: 'read', count: 4 }, { device: 1, op: 'write', count: 2 }] },
    { seq: 2, startMs: 2000, intervalMs: 1000, series: [] },
    {
      seq: 3,
      startMs: 3000,
      intervalMs: 1000,
      series: [],
      droppedExemplars: [
        { device: 0, op: 'write', count: 1, slot: slotOf(100_000) },
        { device: 0, op: 'write', count: 8, slot: slotOf(150_000_000) },
      ],
    },
  ];
  const everything = { fromMs: 0, toMs: Infinity, latMinNs: 0, latMaxNs: Number.MAX_SAFE_INTEGER };

  it.each([
    ['everything', {}, 15],
    ['device 0', { devices: [0] }, 13],
    ['writes', { devices: [], ops: ['write' as const] }, 11],
    ['device 1 reads', { devices: [1], ops: ['read' as const] }, 0],
    ['the region’s columns only', { fromMs: 2000, toMs: 3000 }, 0],
    ['a column overlapping the region', { fromMs: 3500, toMs: 3600 }, 9],
    ['the slow buckets (drops without a bucket count at any latency)', { latMinNs: 100_000_000 }, 14],
    ['the bucket of 100 µs, to its bounds', { latMinNs: 100_000, latMaxNs: 100_000 }, 7],
    ['a size range: drops carry no size', { sizeMinBytes: 1 << 20 }, 15],
  ])('%s', (_, change, want) => expect(droppedIn(columns, { ...everything, ...change })).toBe(want));

  it('is 0 without columns', () => expect(droppedIn([], everything)).toBe(0));
});
