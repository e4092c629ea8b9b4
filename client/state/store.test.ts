import { describe, expect, it } from 'vitest';
import type { Column } from '../../shared/column.ts';
import { ColumnStore } from './store.ts';

function column(seq: number, counts: Record<number, number> = {}, device = 0): Column {
  const slots = Object.keys(counts).map(Number);
  return { seq, startMs: seq * 1000, intervalMs: 1000, series: slots.length ? [{ metric: 'latency', device, op: 'read', slots, counts: slots.map((s) => counts[s]!) }] : [] };
}

function store(capacity?: number): ColumnStore {
  const s = new ColumnStore(capacity);
  s.setHello({ type: 'hello', version: 1, source: 'synthetic', host: 'h', scheme: { name: 'otel-exponential', scale: 3, slots: 323 }, devices: [], ops: [], metrics: [], intervalMs: 1000, steps: [1000], oldestSeq: null, newestSeq: null, selfStats: null, exemplarCapture: null });
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

  it('reports the holes of any range as a walk over its seqs would', () => {
    const walked = (held: ReadonlySet<number>, fromSeq: number, toSeq: number): [number, number][] => {
      const runs: [number, number][] = [];
      for (let seq = fromSeq; seq <= toSeq; seq++) {
        if (held.has(seq)) continue;
        const last = runs.at(-1);
        if (last && last[1] === seq - 1) last[1] = seq;
        else runs.push([seq, seq]);
      }
      return runs;
    };
    let seed = 7;
    const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const layouts: number[][] = [
      [],
      Array.from({ length: 50 }, (_, k) => k + 100),
      Array.from({ length: 300 }, (_, k) => k).filter(() => random() < 0.8),
      Array.from({ length: 300 }, (_, k) => k * 3),
      [0, 1, 2, 50, 51, 52, 53, 299],
    ];
    for (const seqs of layouts) {
      const s = store();
      for (const seq of seqs) s.add(column(seq));
      const held = new Set(seqs);
      for (const [fromSeq, toSeq] of [[0, 299], [-10, 320], [100, 149], [101, 148], [50, 50], [53, 60], [310, 330], [20, 10]] as const) {
        expect(s.missing(fromSeq, toSeq), `${seqs.length} held, ${fromSeq}..${toSeq}`).toEqual(walked(held, fromSeq, toSeq));
      }
    }
  });

  it('takes the hosts a devices message names (a host that began exporting later), and keeps them when it names none', () => {
    const s = new ColumnStore();
    s.setHello({ type: 'hello', version: 1, source: 'prometheus', host: 'fleet', scheme: { name: 'otel-exponential', scale: 3, slots: 323 }, devices: [], hosts: ['db1'], ops: [], metrics: [], intervalMs: 1000, steps: [1000], oldestSeq: null, newestSeq: null, selfStats: null, exemplarCapture: null });
    const version = s.version;
    s.setDevices([{ id: 0, name: 'sda' }], ['db1', 'db2']);
    expect([s.meta!.devices, s.meta!.hosts, s.version > version]).toEqual([[{ id: 0, name: 'sda' }], ['db1', 'db2'], true]);
    s.setDevices([{ id: 0, name: 'sda' }, { id: 1, name: 'sdb' }]);
    expect(s.meta!.hosts).toEqual(['db1', 'db2']);
  });

  it('evicts the oldest columns past its capacity', () => {
    const s = store(3);
    for (let seq = 1; seq <= 5; seq++) s.add(column(seq));
    expect(s.allSeqs()).toEqual([3, 4, 5]);
  });

  it('packs columns without losing a count, and replaces a column held', () => {
    const s = store();
    s.add(column(1, { 100: 3, 7: 70_000 }, 1));
    expect(s.range(1000, 2000)[0]!.series).toEqual([{ metric: 'latency', device: 1, op: 'read', slots: [7, 100], counts: [70_000, 3] }]);
    s.add(column(1, { 100: 5 }));
    expect(s.range(1000, 2000)[0]!.series[0]!.counts).toEqual([5]);
    expect(s.size).toBe(1);
  });

  it('tells its listener of every column added, replaced and evicted', () => {
    const events: string[] = [];
    const s = new ColumnStore(2, (seq, before, after) => events.push(`${seq}:${before ? 'old' : '-'}>${after ? 'new' : '-'}`));
    for (const seq of [1, 3, 2]) s.add(column(seq));
    s.add(column(3));
    expect(events).toEqual(['1:->new', '3:->new', '2:->new', '1:old>-', '3:old>new']);
  });

  it('merges a history answer in one pass: the same columns, order and listener calls as adding them one by one', () => {
    const events: string[] = [];
    const listen = (seq: number, before: unknown, after: unknown) => events.push(`${seq}:${before ? 'old' : '-'}>${after ? 'new' : '-'}`);
    const merged = new ColumnStore(6, listen);
    for (const seq of [4, 8, 9]) merged.add(column(seq));
    events.length = 0;
    merged.addAll([2, 3, 4, 6, 10].map((seq) => column(seq, { 50: seq })));
    expect(merged.allSeqs()).toEqual([3, 4, 6, 8, 9, 10]);
    expect(events).toEqual(['2:->new', '3:->new', '4:old>new', '6:->new', '10:->new', '2:old>-']);
    expect(merged.get(4)!.series[0]!.counts).toEqual([4]);
    expect(merged.get(5)).toBeUndefined();
  });

  it("betweenKept() hands over the last call's array while neither the range nor the store changed, and never changes an array it handed over", () => {
    const s = store(6);
    for (const seq of [1, 2, 3, 5]) s.add(column(seq, { 4: seq }));
    const held = s.betweenKept(1, 6);
    const asHanded = [...held];
    expect(held.map((c) => c.seq)).toEqual([1, 2, 3, 5]);
    expect(s.betweenKept(1, 6), 'nothing changed').toBe(held);
    expect(s.betweenKept(2, 6), 'another range').not.toBe(held);
    expect(s.betweenKept(1, 6), 'the first range again').not.toBe(held);
    const again = s.betweenKept(1, 6);
    s.add(column(6, { 4: 6 }));
    const grown = s.betweenKept(1, 6);
    expect(grown, 'a column added').not.toBe(again);
    expect(grown.map((c) => c.seq)).toEqual([1, 2, 3, 5, 6]);
    // a replaced column, a column inserted in a hole, and evictions past the capacity of 6
    s.add(column(2, { 7: 1 }));
    s.add(column(4, { 4: 4 }));
    s.add(column(7, { 4: 7 }));
    expect(s.betweenKept(1, 7).map((c) => c.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(held).toEqual(asHanded);
    held.forEach((c, k) => expect(c).toBe(asHanded[k]));
  });
});

