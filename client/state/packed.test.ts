import { describe, expect, it } from 'vitest';
import { histogramOf, type Column } from '../../shared/column.ts';
import { SLOTS } from '../../shared/scheme.ts';
import { decodePackedColumns, encodePackedColumns } from '../../shared/protocol.ts';
import { PackedColumn, narrowest, seriesFilter } from './packed.ts';

const column: Column = {
  seq: 4,
  startMs: 4000,
  intervalMs: 1000,
  series: [
    { metric: 'latency', device: 0, op: 'read', slots: [3, 40], counts: [1, 2] },
    { metric: 'latency', device: 2, op: 'write', slots: [40], counts: [5] },
    { metric: 'size', device: 0, op: 'read', slots: [12], counts: [3] },
    { metric: 'latency', device: 0, op: 'flush', slots: [], counts: [] },
  ],
  droppedExemplars: [{ device: 0, op: 'read', count: 2 }],
};

describe('narrowest', () => {
  it('takes 16 bits while every value fits, then 32, then doubles', () => {
    expect(narrowest(1, 0xffff)).toBeInstanceOf(Uint16Array);
    expect(narrowest(1, 0x1_0000)).toBeInstanceOf(Uint32Array);
    expect(narrowest(1, 0xffff_ffff)).toBeInstanceOf(Uint32Array);
    expect(narrowest(1, 2 ** 32)).toBeInstanceOf(Float64Array);
  });
});

describe('PackedColumn', () => {
  it('reads a column of a packed answer into the same layout as from the column itself', () => {
    const big: Column = { seq: 9, startMs: 9000, intervalMs: 1000, series: [{ metric: 'size', device: 70_000, op: 'other', slots: [1, SLOTS - 1], counts: [2 ** 33, 1] }] };
    const empty: Column = { seq: 12, startMs: 12_000, intervalMs: 1000, series: [] };
    const answer = decodePackedColumns(encodePackedColumns([column, big, empty], 1000, 12));
    [column, big, empty].forEach((c, i) => {
      const fromAnswer = PackedColumn.fromPacked(answer, i);
      const direct = PackedColumn.of(c);
      expect(fromAnswer.data).toEqual(direct.data);
      expect(fromAnswer.data.constructor).toBe(direct.data.constructor);
      expect([fromAnswer.seq, fromAnswer.startMs, fromAnswer.intervalMs, fromAnswer.seriesCount, fromAnswer.droppedExemplars]).toEqual([c.seq, c.startMs, c.intervalMs, c.series.length, c.droppedExemplars]);
    });
  });

  it('gives back the series it was made of, and keeps the rest of the column', () => {
    const packed = PackedColumn.of(column);
    expect(packed.series).toEqual(column.series);
    expect(packed).toMatchObject({ seq: 4, startMs: 4000, intervalMs: 1000, droppedExemplars: column.droppedExemplars });
    expect(PackedColumn.of({ ...column, series: [] }).series).toEqual([]);
  });

  it('keeps counts and device ids of any size exactly', () => {
    for (const big of [65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 52]) {
      const c: Column = { ...column, series: [{ metric: 'latency', device: big % 70_000, op: 'read', slots: [0, 322], counts: [big, 1] }] };
      expect(PackedColumn.of(c).series).toEqual(c.series);
    }
  });

  it('adds what a filter accepts exactly as histogramOf does, and subtracts it back', () => {
    for (const filter of [{ metric: 'latency' }, { metric: 'size' }, { metric: 'latency', devices: [2] }, { metric: 'latency', ops: ['read', 'flush'] }] as const) {
      const h = new Float64Array(SLOTS);
      const packed = PackedColumn.of(column);
      packed.addTo(seriesFilter(filter), 1, () => [h]);
      expect([...h]).toEqual([...histogramOf(column, filter)]);
      packed.addTo(seriesFilter(filter), -1, () => [h]);
      expect(h.every((v) => v === 0)).toBe(true);
    }
  });

  it('hands each accepted series to the sums of its device and op', () => {
    const seen: string[] = [];
    PackedColumn.of(column).addTo(seriesFilter({ metric: 'latency' }), 1, (device, op) => (seen.push(`${device}/${op}`), null));
    expect(seen).toEqual(['0/0', '2/1', '0/2']);
  });
});
