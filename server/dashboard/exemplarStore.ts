/**
 * The server's memory of exemplars, beside the column history: at most `capacity` of them,
 * kept in completion-time order. Memory is bounded by the capacity (an exemplar is ~200 bytes),
 * whatever the I/O rate: the kernel's cap bounds arrivals, this bounds what is kept.
 *
 * When full it gives up the oldest exemplars of the most crowded latency buckets, not the oldest
 * of all: a bucket keeps its exemplars until it is the fullest, so the sparse slow buckets keep
 * theirs for much longer than the crowded ones near the threshold. Each bucket remembers up to
 * when it has given some up, so an answer says from when it is complete.
 */
import { SLOTS } from '../../shared/scheme.ts';
import { slotOf } from '../../shared/buckets.ts';
import { exemplarMatches, firstInOrder, type Exemplar, type ExemplarOrder, type ExemplarQuery } from '../../shared/exemplar.ts';
import { partitionPoint } from '../../shared/search.ts';

export const DEFAULT_EXEMPLAR_CAPACITY = 100_000;
/** Evictions happen in batches of this share of the capacity (at least one), so that each costs one pass. */
const EVICTION_BATCH = 0.01;

export interface ExemplarAnswer {
  /** the first `limit` matching exemplars in the order asked for, in that order */
  readonly exemplars: readonly Exemplar[];
  /** how many matched before the limit */
  readonly matched: number;
}

export class ExemplarStore {
  private items: Exemplar[] = [];
  /** per latency slot: the exemplars held, in arrival order, from `heads[slot]` on */
  private readonly bySlot: Exemplar[][] = Array.from({ length: SLOTS }, () => []);
  private readonly heads = new Int32Array(SLOTS);
  /** per latency slot: the latest completion time given up, -Infinity while none was */
  private readonly evictedUpToMs = new Float64Array(SLOTS).fill(-Infinity);

  constructor(readonly capacity = DEFAULT_EXEMPLAR_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`exemplar capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  /** Completion times before this were given up in some latency bucket of the query: answers about earlier times are incomplete. */
  completeFromMs(query: Pick<ExemplarQuery, 'latMinNs' | 'latMaxNs'>): number {
    let from = -Infinity;
    const last = slotOf(Math.min(query.latMaxNs, Number.MAX_SAFE_INTEGER));
    for (let slot = slotOf(query.latMinNs); slot <= last; slot++) from = Math.max(from, this.evictedUpToMs[slot]!);
    return from;
  }

  add(batch: readonly Exemplar[]): void {
    for (const exemplar of batch) {
      // CPUs fill the kernel's ring in nearly time order: walk back over the few out of place
      let at = this.items.length;
      while (at > 0 && this.items[at - 1]!.timeMs > exemplar.timeMs) at--;
      if (at === this.items.length) this.items.push(exemplar);
      else this.items.splice(at, 0, exemplar);
      this.bySlot[slotOf(exemplar.latencyNs)]!.push(exemplar);
    }
    const excess = this.items.length - this.capacity;
    if (excess > 0) this.evict(Math.min(this.items.length, excess + Math.floor(this.capacity * EVICTION_BATCH)));
  }

  /** Gives up `count` exemplars, each the oldest of the bucket holding the most at that moment. */
  private evict(count: number): void {
    const held = Int32Array.from(this.bySlot, (list, slot) => list.length - this.heads[slot]!);
    const evicted = new Set<Exemplar>();
    for (let k = 0; k < count; k++) {
      let fullest = 0;
      for (let slot = 1; slot < SLOTS; slot++) if (held[slot]! > held[fullest]!) fullest = slot;
      const oldest = this.bySlot[fullest]![this.heads[fullest]!++]!;
      held[fullest]!--;
      evicted.add(oldest);
      this.evictedUpToMs[fullest] = Math.max(this.evictedUpToMs[fullest]!, oldest.timeMs);
    }
    this.items = this.items.filter((e) => !evicted.has(e));
    for (let slot = 0; slot < SLOTS; slot++) {
      // drop the given-up heads once they are half of a bucket's list
      const head = this.heads[slot]!;
      if (head > 0 && head * 2 >= this.bySlot[slot]!.length) {
        this.bySlot[slot] = this.bySlot[slot]!.slice(head);
        this.heads[slot] = 0;
      }
    }
  }

  /** Index of the first exemplar at or after timeMs. */
  private lowerBound(timeMs: number): number {
    return partitionPoint(0, this.items.length, (i) => this.items[i]!.timeMs < timeMs);
  }

  /** The region's exemplars chosen by the order (the slowest, by default), and how many it holds in all. */
  query(query: ExemplarQuery, limit: number, order: ExemplarOrder = 'slowest'): ExemplarAnswer {
    const matches: Exemplar[] = [];
    for (let i = this.lowerBound(query.fromMs); i < this.items.length && this.items[i]!.timeMs < query.toMs; i++) {
      const exemplar = this.items[i]!;
      if (exemplarMatches(exemplar, query)) matches.push(exemplar);
    }
    return { exemplars: firstInOrder(matches, order, limit), matched: matches.length };
  }
}
