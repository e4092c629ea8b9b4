/**
 * The server's memory of columns: a ring of at most `capacity` columns, each kept once, as the
 * exact bytes of its wire message (the same Buffer is sent to every client, live or in a backfill).
 *
 * Memory: once full, every push evicts the oldest entry, so the ring holds `capacity` entries
 * whatever the number of clients or the running time. An entry costs its encoded column (about
 * 1.3 KiB for a 1-s column of a busy disk, ~200 B for a 1-ms one) plus ~150 B of bookkeeping.
 *
 * Seqs ascend strictly (sources emit in order); a jump forward (a source that skipped columns)
 * is kept as it is, and readers see it as a gap.
 */
import { partitionPoint } from '../../shared/search.ts';

export interface HistoryEntry {
  readonly seq: number;
  readonly startMs: number;
  readonly intervalMs: number;
  /** the encoded `column` server message, exactly as sent on the wire */
  readonly wire: Buffer;
}

export class History {
  readonly capacity: number;
  /** grows to capacity, then entries are overwritten in place (head = the oldest) */
  private readonly ring: HistoryEntry[] = [];
  private head = 0;
  private byteCount = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`history capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.ring.length;
  }

  /** bytes of wire messages held */
  get bytes(): number {
    return this.byteCount;
  }

  get oldestSeq(): number | null {
    return this.ring.length === 0 ? null : this.at(0).seq;
  }

  get newestSeq(): number | null {
    return this.ring.length === 0 ? null : this.at(this.ring.length - 1).seq;
  }

  /** The i-th oldest entry, 0 <= i < size. */
  at(i: number): HistoryEntry {
    if (!(i >= 0 && i < this.ring.length)) throw new RangeError(`history index ${i} is outside 0..${this.ring.length - 1}`);
    return this.ring[(this.head + i) % this.ring.length]!;
  }

  /** Appends an entry; returns the one evicted to make room, if any. */
  push(entry: HistoryEntry): HistoryEntry | null {
    const newest = this.newestSeq;
    if (newest !== null && entry.seq <= newest) throw new RangeError(`history seq must ascend: ${entry.seq} after ${newest}`);
    this.byteCount += entry.wire.length;
    if (this.ring.length < this.capacity) {
      this.ring.push(entry);
      return null;
    }
    const evicted = this.ring[this.head]!;
    this.ring[this.head] = entry;
    this.head = (this.head + 1) % this.capacity;
    this.byteCount -= evicted.wire.length;
    return evicted;
  }

  /** Index of the first entry with seq >= the given one (size when there is none). */
  indexOfSeq(seq: number): number {
    return partitionPoint(0, this.ring.length, (i) => this.at(i).seq < seq);
  }

  /** Index of the first entry whose column ends after the given time (size when there is none). */
  indexOfTime(ms: number): number {
    return partitionPoint(0, this.ring.length, (i) => {
      const entry = this.at(i);
      return entry.startMs + entry.intervalMs <= ms;
    });
  }

  get(seq: number): HistoryEntry | undefined {
    const i = this.indexOfSeq(seq);
    if (i >= this.ring.length) return undefined;
    const entry = this.at(i);
    return entry.seq === seq ? entry : undefined;
  }

  /** Entries whose column overlaps [fromMs, toMs), oldest first. */
  *inTimeRange(fromMs: number, toMs: number): Generator<HistoryEntry> {
    for (let i = this.indexOfTime(fromMs); i < this.ring.length; i++) {
      const entry = this.at(i);
      if (entry.startMs >= toMs) return;
      yield entry;
    }
  }

  /** How many entries overlap [fromMs, toMs), without visiting them. */
  countInTimeRange(fromMs: number, toMs: number): number {
    const first = this.indexOfTime(fromMs);
    return partitionPoint(first, this.ring.length, (i) => this.at(i).startMs < toMs) - first;
  }
}
