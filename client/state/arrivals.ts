import type { PackedColumns } from '../../shared/protocol.ts';
import { HistoryLoader, type FetchColumns } from '../net/history.ts';

/** Adds columns `from` (inclusive) to `to` (exclusive) of a history answer to the page's tiers. */
export type AddSlice = (packed: PackedColumns, from: number, to: number) => void;

/**
 * The history the page asked for and has not added yet: the loader's requests, and the answers
 * that came back, added a slice per frame (addSlice) so that no frame pays for a whole answer.
 *
 * `version` counts the times history was added in full: something was added since the last
 * count, nothing is left to add and nothing is asked for. The renderer takes the colour scale
 * anew when it moves (HeatmapInput.historyVersion). Roll-up chunks are asked for newest first,
 * so the last answer of a load is the oldest chunk, and it may be empty (older than the server's
 * history), fail, or come after the one before it was added: the count is checked both when a
 * slice was added and whenever a request settles, whatever its outcome.
 */
export class HistoryArrivals {
  private readonly loader: HistoryLoader;
  private readonly arriving: { readonly packed: PackedColumns; next: number }[] = [];
  private addedSinceVersion = false;
  version = 0;

  /** `changed`: called when a request settles, answered or failed (the page draws a frame). */
  constructor(fetchColumns: FetchColumns, changed: () => void) {
    this.loader = new HistoryLoader(
      fetchColumns,
      (packed) => this.arrived(packed),
      () => {
        this.countIfComplete();
        changed();
      },
    );
  }

  /** answers (or parts of them) waiting to be added */
  get answersLeft(): number {
    return this.arriving.length;
  }

  /** history asked for or waiting to be added */
  get loading(): boolean {
    return this.loader.busy || this.arriving.length > 0;
  }

  /** why the last request failed (null after one succeeds) */
  get lastError(): string | null {
    return this.loader.lastError;
  }

  /** An answer to add: of the loader's requests, or the backfill the server sends at a roll-up step. */
  arrived(packed: PackedColumns): void {
    this.arriving.push({ packed, next: 0 });
  }

  /** Asks for the chunks of `size` seqs holding these missing runs of seqs of the step (HistoryLoader.request). */
  request(stepMs: number, size: number, runs: readonly [number, number][]): void {
    this.loader.request(stepMs, size, runs);
  }

  /**
   * Adds up to `budget` columns of the answers that have arrived, in order; empty answers are
   * passed over. Returns how many it added.
   */
  addSlice(budget: number, add: AddSlice): number {
    let left = budget;
    while (left > 0 && this.arriving.length > 0) {
      const answer = this.arriving[0]!;
      const from = answer.next;
      const to = Math.min(answer.packed.count, from + left);
      if (to > from) {
        add(answer.packed, from, to);
        this.addedSinceVersion = true;
      }
      left -= to - from;
      answer.next = to;
      if (to === answer.packed.count) this.arriving.shift();
    }
    this.countIfComplete();
    return budget - left;
  }

  /** A new server (or the same one restarted): nothing asked of the last one is added, and its history may hold more. */
  forget(): void {
    this.loader.forget();
    this.arriving.length = 0;
    this.addedSinceVersion = false;
  }

  dispose(): void {
    this.loader.dispose();
  }

  private countIfComplete(): void {
    if (this.addedSinceVersion && this.arriving.length === 0 && !this.loader.busy) {
      this.version++;
      this.addedSinceVersion = false;
    }
  }
}
