/**
 * The exemplars of the region on screen: which region to ask the server to watch, and the list
 * its answers build. Pure data, no I/O: the model sends what want() returns and hands over
 * what arrives.
 *
 * The region is the cells the selection panel describes: whole columns in time (every column
 * overlapping the view, as the panel's statistics count them) × whole buckets on the y axis
 * (every bucket the y range touches: of latency, or of size for the size metric). So "captured"
 * counts exemplars of exactly the cells whose I/Os "held" counts.
 *
 * The list is the first exemplars of the region in the order the user picked — the slowest, by
 * default — not the first to arrive: the server answers a watch with the first ones in that
 * order (up to one message) and the count of all, and each live one is merged in at its place,
 * the last one falling off once the list is full. A live view that slides on drops what leaves
 * on the left; while the list holds every capture that is exact, otherwise the count of the
 * unlisted ones that left is unknown, so it asks again.
 */
import { slotBounds } from '../../shared/buckets.ts';
import type { Filter } from '../../shared/column.ts';
import { DEFAULT_EXEMPLAR_ORDER, firstInOrder, insertionPoint, type Exemplar, type ExemplarOrder } from '../../shared/exemplar.ts';
import { MAX_EXEMPLARS_PER_MESSAGE, type ExemplarRegion } from '../../shared/protocol.ts';
import { slotsIn } from '../../shared/view.ts';

/** What the view looks at, as the model knows it after drawing a frame. */
export interface RegionInput {
  readonly fromMs: number;
  readonly toMs: number;
  /** the view follows now: the region stays open to the right */
  readonly live: boolean;
  readonly intervalMs: number;
  readonly filter: Filter;
  readonly yRange: readonly [number, number];
}

/**
 * The region of the cells in view, or null when it can hold no exemplar (every device of the
 * filter is one the server has not named yet). The y range becomes the bounds of whole buckets
 * of the metric shown; the other metric is not narrowed.
 */
export function watchRegion(input: RegionInput): ExemplarRegion | null {
  const { intervalMs, filter } = input;
  // A device name not (yet) known to the server is -1 in the filter: it matches nothing.
  const devices = filter.devices && filter.devices.length > 0 ? filter.devices.filter((d) => d >= 0) : null;
  if (devices && devices.length === 0) return null;
  const { first, last } = slotsIn(input.yRange[0], input.yRange[1]);
  if (first > last) return null;
  // A slot holds the integers v with lower < v <= upper.
  const bounds: [number, number] = [Math.max(0, slotBounds(first).lower + 1), Math.min(Number.MAX_SAFE_INTEGER, slotBounds(last).upper)];
  const every: [number, number] = [0, Number.MAX_SAFE_INTEGER];
  const [latMinNs, latMaxNs] = filter.metric === 'latency' ? bounds : every;
  const [sizeMinBytes, sizeMaxBytes] = filter.metric === 'size' ? bounds : every;
  return {
    fromMs: Math.floor(input.fromMs / intervalMs) * intervalMs,
    toMs: input.live ? null : Math.ceil(input.toMs / intervalMs) * intervalMs,
    latMinNs,
    latMaxNs,
    sizeMinBytes,
    sizeMaxBytes,
    devices,
    ops: filter.ops && filter.ops.length > 0 ? [...filter.ops] : null,
  };
}

function sameList<T>(a: readonly T[] | null, b: readonly T[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameExceptFrom(a: ExemplarRegion, b: ExemplarRegion): boolean {
  return (
    a.toMs === b.toMs &&
    a.latMinNs === b.latMinNs &&
    a.latMaxNs === b.latMaxNs &&
    a.sizeMinBytes === b.sizeMinBytes &&
    a.sizeMaxBytes === b.sizeMaxBytes &&
    sameList(a.devices, b.devices) &&
    sameList(a.ops, b.ops)
  );
}

/** What the selection panel shows; a new object whenever anything in it changed. */
export interface ExemplarsView {
  /** the region asked for (its left edge moved on with a live view), null before the first answer is asked for */
  readonly region: ExemplarRegion | null;
  /** which of the region's exemplars are listed when it holds more than the list */
  readonly order: ExemplarOrder;
  /** the first captured exemplars of the region in the order */
  readonly listed: readonly Exemplar[];
  /** exemplars the server captured in the region */
  readonly captured: number;
  /** captured but not listed */
  readonly truncated: number;
  /** an answer is on its way: the numbers are about to change */
  readonly pending: boolean;
}

/** A question to send: watch this region (null: stop watching), listing first in this order. */
export interface WatchRequest {
  readonly region: ExemplarRegion | null;
  readonly order: ExemplarOrder;
}

export class RegionExemplars {
  private region: ExemplarRegion | null = null;
  private order: ExemplarOrder = DEFAULT_EXEMPLAR_ORDER;
  /** watch messages sent whose answer has not arrived */
  private awaiting = 0;
  private listed: Exemplar[] = [];
  private captured = 0;
  private current: ExemplarsView | null = null;

  constructor(readonly limit = MAX_EXEMPLARS_PER_MESSAGE) {}

  get view(): ExemplarsView {
    this.current ??= {
      region: this.region,
      order: this.order,
      listed: this.listed,
      captured: this.captured,
      truncated: this.captured - this.listed.length,
      pending: this.awaiting > 0,
    };
    return this.current;
  }

  /**
   * The watch to send so that the list is that of `wanted` in `order`, or null when nothing
   * needs asking: the same question, or a live region whose left edge moved on while the list
   * holds every capture (followed here).
   */
  want(wanted: ExemplarRegion | null, order: ExemplarOrder = DEFAULT_EXEMPLAR_ORDER): WatchRequest | null {
    const region = this.region;
    if (wanted === null) {
      if (region === null) return null;
      this.clear(null, order);
      return { region: null, order };
    }
    const sameOrder = order === this.order;
    if (region && sameOrder && sameExceptFrom(region, wanted) && wanted.fromMs === region.fromMs) return null;
    if (region && sameOrder && region.toMs === null && sameExceptFrom(region, wanted) && wanted.fromMs > region.fromMs) {
      this.region = { ...region, fromMs: wanted.fromMs };
      this.prune();
      this.changed();
      // Unlisted captures may have left on the left too, and the remaining ones may now belong
      // in the list: ask again, keeping the list meanwhile.
      if (this.awaiting === 0 && this.captured > this.listed.length) {
        this.awaiting++;
        return { region: this.region, order };
      }
      return null;
    }
    this.clear(wanted, order);
    this.awaiting++;
    return { region: wanted, order };
  }

  /** The server's answer to a watch: the first exemplars of the region in the order, and how many it holds in all. */
  replaced(matched: number, exemplars: readonly Exemplar[]): void {
    if (this.awaiting > 0) this.awaiting--;
    this.changed();
    // A newer question is on its way; its answer will replace this one.
    if (this.awaiting > 0 || this.region === null) return;
    this.listed = firstInOrder(exemplars, this.order, this.limit);
    this.captured = matched;
    this.prune();
  }

  /** Live exemplars inside the watched region, each merged in at its place in the order. */
  appended(exemplars: readonly Exemplar[]): void {
    // While a watch is unanswered these belong to the region asked before, or are counted in the answer.
    if (this.awaiting > 0 || this.region === null) return;
    const fromMs = this.region.fromMs;
    let listed = this.listed;
    for (const exemplar of exemplars) {
      // The server still watches the older left edge of a live view that slid on.
      if (exemplar.timeMs < fromMs) continue;
      this.captured++;
      const at = insertionPoint(listed, exemplar, this.order);
      if (at >= this.limit) continue;
      if (listed === this.listed) listed = [...listed];
      listed.splice(at, 0, exemplar);
      if (listed.length > this.limit) listed.pop();
    }
    this.listed = listed;
    this.changed();
  }

  /** The connection is new: the server watches nothing for it. */
  reset(): void {
    this.clear(null, this.order);
    this.awaiting = 0;
  }

  /** A new question, empty until its answer arrives (answers to earlier questions are still counted down). */
  private clear(region: ExemplarRegion | null, order: ExemplarOrder): void {
    this.region = region;
    this.order = order;
    this.listed = [];
    this.captured = 0;
    this.changed();
  }

  /** Drops listed exemplars left of the region, and their count. */
  private prune(): void {
    const fromMs = this.region?.fromMs ?? -Infinity;
    const kept = this.listed.filter((e) => e.timeMs >= fromMs);
    if (kept.length === this.listed.length) return;
    this.captured -= this.listed.length - kept.length;
    this.listed = kept;
  }

  private changed(): void {
    this.current = null;
  }
}
