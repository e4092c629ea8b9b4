/**
 * Reading a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) straight from its memory, in batches, as
 * libbpf's ringbuf.c does in C: one call per batch instead of one libbpf callback per record
 * through koffi, which cost several microseconds a record.
 *
 * The kernel's layout (kernel/bpf/ringbuf.c): a page holding the consumer position, which user
 * space writes; a page holding the producer position; then the data, mapped twice in a row so that a
 * record that wraps past the end is contiguous. Positions count bytes from the ring's creation and
 * only grow; a position's place in the data is position & mask (the data size is a power of two).
 * Each record starts with an 8-byte header: its length in the low 30 bits, BUSY while reserved and
 * not yet submitted, DISCARD when the program gave it up; the record's bytes follow, and the next
 * header is 8-byte aligned.
 */

export const RINGBUF_HEADER_BYTES = 8;
const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const LENGTH_BITS = 0x3fffffff;

/** Bytes from one record's header to the next: the header, the length, rounded up to 8. */
export function recordSpan(header: number): number {
  return (((header & LENGTH_BITS) + RINGBUF_HEADER_BYTES + 7) >>> 3) << 3;
}

/**
 * Hands each submitted record between the consumer and the producer position to onRecord, as its
 * byte offset into the data, its length and the position past it, in order; stops at the first
 * still being written. Returns the consumer position to write back: past every record handed over
 * or discarded.
 * headers: the data (both copies) as 32-bit words; mask: the data size - 1.
 */
export function readRecords(
  headers: Uint32Array,
  mask: number,
  consumer: number,
  producer: number,
  onRecord: (offset: number, length: number, next: number) => void,
): number {
  let position = consumer;
  while (position < producer) {
    const at = position & mask;
    // the kernel writes the header last (release) once the record is complete: load it once
    const header = Atomics.load(headers, at >>> 2);
    if (header & BUSY) break;
    position += recordSpan(header);
    if (!(header & DISCARD)) onRecord(at + RINGBUF_HEADER_BYTES, header & LENGTH_BITS, position);
  }
  return position;
}

/** A ring buffer's mapped memory: positions as one 64-bit word each, and the data (twice). */
export interface RingMemory {
  readonly consumer: BigUint64Array;
  readonly producer: BigUint64Array;
  /** 2 × size bytes */
  readonly data: Uint8Array;
  /** the data size, a power of two */
  readonly size: number;
}

export class RingReader {
  private readonly headers: Uint32Array;
  private readonly view: DataView;

  constructor(private readonly memory: RingMemory) {
    const { buffer, byteOffset, byteLength } = memory.data;
    this.headers = new Uint32Array(buffer, byteOffset, byteLength >>> 2);
    this.view = new DataView(buffer, byteOffset, byteLength);
  }

  /**
   * Hands the records submitted so far to onRecord (a view of the data, the record's offset in it
   * and its length: read it during the call) and gives their space back to the kernel; returns how
   * many. At most one ring's worth per call, so a producer faster than decoding cannot hold the
   * event loop. A record whose onRecord throws is given back too: one bad record must not stop the ring.
   */
  consume(onRecord: (data: DataView, offset: number, length: number) => void): number {
    const { consumer, producer, size } = this.memory;
    const start = Number(Atomics.load(consumer, 0));
    const end = start + size;
    let count = 0;
    let position = start;
    const handOver = (offset: number, length: number, next: number): void => {
      count++;
      position = next;
      onRecord(this.view, offset, length);
    };
    try {
      for (;;) {
        // records submitted while a batch is read are taken too (libbpf's loop), up to the bound
        const from = position;
        position = readRecords(this.headers, size - 1, from, Math.min(Number(Atomics.load(producer, 0)), end), handOver);
        if (position === from) break;
        Atomics.store(consumer, 0, BigInt(position));
      }
    } finally {
      Atomics.store(consumer, 0, BigInt(position));
    }
    return count;
  }
}
