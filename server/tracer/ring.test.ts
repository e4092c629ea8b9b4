import { describe, expect, it } from 'vitest';
import { readRecords, recordSpan, RingReader, RINGBUF_HEADER_BYTES, type RingMemory } from './ring.ts';

const BUSY = 0x80000000;
const DISCARD = 0x40000000;

/** A ring of `size` data bytes laid out as the kernel maps it: the data twice in a row. */
function ring(size: number): RingMemory & { write(position: number, header: number, bytes?: number[]): void } {
  const data = new Uint8Array(2 * size);
  const view = new DataView(data.buffer);
  const memory = { consumer: new BigUint64Array(1), producer: new BigUint64Array(1), data, size };
  return {
    ...memory,
    /** a record at a position, written into both copies as the kernel's double mapping shows it */
    write(position, header, bytes = []) {
      for (const copy of [0, size]) {
        const at = (position & (size - 1)) + copy;
        if (at + RINGBUF_HEADER_BYTES > 2 * size) continue;
        view.setUint32(at, header, true);
        bytes.forEach((b, k) => at + RINGBUF_HEADER_BYTES + k < 2 * size && view.setUint8(at + RINGBUF_HEADER_BYTES + k, b));
      }
    },
  };
}

describe('recordSpan', () => {
  it.each([
    [0, 8],
    [1, 16],
    [8, 16],
    [9, 24],
    [56, 64],
    [56 | BUSY, 64],
    [56 | DISCARD, 64],
  ])('a header of %i spans %i bytes', (header, span) => {
    expect(recordSpan(header >>> 0)).toBe(span);
  });
});

describe('readRecords', () => {
  const collect = (memory: RingMemory, consumer: number, producer: number) => {
    const seen: [number, number][] = [];
    const next = readRecords(new Uint32Array(memory.data.buffer), memory.size - 1, consumer, producer, (offset, length) => seen.push([offset, length]));
    return { seen, next };
  };

  it('hands over each record after its header, and moves past them all', () => {
    const r = ring(256);
    r.write(0, 56);
    r.write(64, 3);
    expect(collect(r, 0, 80)).toEqual({ seen: [[8, 56], [72, 3]], next: 80 });
  });

  it('stops at a record still being written, and takes it once it is submitted', () => {
    const r = ring(256);
    r.write(0, 56);
    r.write(64, 56 | BUSY);
    r.write(128, 56);
    expect(collect(r, 0, 192)).toEqual({ seen: [[8, 56]], next: 64 });
    r.write(64, 56);
    expect(collect(r, 64, 192)).toEqual({ seen: [[72, 56], [136, 56]], next: 192 });
  });

  it('skips a discarded record but moves past it', () => {
    const r = ring(256);
    r.write(0, 56 | DISCARD);
    r.write(64, 56);
    expect(collect(r, 0, 128)).toEqual({ seen: [[72, 56]], next: 128 });
  });

  it('finds a record by its position modulo the size: positions only grow', () => {
    const r = ring(256);
    r.write(1024 + 192, 56);
    expect(collect(r, 1024 + 192, 1024 + 256)).toEqual({ seen: [[200, 56]], next: 1024 + 256 });
  });

  it('finds records past 2^32 bytes, where the position no longer fits 32 bits', () => {
    const r = ring(256);
    r.write(2 ** 33 + 192, 56);
    expect(collect(r, 2 ** 33 + 192, 2 ** 33 + 256)).toEqual({ seen: [[200, 56]], next: 2 ** 33 + 256 });
  });

  it('reads nothing when the consumer has caught up', () => {
    expect(collect(ring(256), 640, 640)).toEqual({ seen: [], next: 640 });
  });
});

describe('RingReader', () => {
  it('reads a record that wraps past the end whole, from the second copy of the data', () => {
    const r = ring(128);
    const bytes = Array.from({ length: 56 }, (_, k) => k + 1);
    r.write(96, 56, bytes); // header at 96, bytes 104..159: past the end of the first copy
    r.consumer[0] = 96n;
    r.producer[0] = 160n;
    const read: number[][] = [];
    expect(new RingReader(r).consume((data, offset, length) => read.push(Array.from({ length }, (_, k) => data.getUint8(offset + k))))).toBe(1);
    expect(read).toEqual([bytes]);
    expect(r.consumer[0]).toBe(160n);
  });

  it('writes the consumer position back only past records handed over, and reads nothing twice', () => {
    const r = ring(256);
    r.write(0, 4, [1, 2, 3, 4]);
    r.write(16, 4 | BUSY);
    r.producer[0] = 32n;
    const reader = new RingReader(r);
    const lengths: number[] = [];
    expect(reader.consume((_, __, length) => lengths.push(length))).toBe(1);
    expect(r.consumer[0]).toBe(16n);
    expect(reader.consume(() => lengths.push(-1))).toBe(0);
    r.write(16, 4);
    expect(reader.consume((_, __, length) => lengths.push(length))).toBe(1);
    expect(lengths).toEqual([4, 4]);
    expect(r.consumer[0]).toBe(32n);
  });

  it('gives back a record whose reader throws, and reads on from the next one at the next call', () => {
    const r = ring(256);
    r.write(0, 4, [1]);
    r.write(16, 4, [2]);
    r.write(32, 4, [3]);
    r.producer[0] = 48n;
    const reader = new RingReader(r);
    const firsts: number[] = [];
    const refuseTheSecond = (data: DataView, offset: number) => {
      if (data.getUint8(offset) === 2) throw new RangeError('a record the decoder refuses');
      firsts.push(data.getUint8(offset));
    };
    expect(() => reader.consume(refuseTheSecond)).toThrow(RangeError);
    expect(r.consumer[0]).toBe(32n);
    expect(reader.consume(refuseTheSecond)).toBe(1);
    expect(firsts).toEqual([1, 3]);
    expect(r.consumer[0]).toBe(48n);
  });

  it('reads at most one ring of bytes per call while the producer keeps submitting', () => {
    const size = 256;
    const r = ring(size);
    const reader = new RingReader(r);
    const submit = (position: number) => {
      r.write(position, 8, [position / 16]);
      r.producer[0] = BigInt(position + 16);
    };
    submit(0);
    const read: number[] = [];
    // each record read makes the producer submit the next: without a bound this never returns
    const readAndSubmit = (data: DataView, offset: number) => {
      read.push(data.getUint8(offset));
      submit(Number(r.producer[0]));
    };
    expect(reader.consume(readAndSubmit)).toBe(size / 16);
    expect(r.consumer[0]).toBe(BigInt(size));
    expect(reader.consume(readAndSubmit)).toBe(size / 16);
    expect(r.consumer[0]).toBe(BigInt(2 * size));
    expect(read).toEqual(Array.from({ length: (2 * size) / 16 }, (_, k) => k));
  });
});
