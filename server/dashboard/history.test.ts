import { describe, expect, it } from 'vitest';
import { History, ROLLUPS_PER_CHUNK, defaultLevels, type HistoryEntry } from './history.ts';
import type { Column } from '../../shared/column.ts';
import { rollUp } from '../../shared/rollup.ts';
import { encodePackedColumns, packedColumnBytes } from '../../shared/protocol.ts';

function entry(seq: number, bytes = 10, intervalMs = 1000): HistoryEntry {
  return { seq, startMs: seq * intervalMs, intervalMs, wire: Buffer.alloc(bytes, 120) };
}

function fill(history: History, seqs: readonly number[], bytes = 10): void {
  for (const seq of seqs) history.push(entry(seq, bytes));
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, k) => from + k);

describe('History', () => {
  it('keeps at most capacity entries, evicting the oldest, and counts their bytes', () => {
    const history = new History(5);
    expect([history.size, history.oldestSeq, history.newestSeq, history.bytes]).toEqual([0, null, null, 0]);
    const evicted: (number | null)[] = [];
    for (let seq = 100; seq < 112; seq++) evicted.push(history.push(entry(seq, seq - 99))?.seq ?? null);
    expect(evicted).toEqual([null, null, null, null, null, 100, 101, 102, 103, 104, 105, 106]);
    expect(history.size).toBe(5);
    expect([history.oldestSeq, history.newestSeq]).toEqual([107, 111]);
    expect(Array.from({ length: 5 }, (_, i) => history.at(i).seq)).toEqual(range(107, 111));
    expect(history.bytes).toBe(8 + 9 + 10 + 11 + 12);
  });

  it('does not grow once full, however long it runs', () => {
    const history = new History(1000);
    fill(history, range(0, 99_999), 1);
    expect(history.size).toBe(1000);
    expect(history.bytes).toBe(1000);
    expect(history.oldestSeq).toBe(99_000);
  });

  it('refuses seqs that do not ascend', () => {
    const history = new History(3);
    fill(history, [5, 6]);
    expect(() => history.push(entry(6))).toThrow(/ascend/);
    expect(() => history.push(entry(2))).toThrow(/ascend/);
    expect(history.size).toBe(2);
  });

  it('finds entries by seq, across a gap and across the ring wrap', () => {
    const history = new History(6);
    fill(history, [1, 2, 3, 10, 11, 12, 13, 14]); // 1 and 2 evicted; 3 then a jump to 10
    expect(Array.from({ length: history.size }, (_, i) => history.at(i).seq)).toEqual([3, 10, 11, 12, 13, 14]);
    const cases: [number, number][] = [
      [0, 0], [3, 0], [4, 1], [9, 1], [10, 1], [13, 4], [14, 5], [15, 6],
    ];
    for (const [seq, index] of cases) expect(history.indexOfSeq(seq), `seq ${seq}`).toBe(index);
    expect(history.get(11)?.seq).toBe(11);
    expect(history.get(5)).toBeUndefined();
    expect(history.get(2)).toBeUndefined();
    expect(() => history.at(6)).toThrow(RangeError);
  });

  it('selects the entries overlapping a time range, [from, to)', () => {
    const history = new History(100);
    fill(history, range(10, 19)); // columns [10 s, 20 s)
    const seqs = (from: number, to: number): number[] => [...history.inTimeRange(from, to)].map((e) => e.seq);
    expect(seqs(0, 100_000)).toEqual(range(10, 19));
    expect(seqs(12_000, 14_000)).toEqual([12, 13]);
    expect(seqs(12_500, 14_001)).toEqual([12, 13, 14]); // partly covered columns count
    expect(seqs(0, 10_000)).toEqual([]);
    expect(seqs(20_000, 30_000)).toEqual([]);
    for (const [from, to] of [[0, 100_000], [12_500, 14_001], [0, 10_000], [19_999, 20_000]] as const) {
      expect(history.countInTimeRange(from, to)).toBe(seqs(from, to).length);
    }
  });

  it('needs a positive whole capacity', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) expect(() => new History(capacity)).toThrow(RangeError);
  });
});

function column(seq: number, count: number): Column {
  return { seq, startMs: seq * 1000, intervalMs: 1000, series: [{ metric: 'latency', device: seq % 2, op: 'read', slots: [10 + (seq % 7)], counts: [count] }] };
}

describe('History levels', () => {
  const levels = [
    { stepMs: 10_000, capacity: 30 },
    { stepMs: 60_000, capacity: 8 },
  ];

  it('keeps the roll-ups of every level, the one still filling included', () => {
    const history = new History(1000, levels);
    const recorded: Column[] = [];
    for (let seq = 995; seq < 1195; seq++) {
      if (seq % 13 === 0) continue; // a source that skipped a column
      recorded.push(column(seq, 1 + (seq % 5)));
      history.record(recorded[recorded.length - 1]!);
    }
    const from = 0;
    const to = 2_000_000;
    expect(history.columnsAt(1000, from, to)).toEqual(recorded);
    for (const { stepMs } of levels) {
      expect(history.columnsAt(stepMs, from, to), `step ${stepMs}`).toEqual(rollUp(recorded, stepMs));
      expect(history.countAt(stepMs, from, to)).toBe(rollUp(recorded, stepMs).length);
    }
    // the 1-min roll-up of seqs 1140..1199 is still filling: it holds 1140..1194 so far
    const open = history.level(60_000)!.openColumn()!;
    expect(open).toEqual(rollUp(recorded.filter((c) => c.seq >= 1140), 60_000)[0]);
    // a range inside one roll-up answers that roll-up
    expect(history.columnsAt(10_000, 1_101_000, 1_102_000).map((c) => c.seq)).toEqual([110]);
  });

  it('bounds every level by its capacity, while reaching further back than the columns', () => {
    const history = new History(100, levels);
    for (let seq = 0; seq < 5000; seq++) history.record(column(seq, 1));
    expect(history.size).toBe(100);
    expect(history.level(10_000)!.ring.size).toBe(30);
    expect(history.level(60_000)!.ring.size).toBe(8);
    expect(history.level(60_000)!.span()).toEqual({ fromMs: (83 - 8) * 60_000, toMs: 84 * 60_000 });
    expect(history.totalBytes).toBe(history.bytes + history.level(10_000)!.ring.bytes + history.level(60_000)!.ring.bytes);
    expect(history.steps(1000)).toEqual([1000, 10_000, 60_000]);
  });

  it('keeps finished roll-ups packed across chunks, and answers any range of them packed as encodePackedColumns would', () => {
    const history = new History(100, [{ stepMs: 10_000, capacity: 70 }]);
    const recorded: Column[] = [];
    for (let seq = 0; seq < 1005; seq++) {
      const c = column(seq, 1 + (seq % 3));
      recorded.push(seq % 11 === 0 ? { ...c, droppedExemplars: [{ device: 1, op: 'write', count: 2, slot: 40 }], unseen: [{ device: 0, op: 'read', count: seq }] } : c);
      history.record(recorded.at(-1)!);
    }
    // 100 finished (the first 30 evicted: held from the middle of the first chunk into the second) and one filling
    const rollups = rollUp(recorded, 10_000);
    expect(ROLLUPS_PER_CHUNK).toBeLessThan(100);
    expect(history.level(10_000)!.ring.oldestSeq).toBe(30);
    const ranges: [number, number][] = [[0, 2_000_000], [305_000, 655_000], [640_000, 650_000], [995_000, 1_000_001], [700_000, 1_000_000]];
    for (const [from, to] of ranges) {
      const expected = rollups.filter((r) => r.seq >= 30 && r.startMs < to && r.startMs + 10_000 > from);
      expect(history.columnsAt(10_000, from, to), `[${from}, ${to})`).toEqual(expected);
      const packed = history.packedAt(10_000, from, to);
      expect(Buffer.from(packed).equals(encodePackedColumns(expected, 10_000, 1004)), `packed [${from}, ${to})`).toBe(true);
      const latency = history.packedAt(10_000, from, to, (metric, device) => metric === 'latency' && device === 1);
      const latencyExpected = expected.map((r) => ({ ...r, series: r.series.filter((s) => s.device === 1) }));
      expect(Buffer.from(latency).equals(encodePackedColumns(latencyExpected, 10_000, 1004)), `device 1 [${from}, ${to})`).toBe(true);
    }
    const held = rollups.filter((r) => r.seq >= 30 && r.seq < 100);
    expect(history.level(10_000)!.ring.bytes).toBe(held.reduce((sum, r) => sum + packedColumnBytes(r) + 24 * (r.unseen?.length ?? 0), 0));
  });

  it('defaults: 10 s for 48 h, 1 min for 7 days, 10 min for 30 days, never less than the columns cover', () => {
    expect(defaultLevels(1000, 86_400)).toEqual([
      { stepMs: 10_000, capacity: 17_280 },
      { stepMs: 60_000, capacity: 10_080 },
      { stepMs: 600_000, capacity: 4320 },
    ]);
    expect(defaultLevels(1000, 30 * 86_400)[0]).toEqual({ stepMs: 10_000, capacity: 259_200 });
    expect(defaultLevels(7000, 1000)).toEqual([]);
  });
});
