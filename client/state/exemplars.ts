/**
 * The exemplars of the region on screen: which region to ask the server to watch, and the list
 * its answers build. Pure data, no I/O: the model sends what want() returns and hands over
 * what arrives.
 *
 * The region is the cells the selection panel describes: whole columns in time (every column
 * overlapping the view, as the panel's statistics count them) × whole buckets in latency (every
 * bucket the y range touches). So "captured" counts exemplars of exactly the cells whose I/Os
 * "held" counts.
 *
 * The list is always the *oldest* exemplars captured in the region, in time order: the server
 * answers a watch with the oldest ones (up to one message) and the count of all, and live ones
 * are listed only while nothing captured is unlisted. That keeps the list a prefix in time, which
 * is what lets a live view slide on without asking again: exemplars that fall off the left edge
 * are the first ones of the list, and the count drops by exactly as many.
 */
import { slotBounds } from '../../shared/buckets.ts';
import type { Filter } from '../../shared/column.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
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
 * filter is one the server has not named yet). Latency bounds are those of whole buckets, so
 * the size metric, whose y axis is bytes, watches every latency.
 */
export function watchRegion(input: RegionInput): ExemplarRegion | null {
  const { intervalMs, filter } = input;
  // A device name not (yet) known to the server is -1 in the filter: it matches nothing.
  const devices = filter.devices && filter.devices.length > 0 ? filter.devices.filter((d) => d >= 0) : null;
  if (devices && devices.length === 0) return null;
  let latMinNs = 0;
  let latMaxNs = Number.MAX_SAFE_INTEGER;
  if (filter.metric === 'latency') {
    const { first, last } = slotsIn(input.yRange[0], input.yRange[1]);
    if (first > last) return null;
    // A slot holds the integers v with lower < v <= upper.
    latMinNs = slotBounds(first).lower + 1;
    latMaxNs = Math.min(Number.MAX_SAFE_INTEGER, slotBounds(last).upper);
  }
  return {
    fromMs: Math.floor(input.fromMs / intervalMs) * intervalMs,
    toMs: input.live ? null : Math.ceil(input.toMs / intervalMs) * intervalMs,
    latMinNs,
    latMaxNs,
    devices,
    ops: filter.ops && filter.ops.length > 0 ? [...filter.ops] : null,
  };
}

function sameList<T>(a: readonly T[] | null, b: readonly T[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameExceptFrom(a: ExemplarRegion, b: ExemplarRegion): boolean {
  return a.toMs === b.toMs && a.latMinNs === b.latMinNs && a.latMaxNs === b.latMaxNs && sameList(a.devices, b.devices) && sameList(a.ops, b.ops);
}

/** What the selection panel shows; a new object whenever anything in it changed. */
export interface ExemplarsView {
  /** the region asked for (its left edge moved on with a live view), null before the first answer is asked for */
  readonly region: ExemplarRegion | null;
  /** the oldest captured exemplars of the region, ascending in time */
  readonly listed: readonly Exemplar[];
  /** exemplars the server captured in the region */
  readonly captured: number;
  /** captured but not listed */
  readonly truncated: number;
  /** an answer is on its way: the numbers are about to change */
  readonly pending: boolean;
}

/** A question to send: watch this region (null: stop watching). */
export interface WatchRequest {
  readonly region: ExemplarRegion | null;
}

export class RegionExemplars {
  private region: ExemplarRegion | null = null;
  /** watch messages sent whose answer has not arrived */
  private awaiting = 0;
  private listed: Exemplar[] = [];
  private captured = 0;
  private current: ExemplarsView | null = null;

  constructor(readonly limit = MAX_EXEMPLARS_PER_MESSAGE) {}

  get view(): ExemplarsView {
    this.current ??= {
      region: this.region,
      listed: this.listed,
      captured: this.captured,
      truncated: this.captured - this.listed.length,
      pending: this.awaiting > 0,
    };
    return this.current;
  }

  /**
   * The watch to send so that the list is that of `wanted`, or null when nothing needs asking:
   * the same region, or a live one whose left edge moved on (followed here, unless the list has
   * run so short that it must be refilled).
   */
  want(wanted: ExemplarRegion | null): WatchRequest | null {
    const region = this.region;
    if (wanted === null) {
      if (region === null) return null;
      this.clear(null);
      return { region: null };
    }
    if (region && sameExceptFrom(region, wanted) && wanted.fromMs === region.fromMs) return null;
    if (region && region.toMs === null && sameExceptFrom(region, wanted) && wanted.fromMs > region.fromMs) {
      this.region = { ...region, fromMs: wanted.fromMs };
      this.prune();
      this.changed();
      // Exemplars captured but not listed are newer than every listed one. Once few are listed,
      // ask again for the oldest ones of what is left, without emptying the list meanwhile.
      if (this.awaiting === 0 && this.captured > this.listed.length && this.listed.length < this.limit / 2) {
        this.awaiting++;
        return { region: this.region };
      }
      return null;
    }
    this.clear(wanted);
    this.awaiting++;
    return { region: wanted };
  }

  /** The server's answer to a watch: the oldest exemplars of the region and how many it holds in all. */
  replaced(matched: number, exemplars: readonly Exemplar[]): void {
    if (this.awaiting > 0) this.awaiting--;
    this.changed();
    // A newer question is on its way; its answer will replace this one.
    if (this.awaiting > 0 || this.region === null) return;
    this.listed = [...exemplars].sort((a, b) => a.timeMs - b.timeMs).slice(0, this.limit);
    this.captured = matched;
    this.prune();
  }

  /** Live exemplars inside the watched region. */
  appended(exemplars: readonly Exemplar[]): void {
    // While a watch is unanswered these belong to the region asked before, or are counted in the answer.
    if (this.awaiting > 0 || this.region === null) return;
    const fromMs = this.region.fromMs;
    let listed = this.listed;
    for (const exemplar of exemplars) {
      // The server still watches the older left edge of a live view that slid on.
      if (exemplar.timeMs < fromMs) continue;
      // Listed only while the list holds every capture, so that it stays a prefix in time.
      const complete = this.captured === listed.length;
      this.captured++;
      if (!complete || listed.length >= this.limit) continue;
      if (listed === this.listed) listed = [...listed];
      // CPUs deliver in nearly, not exactly, time order.
      let at = listed.length;
      while (at > 0 && listed[at - 1]!.timeMs > exemplar.timeMs) at--;
      listed.splice(at, 0, exemplar);
    }
    this.listed = listed;
    this.changed();
  }

  /** The connection is new: the server watches nothing for it. */
  reset(): void {
    this.clear(null);
    this.awaiting = 0;
  }

  /** A new region, empty until its answer arrives (answers to earlier questions are still counted down). */
  private clear(region: ExemplarRegion | null): void {
    this.region = region;
    this.listed = [];
    this.captured = 0;
    this.changed();
  }

  /** Drops listed exemplars left of the region (the oldest, so the first) and their count. */
  private prune(): void {
    const fromMs = this.region?.fromMs ?? -Infinity;
    let k = 0;
    while (k < this.listed.length && this.listed[k]!.timeMs < fromMs) k++;
    if (k === 0) return;
    this.listed = this.listed.slice(k);
    this.captured -= k;
  }

  private changed(): void {
    this.current = null;
  }
}
