import { describe, expect, it } from 'vitest';
import type { Exemplar } from '../../shared/exemplar.ts';
import { ExemplarStore } from './exemplarStore.ts';

const exemplar = (timeMs: number, latencyNs: number, device = 0, op: Exemplar['op'] = 'read'): Exemplar => ({
  timeMs,
  latencyNs,
  bytes: 4096,
  device,
  op,
  sector: timeMs,
  pid: 1,
  comm: 'x',
});

const everything = { fromMs: -Infinity, toMs: Infinity, latMinNs: 0, latMaxNs: Infinity };

describe('ExemplarStore', () => {
  it('keeps exemplars in time order even when a batch arrives slightly out of order', () => {
    const store = new ExemplarStore(10);
    store.add([exemplar(10, 1), exemplar(30, 1), exemplar(20, 1)]);
    store.add([exemplar(15, 1)]);
    expect(store.query(everything, 100, 'oldest').exemplars.map((e) => e.timeMs)).toEqual([10, 15, 20, 30]);
  });

  it('evicts the oldest of a bucket beyond its capacity and says from when it is complete', () => {
    const store = new ExemplarStore(3);
    store.add([1, 2, 3, 4, 5].map((t) => exemplar(t, 1)));
    expect(store.size).toBe(3);
    expect(store.completeFromMs(everything)).toBe(2);
    expect(store.query(everything, 100, 'oldest').exemplars.map((e) => e.timeMs)).toEqual([3, 4, 5]);
  });

  it('gives up the crowded buckets first, so the slow tail stays however old', () => {
    const store = new ExemplarStore(10);
    const slow = [50e6, 80e6, 120e6, 200e6, 400e6].map((ns, k) => exemplar(k, ns));
    store.add(slow);
    for (let t = 10; t < 30; t++) store.add([exemplar(t, 100_000 + t)]);
    expect(store.size).toBe(10);
    expect(store.query(everything, 100, 'oldest').exemplars.map((e) => e.timeMs)).toEqual([0, 1, 2, 3, 4, 25, 26, 27, 28, 29]);
    expect(store.completeFromMs({ latMinNs: 10e6, latMaxNs: 1e9 })).toBe(-Infinity);
    expect(store.completeFromMs({ latMinNs: 0, latMaxNs: 1e6 })).toBe(24);
    expect(store.completeFromMs(everything)).toBe(24);
  });

  it('levels the buckets from the fullest down, and gives up in batches of 1 % of its capacity', () => {
    const store = new ExemplarStore(1000);
    const slots = [1e5, 1e6, 1e7];
    // 900, 300 and 100 arrivals, interleaved in time
    const arrivals = Array.from({ length: 1300 }, (_, k) => exemplar(k, k < 900 ? slots[0]! : k < 1200 ? slots[1]! : slots[2]!));
    store.add(arrivals.sort((a, b) => a.timeMs - b.timeMs));
    expect(store.size).toBe(990);
    const held = (ns: number) => store.query({ ...everything, latMinNs: ns, latMaxNs: ns }, 0).matched;
    expect([held(slots[0]!), held(slots[1]!), held(slots[2]!)]).toEqual([590, 300, 100]);
  });

  describe('query edges', () => {
    const store = new ExemplarStore(100);
    store.add([exemplar(1000, 500), exemplar(1999.999, 1000), exemplar(2000, 1500, 1, 'write'), exemplar(2500, 2000, 1, 'write')]);
    const times = (q: Partial<typeof everything> & { devices?: number[]; ops?: Exemplar['op'][] }) =>
      store.query({ ...everything, ...q }, 100, 'oldest').exemplars.map((e) => e.timeMs);

    it.each([
      [{ fromMs: 1000, toMs: 2000 }, [1000, 1999.999]],
      [{ fromMs: 1000.001, toMs: 2000.001 }, [1999.999, 2000]],
      [{ latMinNs: 1000, latMaxNs: 1500 }, [1999.999, 2000]],
      [{ latMinNs: 1001, latMaxNs: 1499 }, []],
      [{ devices: [1] }, [2000, 2500]],
      [{ ops: ['read' as const] }, [1000, 1999.999]],
    ])('%j gives %j', (q, want) => expect(times(q)).toEqual(want));

    it('counts every match but returns at most the limit', () => {
      const answer = store.query(everything, 2);
      expect(answer.exemplars).toHaveLength(2);
      expect(answer.matched).toBe(4);
    });
  });

  describe('chooses what a region lists by the order asked for, not by arrival', () => {
    const store = new ExemplarStore(100);
    // a minute of fast I/Os first, then a slow burst, then fast ones again
    const fast = Array.from({ length: 50 }, (_, k) => ({ ...exemplar(k, 100_000 + k), bytes: 4096 }));
    const burst = [exemplar(60, 150_000_000), exemplar(61, 90_000_000), exemplar(62, 160_000_000)].map((e) => ({ ...e, bytes: 1 << 20 }));
    const late = Array.from({ length: 20 }, (_, k) => exemplar(70 + k, 200_000 + k));
    store.add([...fast, ...burst, ...late]);
    const first3 = (order: Parameters<typeof store.query>[2], q: Partial<typeof everything> & { sizeMinBytes?: number; sizeMaxBytes?: number } = {}) =>
      store.query({ ...everything, ...q }, 3, order).exemplars.map((e) => e.timeMs);

    it.each([
      ['slowest', {}, [62, 60, 61]],
      ['largest', {}, [60, 61, 62]],
      ['newest', {}, [89, 88, 87]],
      ['oldest', {}, [0, 1, 2]],
      ['slowest', { latMaxNs: 100_000_000 }, [61, 89, 88]],
      ['slowest', { fromMs: 0, toMs: 60 }, [49, 48, 47]],
      ['slowest', { sizeMinBytes: 4097 }, [62, 60, 61]],
      ['oldest', { sizeMaxBytes: 4096 }, [0, 1, 2]],
      ['slowest', { sizeMaxBytes: 4096 }, [89, 88, 87]],
    ] as const)('%s of %j: %j', (order, q, want) => expect(first3(order, q)).toEqual(want));

    it('counts the region itself, whatever it lists', () => {
      expect(store.query({ ...everything, sizeMinBytes: 65536, sizeMaxBytes: 2 << 20 }, 1).matched).toBe(3);
      expect(store.query({ ...everything, latMinNs: 150_000_000 }, 1).matched).toBe(2);
    });
  });
});
