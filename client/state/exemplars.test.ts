import { describe, expect, it } from 'vitest';
import { slotBounds, slotOf } from '../../shared/buckets.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import type { ExemplarRegion } from '../../shared/protocol.ts';
import { RegionExemplars, watchRegion, type RegionInput } from './exemplars.ts';

const exemplar = (timeMs: number, latencyNs = 1_000_000): Exemplar => ({ timeMs, latencyNs, bytes: 4096, device: 0, op: 'write', sector: 8, pid: 7, comm: 'dd' });

const input = (change: Partial<RegionInput> = {}): RegionInput => ({
  fromMs: 10_250,
  toMs: 19_750,
  live: false,
  intervalMs: 1000,
  filter: { metric: 'latency', devices: null, ops: null },
  yRange: [1000, 1_000_000],
  ...change,
});

const live = (fromMs: number): ExemplarRegion => ({ fromMs, toMs: null, latMinNs: 0, latMaxNs: 100, devices: null, ops: null });
const fixed: ExemplarRegion = { fromMs: 0, toMs: 5000, latMinNs: 0, latMaxNs: 100, devices: null, ops: null };

describe('watchRegion', () => {
  it('covers whole columns in time and whole buckets in latency', () => {
    const region = watchRegion(input())!;
    expect(region.fromMs).toBe(10_000);
    expect(region.toMs).toBe(20_000);
    // exactly the integers of the buckets the y range touches
    const first = slotOf(region.latMinNs);
    expect(slotOf(region.latMinNs - 1)).toBe(first - 1);
    expect(slotBounds(first).lower).toBeLessThan(1000);
    expect(slotBounds(first).upper).toBeGreaterThanOrEqual(1000);
    const last = slotOf(region.latMaxNs);
    expect(slotOf(region.latMaxNs + 1)).toBe(last + 1);
    expect(slotBounds(last).lower).toBeLessThan(1_000_000);
    expect(slotBounds(last).upper).toBeGreaterThanOrEqual(1_000_000);
  });

  it('is open to the right when the view follows now, and keeps edges that fall on a column', () => {
    expect(watchRegion(input({ fromMs: 10_000, toMs: 20_000, live: true }))).toMatchObject({ fromMs: 10_000, toMs: null });
    expect(watchRegion(input({ fromMs: 10_000, toMs: 20_000 }))).toMatchObject({ fromMs: 10_000, toMs: 20_000 });
  });

  it('watches every latency for the size metric, and the top bucket up to the largest safe integer', () => {
    expect(watchRegion(input({ filter: { metric: 'size' }, yRange: [512, 8192] }))).toMatchObject({ latMinNs: 0, latMaxNs: Number.MAX_SAFE_INTEGER });
    expect(watchRegion(input({ yRange: [0, 2 ** 45] }))).toMatchObject({ latMinNs: 0, latMaxNs: Number.MAX_SAFE_INTEGER });
  });

  it('passes device ids and ops; devices the server has not named match nothing', () => {
    expect(watchRegion(input({ filter: { metric: 'latency', devices: [2, -1], ops: ['write'] } }))).toMatchObject({ devices: [2], ops: ['write'] });
    expect(watchRegion(input({ filter: { metric: 'latency', devices: [-1] } }))).toBeNull();
    expect(watchRegion(input({ filter: { metric: 'latency', devices: [], ops: [] } }))).toMatchObject({ devices: null, ops: null });
  });
});

describe('RegionExemplars', () => {
  it('asks once per region, lists the answer and counts what it did not list', () => {
    const list = new RegionExemplars(3);
    expect(list.want(fixed)).toEqual({ region: fixed });
    expect(list.want({ ...fixed })).toBeNull();
    expect(list.view.pending).toBe(true);
    list.replaced(5, [exemplar(3), exemplar(1), exemplar(2)]);
    expect(list.view).toMatchObject({ captured: 5, truncated: 2, pending: false });
    expect(list.view.listed.map((e) => e.timeMs)).toEqual([1, 2, 3]);
  });

  it('applies only the answer to the last question, and ignores live ones before it', () => {
    const list = new RegionExemplars();
    list.want(fixed);
    const other = { ...fixed, latMinNs: 50 };
    expect(list.want(other)).toEqual({ region: other });
    list.appended([exemplar(4)]);
    list.replaced(1, [exemplar(1)]);
    expect(list.view).toMatchObject({ captured: 0, pending: true });
    list.replaced(2, [exemplar(2), exemplar(3)]);
    expect(list.view).toMatchObject({ captured: 2, pending: false, region: other });
    list.appended([exemplar(4)]);
    expect(list.view.listed.map((e) => e.timeMs)).toEqual([2, 3, 4]);
    expect(list.view.captured).toBe(3);
  });

  it('lists live ones in time order up to the limit, then counts them; once one is unlisted, so are all later ones', () => {
    const list = new RegionExemplars(3);
    list.want(live(0));
    list.replaced(1, [exemplar(10)]);
    list.appended([exemplar(30), exemplar(20)]);
    expect(list.view.listed.map((e) => e.timeMs)).toEqual([10, 20, 30]);
    list.appended([exemplar(40)]);
    expect(list.view).toMatchObject({ captured: 4, truncated: 1 });
    // a slot frees up as the view slides, but 50 is not listed: 40 (unlisted) came before it
    list.want(live(15));
    list.appended([exemplar(50)]);
    expect(list.view.listed.map((e) => e.timeMs)).toEqual([20, 30]);
    expect(list.view).toMatchObject({ captured: 4, truncated: 2 });
  });

  it('follows a live view sliding on without asking, and asks again once the list has run short', () => {
    const list = new RegionExemplars(4);
    list.want(live(0));
    list.replaced(10, [exemplar(1), exemplar(2), exemplar(3), exemplar(4)]);
    expect(list.want(live(2))).toBeNull();
    expect(list.view).toMatchObject({ captured: 9, truncated: 6 });
    expect(list.view.listed.map((e) => e.timeMs)).toEqual([2, 3, 4]);
    // 1 left of 4: refill, keeping what is listed until the answer comes
    expect(list.want(live(4))).toEqual({ region: live(4) });
    expect(list.view).toMatchObject({ captured: 7, pending: true });
    expect(list.view.listed.map((e) => e.timeMs)).toEqual([4]);
    expect(list.want(live(4))).toBeNull();
    list.replaced(7, [exemplar(4), exemplar(5), exemplar(6), exemplar(7)]);
    expect(list.view).toMatchObject({ captured: 7, truncated: 3, pending: false });
  });

  it('asks anew when a live view widens, stops watching for null, and starts over after a reconnect', () => {
    const list = new RegionExemplars();
    list.want(live(100));
    list.replaced(1, [exemplar(150)]);
    expect(list.want(live(50))).toEqual({ region: live(50) });
    expect(list.want(null)).toEqual({ region: null });
    expect(list.want(null)).toBeNull();
    list.replaced(3, [exemplar(60)]);
    expect(list.view).toMatchObject({ captured: 0, region: null, pending: false });
    list.want(fixed);
    list.reset();
    expect(list.view).toMatchObject({ captured: 0, region: null, pending: false });
    expect(list.want(fixed)).toEqual({ region: fixed });
  });

  it('gives the same view object until something changes', () => {
    const list = new RegionExemplars();
    list.want(fixed);
    const view = list.view;
    expect(list.view).toBe(view);
    list.replaced(0, []);
    expect(list.view).not.toBe(view);
  });
});
