/**
 * Exemplar records from the kernel's ring buffer (struct bpfheat_exemplar), the per-column
 * drop counters, and the adaptive threshold: pure functions over fixed inputs.
 */
import { COMM_LEN, EXEMPLAR_BYTES, MAX_DEVICES, OPS, SLOTS } from '../../shared/scheme.ts';
import { slotBounds } from '../../shared/buckets.ts';
import { histogramOf, quantileSlot, type Column, type ExemplarDrops } from '../../shared/column.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import type { ColumnClock } from './clock.ts';

const textDecoder = new TextDecoder();

/** A request without a position (a flush) carries sector (u64)-1: no sector, not a number to show. */
function sectorOf(raw: bigint): number | null {
  return raw > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(raw);
}

/** Decodes the struct bpfheat_exemplar of `length` bytes at `offset` in `data`. */
export function decodeExemplar(data: DataView, clock: ColumnClock, offset = 0, length = data.byteLength - offset): Exemplar {
  if (length < EXEMPLAR_BYTES) throw new RangeError(`exemplar record is ${length} bytes, not ${EXEMPLAR_BYTES}`);
  const ts = data.getBigUint64(offset, true);
  const comm = new Uint8Array(data.buffer, data.byteOffset + offset + 36, COMM_LEN);
  const end = comm.indexOf(0);
  return {
    timeMs: Number((ts + clock.offsetNs) / 1000n) / 1000,
    latencyNs: Number(data.getBigUint64(offset + 8, true)),
    sector: sectorOf(data.getBigUint64(offset + 16, true)),
    bytes: data.getUint32(offset + 24, true),
    pid: data.getUint32(offset + 28, true),
    device: Math.min(data.getUint16(offset + 32, true), MAX_DEVICES - 1),
    op: OPS[Math.min(data.getUint8(offset + 34), OPS.length - 1)]!,
    comm: textDecoder.decode(end >= 0 ? comm.subarray(0, end) : comm),
  };
}

/**
 * Decodes the exemplar ring's records as the ring reader hands them over. A record that is not
 * EXEMPLAR_BYTES long comes from a BPF object built from other sources: it is skipped, and said
 * once, since every record after it is the same.
 */
export class ExemplarRecords {
  private wrongSizeSaid = false;

  constructor(
    private readonly clock: ColumnClock,
    private readonly say: (line: string) => void,
  ) {}

  /** Adds the record of `length` bytes at `offset` in `data` to `into`, if it is an exemplar. */
  add(into: Exemplar[], data: DataView, offset: number, length: number): void {
    if (length === EXEMPLAR_BYTES) into.push(decodeExemplar(data, this.clock, offset, length));
    else if (!this.wrongSizeSaid) {
      this.wrongSizeSaid = true;
      this.say(`bpfheat: exemplar records are ${length} bytes, not ${EXEMPLAR_BYTES}: rebuild with \`make -C bpf\`\n`);
    }
  }
}

/** Dropped exemplars of one column from its block of counters (attempts per [slot], then drops per [device][op][slot]). */
export function dropsFromCounters(counts: BigUint64Array, firstCounter: number): ExemplarDrops[] {
  const drops: ExemplarDrops[] = [];
  for (let device = 0; device < MAX_DEVICES; device++) {
    for (let op = 0; op < OPS.length; op++) {
      const first = firstCounter + (1 + device * OPS.length + op) * SLOTS;
      for (let slot = 0; slot < SLOTS; slot++) {
        const count = counts[first + slot]!;
        if (count > 0n) drops.push({ device, op: OPS[op]!, count: Number(count), slot });
      }
    }
  }
  return drops;
}

/**
 * The latency histogram of the recent past, all devices and operations: a window of `seconds`
 * one-second sums, so its memory does not depend on the column interval.
 */
export class RecentLatency {
  private readonly window: Float64Array[] = [];
  private current = new Float64Array(SLOTS);
  private currentMs = 0;
  readonly histogram = new Float64Array(SLOTS);

  constructor(private readonly seconds: number) {}

  add(column: Column): void {
    const latest = histogramOf(column, { metric: 'latency' });
    for (let slot = 0; slot < SLOTS; slot++) {
      this.histogram[slot]! += latest[slot]!;
      this.current[slot]! += latest[slot]!;
    }
    this.currentMs += column.intervalMs;
    if (this.currentMs < 1000) return;
    this.window.push(this.current);
    this.current = new Float64Array(SLOTS);
    this.currentMs = 0;
    if (this.window.length > this.seconds) {
      const oldest = this.window.shift()!;
      for (let slot = 0; slot < SLOTS; slot++) this.histogram[slot]! -= oldest[slot]!;
    }
  }
}

/**
 * The adaptive exemplar threshold: the lowest latency of the bucket that holds the p99, so
 * the slowest ~1% of I/Os become exemplars. null while there is nothing to go by.
 */
export function adaptiveThreshold(histogram: ArrayLike<number>): number | null {
  const slot = quantileSlot(histogram, 0.99);
  return slot < 0 ? null : Math.max(slotBounds(slot).lower + 1, 0);
}
