import { describe, expect, it } from 'vitest';
import type { Column } from '../../shared/column.ts';
import { ColumnStore } from './store.ts';

function column(seq: number, counts: Record<number, number> = {}, device = 0): Column {
  const slots = Object.keys(counts).map(Number);
  return { seq, startMs: seq * 1000, intervalMs: 1000, series: slots.length ? [{ metric: 'latency', device, op: 'read', slots, counts: slots.map((s) => counts[s]!) }] : [] };
}

function store(capacity?: number): ColumnStore {
  const s = new ColumnStore(capacity);
  s.setHello({ type: 'hello', version: 1, source: 'synthetic', host: 'h', scheme: { name: 'otel-exponential', scale: 3, slots: 323 }, devices: [], ops: [], metrics: [], intervalMs: 1000, oldestSeq: null, newestSeq: null, selfStats: null, exemplarCapture: null });
  return s;
}

describe('ColumnStore', () => {
  it('keeps columns ordered by seq whatever the arrival order, and reports holes', () => {
    const s = store();
    for (const seq of [10, 11, 14, 5, 12]) s.add(column(seq));
    expect(s.allSeqs()).toEqual([5, 10, 11, 12, 14]);
    expect(s.missing(5, 15)).toEqual([[6, 9], [13, 13], [15, 15]]);
    expect(s.range(10_500, 12_000).map((c) => c.seq)).toEqual([10, 11]);
    expect(s.newestEndMs).toBe(15_000);
  });

  it('evicts the oldest columns past its capacity', () => {
    const s = store(3);
    for (let seq = 1; seq <= 5; seq++) s.add(column(seq));
    expect(s.allSeqs()).toEqual([3, 4, 5]);
  });

  it('caches histograms per filter and recomputes when the filter changes', () => {
    const s = store();
    const c = column(1, { 100: 3 }, 1);
    s.add(c);
    expect(s.histogram(c, { metric: 'latency' })[100]).toBe(3);
    expect(s.histogram(c, { metric: 'latency', devices: [0] })[100]).toBe(0);
    expect(s.histogram(c, { metric: 'latency', devices: [1] })[100]).toBe(3);
  });

  it('a replaced column replaces its histogram', () => {
    const s = store();
    s.add(column(1, { 100: 3 }));
    s.histogram(column(1), { metric: 'latency' });
    const replacement = column(1, { 100: 5 });
    s.add(replacement);
    expect(s.histogram(replacement, { metric: 'latency' })[100]).toBe(5);
    expect(s.size).toBe(1);
  });
});
