import { describe, expect, it } from 'vitest';
import { slotOf } from '../../shared/buckets.ts';
import { quantileSlot } from '../../shared/column.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import { SLOTS } from '../../shared/scheme.ts';
import { DEFAULT_SORT, describeCapture, exemplarCell, nextSort, parseThreshold, sortExemplars, sortForOrder, topProcesses } from './drilldown.ts';

const exemplar = (change: Partial<Exemplar>): Exemplar => ({ timeMs: 0, latencyNs: 1000, bytes: 4096, device: 0, op: 'write', sector: 0, pid: 1, comm: 'dd', ...change });

describe('sortExemplars', () => {
  const rows = [
    exemplar({ timeMs: 1, latencyNs: 300, comm: 'fio', sector: 0 }),
    exemplar({ timeMs: 2, latencyNs: 900, comm: 'dd', sector: 16 }),
    exemplar({ timeMs: 3, latencyNs: 300, comm: 'Dd', sector: 8 }),
  ];
  const order = (sort: Parameters<typeof sortExemplars>[1]) => sortExemplars(rows, sort).map((e) => e.timeMs);

  it('puts the slowest first by default, ties by time in the same direction', () => {
    expect(order(DEFAULT_SORT)).toEqual([2, 3, 1]);
    expect(order({ key: 'latencyNs', descending: false })).toEqual([1, 3, 2]);
  });

  it('sorts names as text and numbers as numbers, and leaves its input alone', () => {
    expect(order({ key: 'comm', descending: false })).toEqual([3, 2, 1]);
    expect(order({ key: 'comm', descending: true })).toEqual([1, 2, 3]);
    expect(order({ key: 'sector', descending: false })).toEqual([1, 3, 2]);
    expect(rows.map((e) => e.timeMs)).toEqual([1, 2, 3]);
  });

  it('puts an exemplar without a sector (a flush) before sector 0', () => {
    const withFlush = [...rows, exemplar({ timeMs: 4, op: 'flush', sector: null })];
    expect(sortExemplars(withFlush, { key: 'sector', descending: false }).map((e) => e.timeMs)).toEqual([4, 1, 3, 2]);
  });

  it('flips on a second click; a new column starts descending for numbers, ascending for names', () => {
    expect(nextSort(DEFAULT_SORT, 'latencyNs')).toEqual({ key: 'latencyNs', descending: false });
    expect(nextSort(DEFAULT_SORT, 'sector')).toEqual({ key: 'sector', descending: true });
    expect(nextSort(DEFAULT_SORT, 'comm')).toEqual({ key: 'comm', descending: false });
    expect(nextSort(DEFAULT_SORT, 'op')).toEqual({ key: 'op', descending: false });
  });
});

describe('topProcesses', () => {
  it('groups by comm and pid, most I/Os first, with nearest-rank percentiles', () => {
    const latencies = Array.from({ length: 200 }, (_, k) => (k + 1) * 10);
    const rows = topProcesses([
      ...latencies.map((latencyNs) => exemplar({ latencyNs, pid: 5, comm: 'dd' })),
      exemplar({ latencyNs: 7, pid: 5, comm: 'kworker' }),
      exemplar({ latencyNs: 9_000, pid: 6, comm: 'dd' }),
      exemplar({ latencyNs: 8_000, pid: 6, comm: 'dd' }),
    ]);
    expect(rows.map((r) => [r.comm, r.pid, r.count])).toEqual([['dd', 5, 200], ['dd', 6, 2], ['kworker', 5, 1]]);
    // rank ceil(0.5 * 200) = 100, ceil(0.99 * 200) = 198
    expect(rows[0]).toMatchObject({ p50Ns: 1000, p99Ns: 1980, maxNs: 2000 });
    expect(rows[1]).toMatchObject({ p50Ns: 8000, p99Ns: 9000, maxNs: 9000 });
    expect(rows[2]).toMatchObject({ p50Ns: 7, p99Ns: 7, maxNs: 7 });
  });

  it('is empty for no exemplars; equal counts go slowest first', () => {
    expect(topProcesses([])).toEqual([]);
    const rows = topProcesses([exemplar({ pid: 1, latencyNs: 5 }), exemplar({ pid: 2, latencyNs: 50 })]);
    expect(rows.map((r) => r.pid)).toEqual([2, 1]);
  });

  it('each percentile lies in the bucket the bucket statistics give for the same I/Os', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 50; round++) {
      const n = 1 + Math.floor(random() * 300);
      const exemplars = Array.from({ length: n }, () => exemplar({ latencyNs: Math.floor(2 ** (random() * 30)) }));
      const histogram = new Float64Array(SLOTS);
      for (const e of exemplars) histogram[slotOf(e.latencyNs)]!++;
      const [row] = topProcesses(exemplars);
      expect(slotOf(row!.p50Ns)).toBe(quantileSlot(histogram, 0.5));
      expect(slotOf(row!.p99Ns)).toBe(quantileSlot(histogram, 0.99));
      expect(slotOf(row!.maxNs)).toBe(quantileSlot(histogram, 1));
    }
  });
});

describe('sortForOrder', () => {
  it.each([
    ['slowest', { key: 'latencyNs', descending: true }],
    ['largest', { key: 'bytes', descending: true }],
    ['newest', { key: 'timeMs', descending: true }],
    ['oldest', { key: 'timeMs', descending: false }],
  ] as const)('sorts the table of the %s by what chose them', (order, sort) => expect(sortForOrder(order)).toEqual(sort));
});

describe('exemplarCell', () => {
  it('is the column of its completion time and the bucket of the metric shown', () => {
    const e = exemplar({ timeMs: 2999.999, latencyNs: 1_000_000, bytes: 65536 });
    expect(exemplarCell(e, 1000, 'latency')).toEqual({ seq: 2, slot: slotOf(1_000_000) });
    expect(exemplarCell(e, 250, 'size')).toEqual({ seq: 11, slot: slotOf(65536) });
    expect(exemplarCell({ ...e, timeMs: 3000 }, 1000, 'latency').seq).toBe(3);
  });
});

describe('parseThreshold', () => {
  it.each([
    ['adaptive', null],
    [' Adaptive ', null],
    ['0', 0],
    ['250us', 250_000],
    ['250 µs', 250_000],
    ['2ms', 2_000_000],
    ['1.5 ms', 1_500_000],
    ['1s', 1_000_000_000],
    ['800ns', 800],
  ])('%j is %j ns', (text, ns) => {
    expect(parseThreshold(text)).toEqual({ thresholdNs: ns });
  });

  it.each(['', '5', '-1ms', 'fast', '2 min', '1e3us', '99999999999s'])('refuses %j with a reason', (text) => {
    expect(parseThreshold(text)).toHaveProperty('error');
  });
});

describe('describeCapture', () => {
  it('says what is captured', () => {
    expect(describeCapture({ thresholdNs: null, perBucketPerSecond: 200 })).toMatch(/adaptive/);
    expect(describeCapture({ thresholdNs: 0, perBucketPerSecond: 200 })).toBe('every I/O');
    expect(describeCapture({ thresholdNs: 2_000_000, perBucketPerSecond: 200 })).toBe('I/Os of 2 ms or more');
  });
});
