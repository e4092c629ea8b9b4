import { describe, expect, it } from 'vitest';
import { EXEMPLAR_BYTES, EXEMPLAR_COUNTS, OPS, SLOTS } from '../../shared/scheme.ts';
import { slotBounds, slotOf } from '../../shared/buckets.ts';
import type { Column } from '../../shared/column.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import { makeClock } from './clock.ts';
import { adaptiveThreshold, decodeExemplar, dropsFromCounters, ExemplarRecords, RecentLatency } from './exemplars.ts';

/** Writes one struct bpfheat_exemplar at `at` in `view` with a comm, field by field. */
function writeExemplar(view: DataView, at: number, comm: string): void {
  view.setBigUint64(at, 10_000_123_456n, true); // completion, monotonic ns
  view.setBigUint64(at + 8, 2_500_000n, true);
  view.setBigUint64(at + 16, 4096n, true);
  view.setUint32(at + 24, 65536, true);
  view.setUint32(at + 28, 4242, true);
  view.setUint16(at + 32, 3, true);
  view.setUint8(at + 34, 1);
  new Uint8Array(view.buffer, view.byteOffset + at + 36, comm.length).set(new TextEncoder().encode(comm));
}

const written = { timeMs: 1_700_000_000_000.123, latencyNs: 2_500_000, sector: 4096, bytes: 65536, pid: 4242, device: 3, op: 'write' };
const clockOfWritten = makeClock(1000, 10_000_000_000n, 1_700_000_000_000n * 1_000_000n);

describe('decodeExemplar', () => {
  it('reads struct bpfheat_exemplar field by field', () => {
    const view = new DataView(new ArrayBuffer(EXEMPLAR_BYTES));
    writeExemplar(view, 0, 'postgres');
    expect(decodeExemplar(view, clockOfWritten)).toEqual({ ...written, comm: 'postgres' });
  });

  it('reads a comm of the full 16 bytes without a terminator', () => {
    const bytes = new Uint8Array(EXEMPLAR_BYTES);
    bytes.set(new TextEncoder().encode('abcdefghijklmnop'), 36);
    expect(decodeExemplar(new DataView(bytes.buffer), makeClock(1000, 0n, 0n)).comm).toBe('abcdefghijklmnop');
  });

  it('gives no sector for a request without one (a flush carries (u64)-1)', () => {
    const bytes = new Uint8Array(EXEMPLAR_BYTES);
    new DataView(bytes.buffer).setBigUint64(16, 2n ** 64n - 1n, true);
    expect(decodeExemplar(new DataView(bytes.buffer), makeClock(1000, 0n, 0n)).sector).toBeNull();
  });

  it('refuses a short record', () => {
    expect(() => decodeExemplar(new DataView(new ArrayBuffer(20)), makeClock(1000, 0n, 0n))).toThrow(RangeError);
  });

  it('reads a record at an offset into a view that itself starts inside a larger buffer, as the ring hands it over', () => {
    const buffer = new ArrayBuffer(256);
    new Uint8Array(buffer).fill(0xff); // bytes around the record that a wrong offset would read
    const view = new DataView(buffer, 32, 128); // the view starts 32 bytes into the buffer
    writeExemplar(view, 8, 'abcdefghijklmnop');
    expect(decodeExemplar(view, clockOfWritten, 8, EXEMPLAR_BYTES)).toEqual({ ...written, comm: 'abcdefghijklmnop' });
    expect(() => decodeExemplar(view, clockOfWritten, 8, 20)).toThrow(RangeError);
  });
});

describe('ExemplarRecords', () => {
  it('decodes the records of 56 bytes and skips the others, saying so once with the fix', () => {
    const view = new DataView(new ArrayBuffer(4 * 64));
    writeExemplar(view, 0, 'one');
    writeExemplar(view, 128, 'two');
    const said: string[] = [];
    const records = new ExemplarRecords(clockOfWritten, (line) => said.push(line));
    const taken: Exemplar[] = [];
    for (const [offset, length] of [[0, EXEMPLAR_BYTES], [64, 40], [128, EXEMPLAR_BYTES], [192, 40]] as const) records.add(taken, view, offset, length);
    expect(taken).toEqual([{ ...written, comm: 'one' }, { ...written, comm: 'two' }]);
    expect(said).toEqual(['bpfheat: exemplar records are 40 bytes, not 56: rebuild with `make -C bpf`\n']);
  });
});

describe('dropsFromCounters', () => {
  it('reads dropped counts per device, op and latency slot of one column, not the attempts counters', () => {
    const counts = new BigUint64Array(EXEMPLAR_COUNTS * 2);
    const second = EXEMPLAR_COUNTS;
    counts[second + 150] = 99n; // attempts in slot 150
    counts[second + (1 + 2 * OPS.length + 1) * SLOTS + 150] = 7n; // device 2, write, slot 150
    counts[second + (1 + 2 * OPS.length + 1) * SLOTS + 322] = 1n; // device 2, write, the overflow slot
    counts[second + SLOTS] = 3n; // device 0, read, slot 0
    counts[SLOTS + 150] = 5n; // first column: not this one
    expect(dropsFromCounters(counts, second)).toEqual([
      { device: 0, op: 'read', count: 3, slot: 0 },
      { device: 2, op: 'write', count: 7, slot: 150 },
      { device: 2, op: 'write', count: 1, slot: 322 },
    ]);
  });
});

function latencyColumn(entries: [number, number][]): Column {
  const sorted = entries.map(([ns, count]) => [slotOf(ns), count] as const).sort((a, b) => a[0] - b[0]);
  return { seq: 0, startMs: 0, intervalMs: 1000, series: [{ metric: 'latency', device: 0, op: 'read', slots: sorted.map(([s]) => s), counts: sorted.map(([, c]) => c) }] };
}

describe('adaptive threshold', () => {
  it('is null with no data', () => {
    expect(adaptiveThreshold(new Float64Array(SLOTS))).toBeNull();
  });

  it('starts at the bucket holding the p99', () => {
    const recent = new RecentLatency(10);
    recent.add(latencyColumn([[100_000, 990], [5_000_000, 10]]));
    expect(adaptiveThreshold(recent.histogram)).toBe(slotBounds(slotOf(100_000)).lower + 1);
    recent.add(latencyColumn([[5_000_000, 100]]));
    expect(adaptiveThreshold(recent.histogram)).toBe(slotBounds(slotOf(5_000_000)).lower + 1);
  });

  it('forgets columns older than its span', () => {
    const recent = new RecentLatency(2);
    recent.add(latencyColumn([[9_000_000, 1000]]));
    recent.add(latencyColumn([[1_000, 10]]));
    recent.add(latencyColumn([[1_000, 10]]));
    expect(adaptiveThreshold(recent.histogram)).toBe(slotBounds(slotOf(1_000)).lower + 1);
    expect(recent.histogram.reduce((a, b) => a + b, 0)).toBe(20);
  });
});
