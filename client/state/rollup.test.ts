import { describe, expect, it } from 'vitest';
import { histogramOf, type Column, type Filter } from '../../shared/column.ts';
import { OPS, SLOTS } from '../../shared/scheme.ts';
import { ColumnStore } from './store.ts';
import { seriesFilter, type PackedColumn } from './packed.ts';
import { GroupCache, RegionSums, cellGroup, filterKey, groupSizeOf, type RegionSnapshot } from './rollup.ts';

let seed = 7;
const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = (n: number): number => Math.floor(random() * n);

function randomColumn(seq: number): Column {
  const series = [];
  for (let k = pick(4); k > 0; k--) {
    const slots = [...new Set(Array.from({ length: 1 + pick(6) }, () => pick(SLOTS)))].sort((a, b) => a - b);
    series.push({ metric: random() < 0.8 ? 'latency' : 'size', device: pick(3), op: OPS[pick(3)]!, slots, counts: slots.map(() => 1 + pick(random() < 0.05 ? 100_000 : 9)) } as const);
  }
  return { seq, startMs: seq * 1000, intervalMs: 1000, series };
}

function sumOf(columns: readonly Column[], filter: Filter, keep: (device: number, op: string) => boolean = () => true): number[] {
  const h = new Float64Array(SLOTS);
  for (const c of columns) {
    const part = histogramOf({ ...c, series: c.series.filter((s) => keep(s.device, s.op)) }, filter);
    for (let slot = 0; slot < SLOTS; slot++) h[slot]! += part[slot]!;
  }
  return [...h];
}

function world(capacity: number) {
  const sums = new RegionSums();
  const groups = new GroupCache();
  const store = new ColumnStore(capacity, (seq, before, after) => {
    sums.changed(before, after);
    groups.changed(seq);
  });
  store.setHello({ type: 'hello', version: 1, source: 'synthetic', host: 'h', scheme: { name: 'otel-exponential', scale: 3, slots: SLOTS }, devices: [], ops: [], metrics: [], intervalMs: 1000, steps: [1000], oldestSeq: null, newestSeq: null, selfStats: null, exemplarCapture: null });
  return { store, sums, groups };
}

interface Wandering {
  fromSeq: number;
  toSeq: number;
  filter: Filter;
}

const filters: Filter[] = [{ metric: 'latency' }, { metric: 'latency', devices: [1, 2] }, { metric: 'size', ops: ['write'] }];

/** One random step of a view and its store: a scroll, a late or replaced column, a history answer, a pan and zoom, a jump, another filter, or nothing. */
function wander(store: ColumnStore, view: Wandering): void {
  const r = random();
  if (r < 0.4) {
    // scroll, as a live view does: a new column (now and then after a missing one), the window one to the right
    store.add(randomColumn(store.newestSeq! + 1 + (random() < 0.1 ? 1 : 0)));
    view.fromSeq++;
    view.toSeq++;
  } else if (r < 0.55) {
    store.add(randomColumn(store.newestSeq! - pick(450)));
  } else if (r < 0.6) {
    store.addAll(Array.from({ length: 1 + pick(300) }, (_, k) => randomColumn(view.fromSeq + k)));
  } else if (r < 0.7) {
    view.fromSeq += pick(61) - 30;
    view.toSeq = Math.max(view.fromSeq, view.toSeq + pick(61) - 30);
  } else if (r < 0.75) {
    view.fromSeq = store.newestSeq! - pick(1000);
    view.toSeq = view.fromSeq + pick(500);
  } else if (r < 0.8) {
    view.filter = filters[pick(filters.length)]!;
  }
}

/** A snapshot's nonzero histograms, by key in order (a device or op whose columns all left keeps a histogram of zeros). */
function plainSnapshot(snapshot: RegionSnapshot) {
  const nonzero = <K,>(map: ReadonlyMap<K, Float64Array>) =>
    [...map]
      .filter(([, h]) => h.some((n) => n !== 0))
      .map(([k, h]) => [k, [...h]] as const)
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return { total: [...snapshot.total], byDevice: nonzero(snapshot.byDevice), byOp: nonzero(snapshot.byOp) };
}

describe('groupSizeOf', () => {
  it('is 1 while a column is a pixel or wider, else the columns that make a pixel', () => {
    expect(groupSizeOf(100, 0, 100_000, 1000)).toBe(1);
    expect(groupSizeOf(100, 0, 101_000, 1000)).toBe(2);
    expect(groupSizeOf(1760, 0, 86_400_000, 1000)).toBe(50);
  });
});

describe('cellGroup', () => {
  it('spans its column alone, or its aligned multiple of columns', () => {
    const h = new Float64Array(SLOTS);
    h[5] = 2;
    expect(cellGroup({ seq: 7, startMs: 7000, intervalMs: 1000 }, 1, 1000, h)).toMatchObject({ firstSeq: 7, startMs: 7000, endMs: 8000, percentileSlots: { p50: 5, p99: 5, max: 5 } });
    expect(cellGroup({ seq: 7, startMs: 7000, intervalMs: 1000 }, 4, 1000, h)).toMatchObject({ firstSeq: 4, startMs: 4000, endMs: 8000 });
  });
});

describe('RegionSums and GroupCache', () => {
  it('equal summing the window anew, whatever the window does and whatever the store does meanwhile', () => {
    const { store, sums, groups } = world(400);
    const view: Wandering = { fromSeq: 100, toSeq: 200, filter: filters[0]! };
    for (let seq = 0; seq < 300; seq++) if (random() < 0.9) store.add(randomColumn(seq));
    for (let step = 0; step < 300; step++) {
      wander(store, view);
      const { fromSeq, toSeq, filter } = view;
      const compiled = seriesFilter(filter);
      const key = filterKey(filter);
      const held = store.between(fromSeq, toSeq);
      sums.moveTo(store, fromSeq, toSeq, compiled, key);
      const got = sums.snapshot();
      expect([...got.total]).toEqual(sumOf(held, filter));
      for (const device of [0, 1, 2]) expect([...(got.byDevice.get(device) ?? new Float64Array(SLOTS))]).toEqual(sumOf(held, filter, (d) => d === device));
      for (const op of OPS) expect([...(got.byOp.get(op) ?? new Float64Array(SLOTS))]).toEqual(sumOf(held, filter, (_, o) => o === op));

      // the size stays for a while, so kept groups are reused
      const size = 1 + Math.floor(step / 60);
      const drawn = groups.groups(held, fromSeq, toSeq, size, 1000, compiled, key);
      const expected = new Map<number, Column[]>();
      for (const c of held) {
        const first = Math.floor(c.seq / size) * size;
        expected.set(first, [...(expected.get(first) ?? []), c]);
      }
      expect(drawn.map((g) => g.firstSeq)).toEqual([...expected.keys()]);
      for (const g of drawn) expect(Array.from(g.histogram)).toEqual(sumOf(expected.get(g.firstSeq)!, filter));
    }
  });

  it('GroupCache hands over the same object for a group cut by the view while it sums the same held columns, and sums it anew when one leaves or changes', () => {
    const { store, groups } = world(400);
    for (let seq = 0; seq < 100; seq++) store.add(randomColumn(seq));
    const filter = seriesFilter({ metric: 'latency' });
    const leftEdge = (fromSeq: number) => groups.groups(store.between(fromSeq, 99), fromSeq, 99, 8, 1000, filter, 'latency')[0]!;
    const cut = leftEdge(13);
    expect(cut.firstSeq, 'the group of seqs 8..15, cut at 13').toBe(8);
    expect(leftEdge(13), 'the next frame of the same view').toBe(cut);
    const fewer = leftEdge(14);
    expect(fewer, 'seq 13 left the view').not.toBe(cut);
    expect(Array.from(fewer.histogram)).toEqual(sumOf(store.between(14, 15), { metric: 'latency' }));
    store.add(randomColumn(15));
    const replaced = leftEdge(14);
    expect(replaced, 'seq 15 was replaced').not.toBe(fewer);
    expect(Array.from(replaced.histogram)).toEqual(sumOf(store.between(14, 15), { metric: 'latency' }));
  });

  it('GroupCache.prepare sums a new view over calls of a budget of words; then nothing is left to sum and the groups are the sums', () => {
    const { store, groups } = world(5000);
    // one column's series at every seq, so every column is as many words
    const template = randomColumn(0);
    for (let seq = 0; seq < 3000; seq++) store.add({ ...template, seq, startMs: seq * 1000 });
    const filter: Filter = { metric: 'latency' };
    const [compiled, key] = [seriesFilter(filter), filterKey(filter)];
    const held = store.between(0, 2999);
    const words = held[0]!.data.length;
    let unfinished = 0;
    while (!groups.prepare(held, 0, 2999, 3, 1000, compiled, key, 500 * words).done) unfinished++;
    // 500 columns' words a call, in whole groups of 3 (504 columns): five calls leave some, the sixth sums the rest
    expect(unfinished).toBe(5);
    expect(groups.prepare(held, 0, 2999, 3, 1000, compiled, key, 0), 'nothing left').toEqual({ done: true, words: 0 });
    expect(groups.prepare(held, 0, 2999, 4, 1000, compiled, key, 0), 'another size: all to sum again').toEqual({ done: false, words: 0 });
    expect(groups.prepare(held, 0, 2999, 4, 1000, compiled, key, 3000 * words)).toEqual({ done: true, words: 3000 * words });
    const drawn = groups.groups(held, 0, 2999, 4, 1000, compiled, key);
    expect(drawn).toHaveLength(750);
    for (const g of drawn) expect(Array.from(g.histogram)).toEqual(sumOf(held.slice(g.firstSeq, g.firstSeq + 4), filter));
  });

  it('GroupCache.groups after a prepare that summed everything hands over the groups a fresh cache would, frame after frame, also after a column changed', () => {
    const { store, groups } = world(400);
    for (let seq = 0; seq < 200; seq++) store.add(randomColumn(seq));
    const filter: Filter = { metric: 'latency' };
    const [compiled, key] = [seriesFilter(filter), filterKey(filter)];
    const fresh = (fromSeq: number, toSeq: number) => new GroupCache().groups(store.between(fromSeq, toSeq), fromSeq, toSeq, 3, 1000, compiled, key).map((g) => [g.firstSeq, Array.from(g.histogram)]);
    for (const [fromSeq, toSeq] of [[10, 150], [11, 151], [12, 153]] as const) {
      // a column replaced before the last frame: its group is summed anew
      if (toSeq === 153) store.add(randomColumn(100));
      const held = store.between(fromSeq, toSeq);
      expect(groups.prepare(held, fromSeq, toSeq, 3, 1000, compiled, key, Infinity).done).toBe(true);
      const drawn = groups.groups(held, fromSeq, toSeq, 3, 1000, compiled, key);
      expect(drawn.map((g) => [g.firstSeq, Array.from(g.histogram)]), `${fromSeq}..${toSeq}`).toEqual(fresh(fromSeq, toSeq));
    }
  });

  it("GroupCache.groups after a done prepare reads only the view's edge groups (the prepare's walk is kept), the changed column's group after a change, and every column under another filter", () => {
    const { store, groups } = world(400);
    for (let seq = 0; seq < 200; seq++) store.add(randomColumn(seq));
    const latency: Filter = { metric: 'latency' };
    const writes: Filter = { metric: 'latency', ops: ['write'] };
    let reads = 0;
    // the view's columns, counting each read of one of them
    const held = new Proxy(store.between(10, 150), {
      get(target, property, receiver) {
        if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const fresh = (filter: Filter) => new GroupCache().groups(store.between(10, 150), 10, 150, 3, 1000, seriesFilter(filter), filterKey(filter)).map((g) => [g.firstSeq, Array.from(g.histogram)]);
    const prepareThenCount = (between: () => void, filter: Filter): number => {
      expect(groups.prepare(held, 10, 150, 3, 1000, seriesFilter(latency), filterKey(latency), Infinity).done).toBe(true);
      between();
      reads = 0;
      const drawn = groups.groups(held, 10, 150, 3, 1000, seriesFilter(filter), filterKey(filter));
      expect(drawn.map((g) => [g.firstSeq, Array.from(g.histogram)])).toEqual(fresh(filter));
      return reads;
    };
    // the groups cut by the view's edges (9..11 and 150..152) are walked, and the bisections to them
    const unchanged = prepareThenCount(() => {}, latency);
    expect(unchanged, 'the prepared groups taken').toBeLessThan(30);
    // the groups on either side of the changed column's (99..101) are the last walk's
    const afterChange = prepareThenCount(() => groups.changed(100), latency);
    expect(afterChange, 'a column changed after the prepare').toBeGreaterThan(unchanged);
    expect(afterChange, 'a column changed after the prepare').toBeLessThan(60);
    expect(prepareThenCount(() => {}, writes), 'another filter than the prepare\'s').toBeGreaterThanOrEqual(held.length);
  });

  it('a filter changed while a view is being summed starts the sums again under it: the groups are of the new filter, never of the old', () => {
    const { store, groups } = world(5000);
    for (let seq = 0; seq < 3000; seq++) store.add({ ...randomColumn(seq), seq, startMs: seq * 1000 });
    const held = store.between(0, 2999);
    const words = held.reduce((sum, c) => sum + c.data.length, 0);
    const before: Filter = { metric: 'latency' };
    const after: Filter = { metric: 'latency', ops: ['write'] };
    expect(groups.prepare(held, 0, 2999, 3, 1000, seriesFilter(before), filterKey(before), words / 4).done, 'the first filter half summed').toBe(false);
    // the new filter: none of its groups is summed yet, however far the old one got
    expect(groups.prepare(held, 0, 2999, 3, 1000, seriesFilter(after), filterKey(after), 0)).toEqual({ done: false, words: 0 });
    let calls = 1;
    while (!groups.prepare(held, 0, 2999, 3, 1000, seriesFilter(after), filterKey(after), words / 4).done) calls++;
    expect(calls, 'the whole view summed again over calls').toBeGreaterThanOrEqual(4);
    const drawn = groups.groups(held, 0, 2999, 3, 1000, seriesFilter(after), filterKey(after));
    expect(drawn).toHaveLength(1000);
    for (const g of drawn) expect(Array.from(g.histogram)).toEqual(sumOf(held.slice(g.firstSeq, g.firstSeq + 3), after));
    expect(drawn.some((g) => Array.from(g.histogram).join() !== sumOf(held.slice(g.firstSeq, g.firstSeq + 3), before).join()), 'the filters differ on these columns').toBe(true);
  });

  it("GroupCache's walk of a scrolling view reads the columns at its edges, not every column in view, and hands over the groups a fresh cache would", () => {
    const { store, groups } = world(5000);
    for (let seq = 0; seq < 3600; seq++) store.add(randomColumn(seq));
    const filter: Filter = { metric: 'latency' };
    const [compiled, key] = [seriesFilter(filter), filterKey(filter)];
    let reads = 0;
    const counted = (columns: readonly PackedColumn[]) =>
      new Proxy(columns, {
        get(target, property, receiver) {
          if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
    const fresh = (fromSeq: number, toSeq: number) => new GroupCache().groups(store.between(fromSeq, toSeq), fromSeq, toSeq, 3, 1000, compiled, key).map((g) => [g.firstSeq, Array.from(g.histogram)]);
    // a live view: its right edge a column ahead of the newest, each frame a new column and the view one to the right
    let [fromSeq, toSeq] = [1, 3600];
    groups.groups(store.between(fromSeq, toSeq), fromSeq, toSeq, 3, 1000, compiled, key);
    for (let frame = 0; frame < 12; frame++) {
      store.add(randomColumn(toSeq));
      if (frame === 5) store.add(randomColumn(toSeq - 1000));
      if (frame === 8) store.add(randomColumn(fromSeq + 7));
      fromSeq++;
      toSeq++;
      reads = 0;
      const held = counted(store.between(fromSeq, toSeq));
      expect(groups.prepare(held, fromSeq, toSeq, 3, 1000, compiled, key, Infinity).done).toBe(true);
      const drawn = groups.groups(held, fromSeq, toSeq, 3, 1000, compiled, key);
      expect(drawn.map((g) => [g.firstSeq, Array.from(g.histogram)]), `frame ${frame}`).toEqual(fresh(fromSeq, toSeq));
      // both calls' reads: the edges and the bisections to them, and the replaced column's group
      if (frame === 5) expect(reads, 'a column replaced in the middle').toBeLessThan(150);
      else if (frame === 8) expect(reads, 'a column replaced near the left edge').toBeLessThan(150);
      else expect(reads, `frame ${frame}`).toBeLessThan(80);
    }
  });

  it("a frame's groups, once handed over, are never changed by later frames (the renderer keeps the last frame's list)", () => {
    const { store, groups } = world(400);
    for (let seq = 0; seq < 300; seq++) store.add(randomColumn(seq));
    const filter: Filter = { metric: 'latency' };
    const [compiled, key] = [seriesFilter(filter), filterKey(filter)];
    const held = groups.groups(store.between(50, 250), 50, 250, 3, 1000, compiled, key);
    const asHanded = held.map((g) => ({ group: g, histogram: Array.from(g.histogram) }));
    for (let frame = 0; frame < 20; frame++) {
      store.add(randomColumn(store.newestSeq! + 1));
      store.add(randomColumn(60 + pick(200)));
      const fromSeq = 51 + frame;
      const drawn = groups.groups(store.between(fromSeq, 250 + frame), fromSeq, 250 + frame, 3, 1000, compiled, key);
      expect(drawn, 'a new list each frame').not.toBe(held);
    }
    expect(held).toHaveLength(asHanded.length);
    held.forEach((g, k) => {
      expect(g).toBe(asHanded[k]!.group);
      expect(Array.from(g.histogram)).toEqual(asHanded[k]!.histogram);
    });
  });

  it('RegionSums.snapshot is the last one again while the sums did not change, and a snapshot handed over is never changed by later moves or columns', () => {
    const { store, sums } = world(400);
    for (let seq = 0; seq < 300; seq++) store.add(randomColumn(seq));
    const filter: Filter = { metric: 'latency' };
    const [compiled, key] = [seriesFilter(filter), filterKey(filter)];
    sums.moveTo(store, 50, 250, compiled, key);
    const held = sums.snapshot();
    const asHanded = plainSnapshot(held);
    sums.moveTo(store, 50, 250, compiled, key);
    expect(sums.snapshot(), 'the same view, nothing changed').toBe(held);
    store.add(randomColumn(100));
    const replaced = sums.snapshot();
    expect(replaced, 'a column in view replaced').not.toBe(held);
    expect([...replaced.total]).toEqual(sumOf(store.between(50, 250), filter));
    sums.moveTo(store, 51, 251, compiled, key);
    const moved = sums.snapshot();
    expect(moved, 'the view moved').not.toBe(replaced);
    const sizes: Filter = { metric: 'size' };
    sums.moveTo(store, 51, 251, seriesFilter(sizes), filterKey(sizes));
    expect(sums.snapshot(), 'another filter').not.toBe(moved);
    expect([...sums.snapshot().total]).toEqual(sumOf(store.between(51, 251), sizes));
    expect([...sums.snapshot().total], 'the sums did change').not.toEqual(asHanded.total);
    expect(plainSnapshot(held)).toEqual(asHanded);
  });

  it('a snapshot read frames later, in any order, holds the sums of the moment it was taken, whatever moved and changed in between', () => {
    const { store, sums } = world(400);
    const view: Wandering = { fromSeq: 100, toSeq: 200, filter: filters[0]! };
    for (let seq = 0; seq < 300; seq++) if (random() < 0.9) store.add(randomColumn(seq));
    const held: { snapshot: RegionSnapshot; expected: ReturnType<typeof plainSnapshot>; step: number }[] = [];
    for (let step = 0; step < 400; step++) {
      wander(store, view);
      const [compiled, key] = [seriesFilter(view.filter), filterKey(view.filter)];
      sums.moveTo(store, view.fromSeq, view.toSeq, compiled, key);
      const fresh = new RegionSums();
      fresh.moveTo(store, view.fromSeq, view.toSeq, compiled, key);
      held.push({ snapshot: sums.snapshot(), expected: plainSnapshot(fresh.snapshot()), step });
    }
    for (const k of held.map((_, k) => k).sort(() => random() - 0.5)) expect(plainSnapshot(held[k]!.snapshot), `taken at step ${held[k]!.step}`).toEqual(held[k]!.expected);
  });
});

