import { describe, expect, it } from 'vitest';
import { COLUMN_CELLS, OPS, SLOTS, UNSEEN_COUNTS, cellIndex } from '../../shared/scheme.ts';
import { deviceOpCounts, seriesFromCounters } from './counters.ts';

function column(cells: [number, number][], columns = 1): Uint32Array {
  const words = new Uint32Array(COLUMN_CELLS * 2 * columns);
  for (const [cell, count] of cells) {
    words[cell * 2] = count % 2 ** 32;
    words[cell * 2 + 1] = Math.floor(count / 2 ** 32);
  }
  return words;
}

describe('seriesFromCounters', () => {
  it('gives no series for an empty column', () => {
    expect(seriesFromCounters(column([]), [0])).toEqual([]);
  });

  it.each([
    {
      name: 'one latency cell',
      cells: [[cellIndex(0, 0, 1, 40), 7]] as [number, number][],
      want: [{ metric: 'latency', device: 0, op: 'write', slots: [40], counts: [7] }],
    },
    {
      name: 'latency and size of two devices, slots ascending',
      cells: [
        [cellIndex(0, 3, 0, 90), 2],
        [cellIndex(0, 3, 0, 12), 1],
        [cellIndex(1, 3, 0, 97), 3],
        [cellIndex(0, 15, 4, SLOTS - 1), 1],
      ] as [number, number][],
      want: [
        { metric: 'latency', device: 3, op: 'read', slots: [12, 90], counts: [1, 2] },
        { metric: 'latency', device: 15, op: 'other', slots: [SLOTS - 1], counts: [1] },
        { metric: 'size', device: 3, op: 'read', slots: [97], counts: [3] },
      ],
    },
    {
      name: 'a count above 2^32 (both words)',
      cells: [[cellIndex(1, 0, 2, 0), 2 ** 32 + 5]] as [number, number][],
      want: [{ metric: 'size', device: 0, op: 'flush', slots: [0], counts: [2 ** 32 + 5] }],
    },
  ])('$name', ({ cells, want }) => {
    expect(seriesFromCounters(column(cells), [0])).toEqual(want);
  });

  it('reads the column at the given ring position only, preserving its total', () => {
    const words = column([], 3);
    const second = COLUMN_CELLS;
    let total = 0;
    for (let k = 0; k < 200; k++) {
      const cell = (k * 7919) % COLUMN_CELLS;
      words[(second + cell) * 2] += k + 1;
      total += k + 1;
    }
    words[cellIndex(0, 0, 0, 5) * 2] = 99; // in the first column: must not leak in
    const series = seriesFromCounters(words, [second]);
    const counts = series.flatMap((s) => s.counts);
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('sums the same column of every per-CPU slice, and no other column', () => {
    // two slices of two ring columns each: slice k, column r starts at (k * 2 + r) * COLUMN_CELLS
    const words = column([], 4);
    const put = (first: number, cell: number, count: number) => (words[(first + cell) * 2] = count);
    put(1 * COLUMN_CELLS, cellIndex(0, 2, 1, 100), 3); // slice 0, column 1
    put(3 * COLUMN_CELLS, cellIndex(0, 2, 1, 100), 4); // slice 1, column 1
    put(3 * COLUMN_CELLS, cellIndex(1, 2, 1, 106), 7); // slice 1, column 1, size
    put(2 * COLUMN_CELLS, cellIndex(0, 2, 1, 100), 50); // slice 1, column 0: not this column
    expect(seriesFromCounters(words, [1 * COLUMN_CELLS, 3 * COLUMN_CELLS])).toEqual([
      { metric: 'latency', device: 2, op: 'write', slots: [100], counts: [7] },
      { metric: 'size', device: 2, op: 'write', slots: [106], counts: [7] },
    ]);
  });

  it('refuses an array shorter than one column', () => {
    expect(() => seriesFromCounters(new Uint32Array(10), [0])).toThrow(RangeError);
    expect(() => seriesFromCounters(new Uint32Array(COLUMN_CELLS * 2), [0, COLUMN_CELLS])).toThrow(RangeError);
  });
});

describe('deviceOpCounts', () => {
  it('reads unseen completions per device and op of one column, in device then op order', () => {
    const counts = new BigUint64Array(UNSEEN_COUNTS * 3);
    const third = UNSEEN_COUNTS * 2;
    counts[third + 5 * OPS.length + 3] = 2n; // device 5, discard
    counts[third + 0 * OPS.length + 0] = 40n; // device 0, read
    counts[third - 1] = 1n; // the second column's last counter
    expect(deviceOpCounts(counts, third)).toEqual([
      { device: 0, op: 'read', count: 40 },
      { device: 5, op: 'discard', count: 2 },
    ]);
  });
});
