import { describe, expect, it } from 'vitest';
import type { Column } from '../../shared/column.ts';
import { decodePackedColumns, encodePackedColumns } from '../../shared/protocol.ts';
import { rollUp } from '../../shared/rollup.ts';
import { SLOTS } from '../../shared/scheme.ts';
import { ColumnStore } from './store.ts';
import { LEVEL_CAPACITY, LevelTier } from './tiers.ts';

function column(seq: number): Column {
  return { seq, startMs: seq * 1000, intervalMs: 1000, series: [{ metric: 'latency', device: seq % 3, op: 'read', slots: [20 + (seq % 9)], counts: [1 + (seq % 4)] }] };
}

function base(): ColumnStore {
  const store = new ColumnStore();
  store.setHello({ type: 'hello', version: 1, source: 'synthetic', host: 'h', scheme: { name: 'otel-exponential', scale: 3, slots: SLOTS }, devices: [], ops: [], metrics: [], intervalMs: 1000, steps: [1000, 10_000], oldestSeq: null, newestSeq: null, selfStats: null, exemplarCapture: null });
  return store;
}

const held = (tier: LevelTier): Column[] => tier.store.between(0, Number.MAX_SAFE_INTEGER).map((c) => ({ seq: c.seq, startMs: c.startMs, intervalMs: c.intervalMs, series: c.series }));

/** Columns arriving at the page one by one, as the live stream adds them. */
function addColumns(store: ColumnStore, tier: LevelTier, seqs: readonly number[]): void {
  for (const seq of seqs) {
    store.add(column(seq));
    tier.columnAdded(seq, store);
  }
}

describe('LevelTier', () => {
  it('keeps fetched roll-ups exact while columns keep arriving, whichever comes first', () => {
    const all = Array.from({ length: 95 }, (_, k) => column(1000 + k)); // seqs 1000..1094
    // the server answered when it held up to seq 1052; the page already had columns up to 1060 live
    const answered = decodePackedColumns(encodePackedColumns(rollUp(all.slice(0, 53), 10_000), 10_000, 1052));
    const store = base();
    const tier = new LevelTier(10_000, 1000);
    for (const c of all.slice(40, 61)) {
      store.add(c);
      tier.columnAdded(c.seq, store);
    }
    tier.received(answered, 0, 2, store, (c) => c);
    tier.received(answered, 2, answered.count, store, (c) => c);
    for (const c of all.slice(61)) {
      store.add(c);
      tier.columnAdded(c.seq, store);
    }
    expect(held(tier)).toEqual(rollUp(all, 10_000));
  });

  it('stays exact when columns of an older roll-up come between those of the newest (columns of a history answer added among live ones)', () => {
    const store = base();
    const tier = new LevelTier(10_000, 1000);
    const add = (seqs: number[]): void => addColumns(store, tier, seqs);
    add([1000, 1001, 1002, 1010, 1011]);
    add([1003, 1004]);
    add([1012, 1013]);
    expect(held(tier)).toEqual(rollUp([1000, 1001, 1002, 1003, 1004, 1010, 1011, 1012, 1013].map(column), 10_000));
  });

  it('stays exact when a roll-up it made and keeps summing is replaced by an answer that counts fewer of its columns', () => {
    const store = base();
    const tier = new LevelTier(10_000, 1000);
    const add = (seqs: number[]): void => addColumns(store, tier, seqs);
    add([1010, 1011, 1012, 1013, 1014]); // 101 made from the page's columns, its sum kept
    const answered = decodePackedColumns(encodePackedColumns(rollUp([1010, 1011].map(column), 10_000), 10_000, 1011));
    tier.received(answered, 0, answered.count, store, (c) => c);
    add([1015, 1016, 1017]);
    // summed on from the sum kept for the replaced roll-up, 1012..1014 would count twice
    expect(held(tier)).toEqual(rollUp([1010, 1011, 1012, 1013, 1014, 1015, 1016, 1017].map(column), 10_000));
  });

  it('leaves a roll-up it kept summing to eviction, and sums the next one afresh', () => {
    const store = base();
    const tier = new LevelTier(10_000, 1000);
    const add = (seq: number): void => addColumns(store, tier, [seq]);
    // a full level, the oldest roll-up (0) the last one summed
    for (let rollup = 0; rollup < LEVEL_CAPACITY; rollup++) add(rollup * 10);
    add(1);
    add(LEVEL_CAPACITY * 10); // a newer roll-up: 0 is evicted
    add(2); // 0 made again from the page's columns: the oldest of a full level, evicted at once
    add(LEVEL_CAPACITY * 10 + 1);
    expect(tier.store.get(0)).toBeUndefined();
    expect(tier.store.size).toBe(LEVEL_CAPACITY);
    const newest = tier.store.get(LEVEL_CAPACITY)!;
    expect({ seq: newest.seq, startMs: newest.startMs, intervalMs: newest.intervalMs, series: newest.series }).toEqual(rollUp([column(LEVEL_CAPACITY * 10), column(LEVEL_CAPACITY * 10 + 1)], 10_000)[0]);
  });

  it('makes a roll-up from the page’s own columns only when it holds every one of its step', () => {
    const store = base();
    const tier = new LevelTier(10_000, 1000);
    addColumns(store, tier, [1005, 1006, 1010, 1011]);
    // 100 (seqs 1000..1009) lacks 1000..1004: left to be fetched; 101 starts at 1010: made
    expect(held(tier)).toEqual(rollUp([column(1010), column(1011)], 10_000));
  });
});
