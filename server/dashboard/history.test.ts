import { describe, expect, it } from 'vitest';
import { History, ROLLUPS_PER_CHUNK, defaultLevels, type HistoryEntry } from './history.ts';
import type { Column } from '../../shared/column.ts';
import { rollUp } from '../../shared/rollup.ts';
import { decodePackedColumns, encodePackedColumns, type PackedSeriesFilter } from '../../shared/protocol.ts';
import { syntheticColumn } from '../sources/synthetic.ts';

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

/** Busy-disk columns (both metrics, several devices and ops): 30 made and repeated, as syntheticColumn takes milliseconds each. */
const busySamples = Array.from({ length: 30 }, (_, k) => syntheticColumn(3, k, 1000));
function busyColumn(seq: number): Column {
  return { ...busySamples[seq % busySamples.length]!, seq, startMs: seq * 1000 };
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
    expect(history.totalBytes).toBe(history.bytes + history.level(10_000)!.bytes + history.level(60_000)!.bytes);
    expect(history.steps(1000)).toEqual([1000, 10_000, 60_000]);
  });

  it('keeps finished roll-ups packed across chunks, and answers any range of them packed as encodePackedColumns would', () => {
    const history = new History(100, [{ stepMs: 10_000, capacity: 70 }]);
    const recorded: Column[] = [];
    for (let seq = 0; seq < 1500; seq++) {
      const c = busyColumn(seq);
      // one series past 2^32 in roll-up 100: the counts of its chunk (64..127) go 8 bytes wide
      const counted = seq === 1005 ? { ...c, series: c.series.map((s, j) => (j === 0 ? { ...s, counts: s.counts.map((n) => n + 2 ** 33) } : s)) } : c;
      recorded.push(seq % 11 === 0 ? { ...counted, droppedExemplars: [{ device: 1, op: 'write', count: 2, slot: 40 }], unseen: [{ device: 0, op: 'read', count: seq }] } : counted);
      history.record(recorded.at(-1)!);
    }
    // 149 finished: the first chunk evicted, the second held from roll-up 79, the third filling
    const rollups = rollUp(recorded, 10_000);
    const level = history.level(10_000)!;
    expect(ROLLUPS_PER_CHUNK).toBe(64);
    expect([level.ring.oldestSeq, level.ring.newestSeq]).toEqual([79, 148]);
    const wide = recorded[1005]!.series[0]!;
    const filters: [string, PackedSeriesFilter][] = [
      [`${wide.metric} ${wide.op}, the wide series among them`, (metric, _, op) => metric === wide.metric && op === wide.op],
      ['the other metric, writes', (metric, _, op) => metric !== wide.metric && op === 'write'],
    ];
    const ranges: [number, number][] = [[0, 2_000_000], [995_000, 1_005_000], [790_000, 1_300_000], [1_270_000, 1_290_000], [1_400_000, 1_500_001]];
    for (const [from, to] of ranges) {
      const expected = rollups.filter((r) => r.seq >= 79 && r.startMs < to && r.startMs + 10_000 > from);
      expect(history.columnsAt(10_000, from, to), `[${from}, ${to})`).toEqual(expected);
      const packed = history.packedAt(10_000, from, to);
      expect(Buffer.from(packed).equals(encodePackedColumns(expected, 10_000, 1499)), `packed [${from}, ${to})`).toBe(true);
      for (const [name, keep] of filters) {
        const kept = expected.map((r) => ({ ...r, series: r.series.filter((s) => keep(s.metric, s.device, s.op)) }));
        expect(kept.some((r) => r.series.length > 0)).toBe(true);
        expect(Buffer.from(history.packedAt(10_000, from, to, keep)).equals(encodePackedColumns(kept, 10_000, 1499)), `${name} [${from}, ${to})`).toBe(true);
      }
    }
  });

  it("counts a level's bytes as its chunks hold them: a chunk whole while one of its roll-ups is held, 8-byte counts across it if one needs them", () => {
    const history = new History(100, [{ stepMs: 10_000, capacity: 70 }]);
    const recorded: Column[] = [];
    for (let seq = 0; seq < 1500; seq++) {
      const c = busyColumn(seq);
      recorded.push(seq === 1005 ? { ...c, series: [{ ...c.series[0]!, counts: c.series[0]!.counts.map((n) => n + 2 ** 33) }, ...c.series.slice(1)] } : c);
      if (seq % 100 === 7) recorded[seq] = { ...recorded[seq]!, unseen: [{ device: 0, op: 'read', count: 3 }, { device: 1, op: 'write', count: 1 }] };
      history.record(recorded[seq]!);
    }
    const level = history.level(10_000)!;
    const rollups = rollUp(recorded, 10_000);
    const chunkOf = (k: number): Column[] => rollups.slice(k * ROLLUPS_PER_CHUNK, Math.min((k + 1) * ROLLUPS_PER_CHUNK, 149));
    const [second, filling] = [encodePackedColumns(chunkOf(1), 1, null), encodePackedColumns(chunkOf(2), 1, null)];
    expect(decodePackedColumns(second).counts).toBeInstanceOf(Float64Array);
    const held = history.heldAt(10_000, 0, 2_000_000);
    if (held.kind !== 'rollups') throw new Error('a level holds roll-ups');
    const chunks = new Set(held.rollups.map((r) => r.chunk));
    expect([...chunks].reduce((sum, chunk) => sum + chunk.packed().seq.buffer.byteLength, 0)).toBe(second.byteLength + filling.byteLength);
    const unseenCounts = held.rollups.reduce((sum, r) => sum + (r.unseen?.length ?? 0), 0);
    expect(unseenCounts).toBe(2 * 7);
    expect(level.bytes).toBe(second.byteLength + filling.byteLength + 48 * unseenCounts);
    expect(history.totalBytes).toBe(history.bytes + level.bytes);
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
