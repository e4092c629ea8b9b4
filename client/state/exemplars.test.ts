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

const everySize = { sizeMinBytes: 0, sizeMaxBytes: Number.MAX_SAFE_INTEGER };
const live = (fromMs: number): ExemplarRegion => ({ fromMs, toMs: null, latMinNs: 0, latMaxNs: 100, ...everySize, devices: null, ops: null });
const fixed: ExemplarRegion = { fromMs: 0, toMs: 5000, latMinNs: 0, latMaxNs: 100, ...everySize, devices: null, ops: null };

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

  it('narrows sizes, not latencies, for the size metric: whole buckets of bytes', () => {
    const region = watchRegion(input({ filter: { metric: 'size' }, yRange: [112_640, 999_424] }))!;
    expect(region).toMatchObject({ latMinNs: 0, latMaxNs: Number.MAX_SAFE_INTEGER });
    expect([slotOf(region.sizeMinBytes), slotOf(region.sizeMinBytes - 1)]).toEqual([slotOf(112_640), slotOf(112_640) - 1]);
    expect([slotOf(region.sizeMaxBytes), slotOf(region.sizeMaxBytes + 1)]).toEqual([slotOf(999_424), slotOf(999_424) + 1]);
    expect(region.sizeMinBytes).toBeGreaterThan(4096);
  });

  it('takes every size for the latency metric, and the top bucket up to the largest safe integer', () => {
    expect(watchRegion(input())).toMatchObject(everySize);
    expect(watchRegion(input({ yRange: [0, 2 ** 45] }))).toMatchObject({ latMinNs: 0, latMaxNs: Number.MAX_SAFE_INTEGER });
  });

  it('passes device ids and ops; devices the server has not named match nothing', () => {
    expect(watchRegion(input({ filter: { metric: 'latency', devices: [2, -1], ops: ['write'] } }))).toMatchObject({ devices: [2], ops: ['write'] });
    expect(watchRegion(input({ filter: { metric: 'latency', devices: [-1] } }))).toBeNull();
    expect(watchRegion(input({ filter: { metric: 'latency', devices: [], ops: [] } }))).toMatchObject({ devices: null, ops: null });
  });
});

describe('RegionExemplars', () => {
  it('asks once per region and order, lists the answer in the order and counts what it did not list', () => {
    const list = new RegionExemplars(3);
    expect(list.want(fixed)).toEqual({ region: fixed, order: 'slowest' });
    expect(list.want({ ...fixed })).toBeNull();
    expect(list.view.pending).toBe(true);
    list.replaced(5, [exemplar(3, 30), exemplar(1, 90), exemplar(2, 60)]);
    expect(list.view).toMatchObject({ captured: 5, truncated: 2, pending: false, order: 'slowest' });
    expect(list.view.listed.map((e) => e.latencyNs)).toEqual([90, 60, 30]);
    expect(list.want(fixed, 'oldest')).toEqual({ region: fixed, order: 'oldest' });
    expect(list.view).toMatchObject({ captured: 0, pending: true, order: 'oldest' });
  });

  it('applies only the answer to the last question, and ignores live ones before it', () => {
    const list = new RegionExemplars();
    list.want(fixed);
    const other = { ...fixed, latMinNs: 50 };
    expect(list.want(other)).toEqual({ region: other, order: 'slowest' });
    list.appended([exemplar(4)]);
    list.replaced(1, [exemplar(1)]);
    expect(list.view).toMatchObject({ captured: 0, pending: true });
    list.replaced(2, [exemplar(2, 80), exemplar(3, 70)]);
    expect(list.view).toMatchObject({ captured: 2, pending: false, region: other });
    list.appended([exemplar(4, 75)]);
    expect(list.view.listed.map((e) => e.timeMs)).toEqual([2, 4, 3]);
    expect(list.view.captured).toBe(3);
  });

  it('merges live ones at their place: a slow one pushes the fastest listed out, a fast one is only counted', () => {
    const list = new RegionExemplars(3);
    list.want(fixed);
    list.replaced(4, [exemplar(1, 50), exemplar(2, 40), exemplar(3, 30)]);
    list.appended([exemplar(4, 45), exemplar(5, 10)]);
    expect(list.view.listed.map((e) => [e.timeMs, e.latencyNs])).toEqual([[1, 50], [4, 45], [2, 40]]);
    expect(list.view).toMatchObject({ captured: 6, truncated: 3 });
  });

  it.each([
    ['oldest', [10, 20, 30]],
    ['newest', [40, 30, 20]],
  ] as const)('keeps the %s in order as live ones come', (order, times) => {
    const list = new RegionExemplars(3);
    list.want(live(0), order);
    list.replaced(1, [exemplar(10)]);
    list.appended([exemplar(30), exemplar(20)]);
    list.appended([exemplar(40)]);
    expect(list.view.listed.map((e) => e.timeMs)).toEqual(times);
    expect(list.view).toMatchObject({ captured: 4, truncated: 1 });
  });

  it('follows a live view sliding on without asking while the list holds every capture', () => {
    const list = new RegionExemplars(4);
    list.want(live(0));
    list.replaced(3, [exemplar(1, 10), exemplar(2, 30), exemplar(3, 20)]);
    expect(list.want(live(2))).toBeNull();
    expect(list.view).toMatchObject({ captured: 2, truncated: 0, pending: false });
    expect(list.view.listed.map((e) => e.timeMs)).toEqual([2, 3]);
  });

  it('asks again when a live view slides on while some captures are unlisted, keeping the list until the answer', () => {
    const list = new RegionExemplars(2);
    list.want(live(0));
    list.replaced(10, [exemplar(1, 90), exemplar(5, 80)]);
    expect(list.want(live(2))).toEqual({ region: live(2), order: 'slowest' });
    expect(list.view).toMatchObject({ pending: true });
    expect(list.view.listed.map((e) => e.timeMs)).toEqual([5]);
    // one question at a time
    expect(list.want(live(3))).toBeNull();
    list.replaced(7, [exemplar(5, 80), exemplar(6, 70)]);
    expect(list.view).toMatchObject({ captured: 7, truncated: 5, pending: false });
  });

  it('asks anew when a live view widens, stops watching for null, and starts over after a reconnect', () => {
    const list = new RegionExemplars();
    list.want(live(100));
    list.replaced(1, [exemplar(150)]);
    expect(list.want(live(50))).toEqual({ region: live(50), order: 'slowest' });
    expect(list.want(null)).toEqual({ region: null, order: 'slowest' });
    expect(list.want(null)).toBeNull();
    list.replaced(3, [exemplar(60)]);
    expect(list.view).toMatchObject({ captured: 0, region: null, pending: false });
    list.want(fixed);
    list.reset();
    expect(list.view).toMatchObject({ captured: 0, region: null, pending: false });
    expect(list.want(fixed)).toEqual({ region: fixed, order: 'slowest' });
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
