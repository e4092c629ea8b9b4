/**
 * The server's memory of exemplars, beside the column history: at most `capacity` of them,
 * kept in completion-time order, the oldest evicted first. Memory is bounded by the capacity
 * (an exemplar is ~200 bytes), whatever the I/O rate: the kernel's rate cap bounds arrivals,
 * this bounds what is kept.
 */
import { exemplarMatches, firstInOrder, type Exemplar, type ExemplarOrder, type ExemplarQuery } from '../../shared/exemplar.ts';
import { partitionPoint } from '../../shared/search.ts';

export const DEFAULT_EXEMPLAR_CAPACITY = 100_000;

export interface ExemplarAnswer {
  /** the first `limit` matching exemplars in the order asked for, in that order */
  readonly exemplars: readonly Exemplar[];
  /** how many matched before the limit */
  readonly matched: number;
}

export class ExemplarStore {
  private items: Exemplar[] = [];
  private evictedUpToMs = -Infinity;

  constructor(readonly capacity = DEFAULT_EXEMPLAR_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`exemplar capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  /** Completion times before this were evicted: answers about earlier times are incomplete. */
  get heldFromMs(): number {
    return this.evictedUpToMs;
  }

  add(batch: readonly Exemplar[]): void {
    for (const exemplar of batch) {
      // CPUs fill the kernel's ring in nearly time order: walk back over the few out of place
      let at = this.items.length;
      while (at > 0 && this.items[at - 1]!.timeMs > exemplar.timeMs) at--;
      if (at === this.items.length) this.items.push(exemplar);
      else this.items.splice(at, 0, exemplar);
    }
    const excess = this.items.length - this.capacity;
    if (excess > 0) {
      this.evictedUpToMs = this.items[excess - 1]!.timeMs;
      this.items = this.items.slice(excess);
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
