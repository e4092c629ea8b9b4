import { afterEach, describe, expect, it } from 'vitest';
import { slotBounds } from '../../shared/buckets.ts';
import { histogramOf, histogramTotal, quantileSlot, type Column } from '../../shared/column.ts';
import { SLOTS } from '../../shared/scheme.ts';
import { createSyntheticSource, PREFILL_MAX_COLUMNS, SYNTHETIC_DEVICES, syntheticColumn } from './synthetic.ts';
import type { Source } from './source.ts';

const NOW_SEQ = 1_764_000_000; // a 1-s column in November 2025

describe('syntheticColumn', () => {
  it('is a function of the seed and the seq', () => {
    expect(syntheticColumn(1, NOW_SEQ, 1000)).toEqual(syntheticColumn(1, NOW_SEQ, 1000));
    expect(syntheticColumn(1, NOW_SEQ, 1000)).not.toEqual(syntheticColumn(2, NOW_SEQ, 1000));
    expect(syntheticColumn(1, NOW_SEQ, 1000)).not.toEqual(syntheticColumn(1, NOW_SEQ + 1, 1000));
  });

  it('is a well-formed column: aligned, ascending slots, positive counts, a size for every latency', () => {
    for (const intervalMs of [1, 10, 1000]) {
      const c = syntheticColumn(5, NOW_SEQ, intervalMs);
      expect(c.startMs).toBe(NOW_SEQ * intervalMs);
      expect(c.intervalMs).toBe(intervalMs);
      for (const s of c.series) {
        expect(s.slots.length).toBe(s.counts.length);
        expect(s.slots.every((slot, k) => slot >= 0 && slot < SLOTS && (k === 0 || slot > s.slots[k - 1]!))).toBe(true);
        expect(s.counts.every((n) => Number.isInteger(n) && n > 0)).toBe(true);
        expect(s.device).toBeLessThan(SYNTHETIC_DEVICES.length);
      }
      for (const device of SYNTHETIC_DEVICES) {
        const latency = histogramTotal(histogramOf(c, { metric: 'latency', devices: [device.id] }));
        const size = histogramTotal(histogramOf(c, { metric: 'size', devices: [device.id] }));
        expect(size).toBe(latency);
      }
    }
  });

  it('looks like a disk: NVMe reads are bimodal, writes faster than reads, a tail past milliseconds', () => {
    // Summed over a minute of 1-s columns.
    const reads = new Float64Array(SLOTS);
    const writes = new Float64Array(SLOTS);
    let total = 0;
    for (let seq = NOW_SEQ; seq < NOW_SEQ + 60; seq++) {
      const c = syntheticColumn(1, seq, 1000);
      histogramOf(c, { metric: 'latency', devices: [0], ops: ['read'] }).forEach((n, slot) => (reads[slot]! += n));
      histogramOf(c, { metric: 'latency', devices: [0], ops: ['write'] }).forEach((n, slot) => (writes[slot]! += n));
      total += histogramTotal(histogramOf(c, { metric: 'latency' }));
    }
    expect(total / 60).toBeGreaterThan(10_000); // ~12.6k IOPS
    // Two modes: local maxima near 85 µs and 420 µs, with a valley between them.
    const peakNear = (ns: number): number => {
      let best = -1;
      for (let slot = 0; slot < SLOTS; slot++) {
        const { upper } = slotBounds(slot);
        if (upper < ns / 2 || slotBounds(slot).lower > ns * 2) continue;
        if (best < 0 || reads[slot]! > reads[best]!) best = slot;
      }
      return best;
    };
    const fast = peakNear(85_000);
    const slow = peakNear(420_000);
    let valley = Infinity;
    for (let slot = fast + 1; slot < slow; slot++) valley = Math.min(valley, reads[slot]!);
    expect(valley).toBeLessThan(reads[fast]! / 4);
    expect(valley).toBeLessThan(reads[slow]! / 2);
    expect(quantileSlot(writes, 0.5)).toBeLessThan(quantileSlot(reads, 0.5));
    // The tail: some reads beyond 2 ms, a very few beyond 10 ms.
    const beyond = (h: Float64Array, ns: number): number => h.reduce((sum, n, slot) => (slotBounds(slot).lower >= ns ? sum + n : sum), 0);
    expect(beyond(reads, 2_000_000)).toBeGreaterThan(100);
    expect(beyond(reads, 10_000_000)).toBeGreaterThan(0);
  });

  it('has outlier bursts: some 10-s windows hold a cluster of reads far above the body', () => {
    // Three minutes of 100-ms columns of the spinning disk: outside a burst, a read above 100 ms is
    // rare (the Pareto tail: ~0.006 per column); inside one, several arrive in each column.
    const windows = new Set<number>();
    const start = NOW_SEQ * 10;
    for (let seq = start; seq < start + 1800; seq++) {
      const h = histogramOf(syntheticColumn(1, seq, 100), { metric: 'latency', devices: [1], ops: ['read'] });
      const above = h.reduce((sum, n, slot) => (slotBounds(slot).lower >= 100_000_000 ? sum + n : sum), 0);
      if (above >= 2) windows.add(Math.floor((seq * 100) / 10_000));
    }
    // about 30 % of the 18 windows (seed 1 is fixed, so this is not a matter of luck)
    expect(windows.size).toBeGreaterThanOrEqual(2);
    expect(windows.size).toBeLessThanOrEqual(12);
  });

  it('scales a partial column by the part of the interval that passed', () => {
    const count = (c: Column): number => histogramTotal(histogramOf(c, { metric: 'latency' }));
    const full = count(syntheticColumn(1, NOW_SEQ, 1000));
    const half = count(syntheticColumn(1, NOW_SEQ, 1000, 0.5));
    expect(half / full).toBeGreaterThan(0.4);
    expect(half / full).toBeLessThan(0.6);
  });
});

describe('createSyntheticSource', () => {
  let source: Source | null = null;
  afterEach(async () => {
    await source?.stop();
    source = null;
  });

  it('pre-fills the recent past, then emits each column once its time has passed, in order without gaps', async () => {
    const columns: Column[] = [];
    let devices = 0;
    source = createSyntheticSource({ seed: 3, intervalMs: 10 });
    expect(source.kind).toBe('synthetic');
    expect(source.devices().map((d) => d.name)).toEqual(['synth-nvme0n1', 'synth-sda']);
    expect(source.selfStats()).toBeNull();
    const startedAt = Date.now();
    await source.start({ column: (c) => columns.push(c), devices: () => devices++ });
    expect(devices).toBe(1);
    expect(columns.length).toBeGreaterThanOrEqual(PREFILL_MAX_COLUMNS); // 2 minutes at 10 ms is more than the cap
    expect(columns.at(-1)!.startMs + 10).toBeLessThanOrEqual(Date.now());
    const prefilled = columns.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const live = columns.slice(prefilled);
    expect(live.length).toBeGreaterThan(15);
    for (const c of live) expect(c.startMs + c.intervalMs).toBeGreaterThanOrEqual(startedAt - 10); // not from the past
    expect(columns.every((c, i) => i === 0 || c.seq === columns[i - 1]!.seq + 1)).toBe(true);
    expect(columns.every((c) => c.startMs === c.seq * 10)).toBe(true);
    // The content is the pure function's.
    expect(live[3]).toEqual(syntheticColumn(3, live[3]!.seq, 10));
  });

  it('stops: the column in progress goes out, partial, then nothing more', async () => {
    const columns: Column[] = [];
    let now = 1_000_000_000_000;
    source = createSyntheticSource({ seed: 1, intervalMs: 1000, prefillMs: 3000, now: () => now });
    await source.start({ column: (c) => columns.push(c) });
    expect(columns.map((c) => c.seq)).toEqual([999_999_997, 999_999_998, 999_999_999]);
    now += 2500; // two columns ended, the third half done
    await source.stop();
    expect(columns.map((c) => c.seq)).toEqual([999_999_997, 999_999_998, 999_999_999, 1_000_000_000, 1_000_000_001, 1_000_000_002]);
    expect(columns[5]).toEqual(syntheticColumn(1, 1_000_000_002, 1000, 0.5));
    await source.stop(); // idempotent
    now += 5000;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(columns).toHaveLength(6);
  });
});
