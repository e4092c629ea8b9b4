/**
 * The page's columns at each step it draws: the server's own columns (the base tier, filled by
 * the live stream and by history requests) and, per level of detail, its roll-ups (filled by
 * history requests at that step, shared/rollup.ts). A frame draws from one tier: the coarsest
 * step that still gives each pixel column its own cell (stepFor, the server's rule too).
 *
 * Each tier keeps its own sums and drawn groups (rollup.ts), told of every change of its store.
 *
 * A roll-up stays exact while the live view moves: each held roll-up knows the newest column it
 * counts (`through`: the answer's throughSeq, or the end of its step), and every column the page
 * receives after that is added into it. A roll-up the page has not fetched is made from the
 * page's own columns when it holds every one of its step so far (a new step of a live view), and
 * otherwise fetched.
 */
import { ColumnSum, rollupSeqOf } from '../../shared/rollup.ts';
import type { PackedColumns } from '../../shared/protocol.ts';
import type { Column } from '../../shared/column.ts';
import { ColumnStore } from './store.ts';
import { PackedColumn } from './packed.ts';
import { GroupCache, RegionSums } from './rollup.ts';

/** Roll-ups held per level: a month of 10-minute ones, two days of 10-s ones. */
export const LEVEL_CAPACITY = 20_000;

export class Tier {
  readonly sums = new RegionSums();
  readonly groups = new GroupCache();
  readonly store: ColumnStore;

  constructor(
    /** null: the server's column interval (the base tier) */
    readonly stepMs: number | null,
    capacity: number,
  ) {
    this.store = new ColumnStore(capacity, (seq, before, after) => {
      this.sums.changed(before, after);
      this.groups.changed(seq);
    }, stepMs);
  }
}

/** A tier of roll-ups, kept exact against the columns of the base tier. */
export class LevelTier extends Tier {
  declare readonly stepMs: number;
  /** per held roll-up seq: the newest column seq it counts */
  private readonly through = new Map<number, number>();
  /**
   * The running sum of the last roll-up caught up, and the packed column made from it: while the
   * store still holds that column, the next columns are added to this sum rather than summing the
   * held roll-up again (~20 ms a frame of a week's backfill). Any other column held at its seq (an
   * answer received, the roll-up evicted and made again, another seq) is summed anew: the sum is
   * of that column alone, or columns would count twice.
   */
  private lastSum: { readonly sum: ColumnSum; made: PackedColumn } | null = null;

  constructor(
    stepMs: number,
    private readonly intervalMs: number,
  ) {
    super(stepMs, LEVEL_CAPACITY);
  }

  /**
   * Roll-ups from..to (exclusive) of an answer at this step (`asPage`: with the page's device
   * ids); each then takes the held columns newer than the answer counted.
   */
  received(packed: PackedColumns, from: number, to: number, base: ColumnStore, asPage: (rollup: Column) => Column): void {
    const rollups: Column[] = [];
    for (let i = from; i < to; i++) rollups.push(asPage(PackedColumn.fromPacked(packed, i)));
    this.store.addAll(rollups);
    for (const rollup of rollups) {
      const lastSeq = this.lastColumnSeq(rollup.seq);
      this.through.set(rollup.seq, Math.min(packed.throughSeq, lastSeq));
      this.catchUp(rollup.seq, lastSeq, base);
    }
    this.evictedThrough();
  }

  /** A column reached the base tier: count it into its roll-up, when that is held and does not count it yet, or can be made whole. */
  columnAdded(seq: number, base: ColumnStore): void {
    const rollupSeq = rollupSeqOf(seq * this.intervalMs, this.stepMs);
    if (this.through.has(rollupSeq)) {
      this.catchUp(rollupSeq, seq, base);
      return;
    }
    const firstSeq = this.firstColumnSeq(rollupSeq);
    if (base.missing(firstSeq, seq).length > 0) return; // not all its columns: fetched instead
    this.through.set(rollupSeq, firstSeq - 1);
    this.store.add({ seq: rollupSeq, startMs: rollupSeq * this.stepMs, intervalMs: this.stepMs, series: [] });
    this.catchUp(rollupSeq, seq, base);
    this.evictedThrough();
  }

  private firstColumnSeq(rollupSeq: number): number {
    return Math.ceil((rollupSeq * this.stepMs) / this.intervalMs);
  }

  private lastColumnSeq(rollupSeq: number): number {
    return this.firstColumnSeq(rollupSeq + 1) - 1;
  }

  /** Adds the held columns after the roll-up's `through`, up to `toSeq`, into it. */
  private catchUp(rollupSeq: number, toSeq: number, base: ColumnStore): void {
    const through = this.through.get(rollupSeq)!;
    const newer = base.between(through + 1, Math.min(toSeq, this.lastColumnSeq(rollupSeq)));
    if (newer.length === 0) return;
    const held = this.store.get(rollupSeq);
    if (!held) return;
    let summing = this.lastSum;
    if (!summing || summing.made !== held) {
      const sum = new ColumnSum();
      sum.add(held);
      summing = this.lastSum = { sum, made: held };
    }
    for (const column of newer) summing.sum.add(column);
    const made = PackedColumn.of(summing.sum.toColumn(rollupSeq, rollupSeq * this.stepMs, this.stepMs));
    this.store.add(made);
    summing.made = made;
    this.through.set(rollupSeq, newer[newer.length - 1]!.seq);
  }

  /** Forgets `through` of roll-ups the store no longer holds. */
  private evictedThrough(): void {
    if (this.through.size <= this.store.size) return;
    for (const seq of this.through.keys()) if (!this.store.get(seq)) this.through.delete(seq);
  }
}
