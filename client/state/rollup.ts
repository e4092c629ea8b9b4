/**
 * What a frame needs from the columns in view, kept between frames so that a frame costs what
 * changed, not the length of the window:
 *
 *   RegionSums  the summed filtered histogram of the view (total, per device, per op), for the
 *               y fit and the statistics panels; moved by the columns that enter and leave.
 *   GroupCache  the drawn cell columns (roll-ups of `size` adjacent columns when a column is
 *               narrower than a device pixel), each computed once per filter and size.
 *
 * Both hear from the store when a column is added, replaced or evicted (ColumnStore's
 * listener), so a late history chunk or a replaced column is never summed stale.
 */
import { SLOTS, OPS, type Op } from '../../shared/scheme.ts';
import type { Filter } from '../../shared/column.ts';
import { percentileSlotsOf, type CellGroup } from '../render/heatmap.ts';
import type { PackedColumn, SeriesFilter } from './packed.ts';
import { partitionPoint } from '../../shared/search.ts';

/** One identity per filter, whatever the order of its device and op lists. */
export function filterKey(filter: Filter): string {
  return `${filter.metric}|${[...(filter.devices ?? [])].sort((a, b) => a - b).join(',')}|${[...(filter.ops ?? [])].sort().join(',')}`;
}

/** Where the view's held columns are: ascending by seq, those of seqs fromSeq..toSeq (inclusive). */
export interface HeldColumns {
  between(fromSeq: number, toSeq: number): readonly PackedColumn[];
}

/** The view's summed histograms as one frame saw them: copies, never changed afterwards. */
export interface RegionSnapshot {
  readonly total: Float64Array;
  readonly byDevice: ReadonlyMap<number, Float64Array>;
  readonly byOp: ReadonlyMap<Op, Float64Array>;
}

function histogramIn<K>(map: Map<K, Float64Array>, key: K): Float64Array {
  let h = map.get(key);
  if (!h) map.set(key, (h = new Float64Array(SLOTS)));
  return h;
}

/**
 * The sum of the filtered histograms of the held columns with seq in fromSeq..toSeq. Counts are
 * integers, so adding a column and later subtracting it leaves the sums exactly as they were:
 * sliding by k columns costs k columns, and equals summing the window anew (a unit test holds
 * them equal).
 */
export class RegionSums {
  private key: string | null = null;
  private filter: SeriesFilter | null = null;
  private fromSeq = 0;
  private toSeq = -1;
  private total = new Float64Array(SLOTS);
  private byDevice = new Map<number, Float64Array>();
  private byOp = new Map<number, Float64Array>();
  /** [total, its device's, its op's] per (device, op): what one series adds into */
  private targets = new Map<number, Float64Array[]>();
  /** bumped by every change of the sums */
  private version = 0;
  /** the last snapshot, and the version it copied */
  private copied: { readonly version: number; readonly snapshot: RegionSnapshot } | null = null;

  /** A column of the store changed: `before` left it, `after` took its place (either may be null). */
  changed(before: PackedColumn | null, after: PackedColumn | null): void {
    const seq = (before ?? after)?.seq;
    if (seq === undefined || seq < this.fromSeq || seq > this.toSeq) return;
    if (before) this.add(before, -1);
    if (after) this.add(after, 1);
  }

  /** Sums seqs fromSeq..toSeq under the filter, from what is summed now where the two overlap. */
  moveTo(held: HeldColumns, fromSeq: number, toSeq: number, filter: SeriesFilter, key: string): void {
    const moved = Math.abs(fromSeq - this.fromSeq) + Math.abs(toSeq - this.toSeq);
    if (key !== this.key || toSeq < this.fromSeq || fromSeq > this.toSeq || moved > toSeq - fromSeq + 1) {
      this.key = key;
      this.filter = filter;
      this.total = new Float64Array(SLOTS);
      this.byDevice = new Map();
      this.byOp = new Map();
      this.targets = new Map();
      this.version++;
      for (const column of held.between(fromSeq, toSeq)) this.add(column, 1);
    } else {
      // Leaving first, entering second; each range is empty when that edge did not move that way.
      for (const column of held.between(this.fromSeq, fromSeq - 1)) this.add(column, -1);
      for (const column of held.between(toSeq + 1, this.toSeq)) this.add(column, -1);
      for (const column of held.between(fromSeq, this.fromSeq - 1)) this.add(column, 1);
      for (const column of held.between(this.toSeq + 1, toSeq)) this.add(column, 1);
    }
    this.fromSeq = fromSeq;
    this.toSeq = toSeq;
  }

  /**
   * The sums as they are now, copied: the last snapshot again while they did not change since
   * (a view that does not move is drawn in several frames, and each copied them all).
   */
  snapshot(): RegionSnapshot {
    if (this.copied?.version === this.version) return this.copied.snapshot;
    const byDevice = new Map<number, Float64Array>();
    for (const [device, h] of this.byDevice) byDevice.set(device, h.slice());
    const byOp = new Map<Op, Float64Array>();
    for (const [op, h] of this.byOp) byOp.set(OPS[op]!, h.slice());
    const snapshot = { total: this.total.slice(), byDevice, byOp };
    this.copied = { version: this.version, snapshot };
    return snapshot;
  }

  private add(column: PackedColumn, sign: number): void {
    this.version++;
    column.addTo(this.filter!, sign, (device, op) => {
      const key = device * OPS.length + op;
      let targets = this.targets.get(key);
      if (!targets) this.targets.set(key, (targets = [this.total, histogramIn(this.byDevice, device), histogramIn(this.byOp, op)]));
      return targets;
    });
  }
}

/**
 * Columns summed per drawn cell: 1 while a column is at least a device pixel wide, else enough
 * that a group is. Groups are aligned to multiples of the size in seq, so scrolling moves whole
 * groups and the grouping does not shimmer.
 */
export function groupSizeOf(widthPx: number, fromMs: number, toMs: number, intervalMs: number): number {
  const pxPerColumn = (widthPx * intervalMs) / (toMs - fromMs);
  return pxPerColumn >= 1 ? 1 : Math.ceil(1 / pxPerColumn);
}

/** A group from its summed histogram; `first` is its first held column (a group of one spans that column). */
export function cellGroup(first: { readonly seq: number; readonly startMs: number; readonly intervalMs: number }, size: number, intervalMs: number, histogram: Float64Array): CellGroup {
  const firstSeq = Math.floor(first.seq / size) * size;
  const startMs = size > 1 ? firstSeq * intervalMs : first.startMs;
  const endMs = size > 1 ? startMs + size * intervalMs : startMs + first.intervalMs;
  return { firstSeq, startMs, endMs, histogram, percentileSlots: percentileSlotsOf(histogram) };
}

/**
 * The drawn groups of a view. A group that lies wholly inside the view is the same in every
 * frame until one of its columns changes (the store says so) or the filter or size changes, so
 * it is kept; so is each of the one or two cut by the view's edges while it sums the same held
 * columns (a week's view moves by a pixel of minutes, a column of its left-edge group leaves only
 * every few frames: summed anew each frame, it was a new object the renderer repainted with its
 * piece of the percentile lines). Only groups of the latest view are kept: a few thousand at
 * most, one per device-pixel column.
 *
 * The list of the last walk is kept too: the next view's walk copies the runs of its groups that
 * both views hold whole and no column of which changed since (one on each side of the changed
 * seqs), and walks only the columns around them (a scrolling view's edges, a replaced column's
 * group), not every column in view (3,600 at 1 h, with a map look-up per group: the model's
 * largest work in a scrolling frame). A prepare() that summed everything is such a walk, so the
 * groups() call after it reads only the groups cut by the view's edges. Each walk's list is a new
 * array, never changed afterwards: the renderer keeps the last frame's to compare with the next.
 */
export class GroupCache {
  private key: string | null = null;
  private size = 1;
  private readonly whole = new Map<number, CellGroup>();
  /** the groups cut by the view's edges, by first seq, with the seqs of the first and last held columns they sum */
  private readonly cut = new Map<number, { readonly firstHeld: number; readonly lastHeld: number; readonly group: CellGroup }>();
  /**
   * The groups of the last walk that got to its end, of seqs fromSeq..toSeq, and the first seqs
   * of the groups inside that view a column of which changed since (at most one per group).
   */
  private walked: { readonly fromSeq: number; readonly toSeq: number; readonly groups: readonly CellGroup[]; readonly changed: Set<number> } | null = null;

  /** A column was added, replaced or evicted: its group is summed again when next drawn. */
  changed(seq: number): void {
    const firstSeq = Math.floor(seq / this.size) * this.size;
    const walked = this.walked;
    if (walked && seq >= walked.fromSeq && seq <= walked.toSeq) walked.changed.add(firstSeq);
    this.whole.delete(firstSeq);
    this.cut.delete(firstSeq);
  }

  /**
   * Sums the whole groups of the view not kept yet, up to about `budget` words of column data
   * (what summing costs: a roll-up holds more than a column), and says whether none is left
   * (`done`) and how many words it summed: a view that needs thousands of new groups (a zoom) is
   * summed over a few frames, not in one. `columns` as for groups().
   */
  prepare(columns: readonly PackedColumn[], fromSeq: number, toSeq: number, size: number, intervalMs: number, filter: SeriesFilter, key: string, budget: number): { done: boolean; words: number } {
    this.use(key, size);
    const walked = this.walk(columns, fromSeq, toSeq, intervalMs, filter, budget);
    return { done: walked.groups !== null, words: walked.words };
  }

  /** `columns`: the held columns of seqs fromSeq..toSeq, ascending. */
  groups(columns: readonly PackedColumn[], fromSeq: number, toSeq: number, size: number, intervalMs: number, filter: SeriesFilter, key: string): CellGroup[] {
    this.use(key, size);
    const out = this.walk(columns, fromSeq, toSeq, intervalMs, filter, Infinity).groups!;
    if (this.whole.size > 2 * out.length + 16) {
      for (const firstSeq of this.whole.keys()) if (firstSeq < fromSeq || firstSeq > toSeq) this.whole.delete(firstSeq);
    }
    // the cut groups of this view are those of its first and last seq
    for (const firstSeq of this.cut.keys()) {
      if (firstSeq !== Math.floor(fromSeq / size) * size && firstSeq !== Math.floor(toSeq / size) * size) this.cut.delete(firstSeq);
    }
    return out;
  }

  /** The view's groups, the whole ones not kept summed while `budget` words last; null groups when it ran out. */
  private walk(columns: readonly PackedColumn[], fromSeq: number, toSeq: number, intervalMs: number, filter: SeriesFilter, budget: number): { groups: CellGroup[] | null; words: number } {
    const progress = { summed: 0, budget };
    const parts: CellGroup[][] = [];
    let begin = 0;
    for (const run of this.keptRuns(fromSeq, toSeq)) {
      const runBegin = partitionPoint(begin, columns.length, (i) => columns[i]!.seq < run.fromSeq);
      const beforeRun: CellGroup[] = [];
      if (!this.walkColumns(columns, begin, runBegin, fromSeq, toSeq, intervalMs, filter, progress, beforeRun)) return { groups: null, words: progress.summed };
      parts.push(beforeRun, run.groups.slice(run.first, run.end));
      begin = partitionPoint(runBegin, columns.length, (i) => columns[i]!.seq <= run.toSeq);
    }
    const rest: CellGroup[] = [];
    if (!this.walkColumns(columns, begin, columns.length, fromSeq, toSeq, intervalMs, filter, progress, rest)) return { groups: null, words: progress.summed };
    // concat: one array at its length, of packed elements (one made at its length and filled by index is holey, which the renderer's walks over it pay for)
    const out = parts.length === 0 ? rest : ([] as CellGroup[]).concat(...parts, rest);
    this.walked = { fromSeq, toSeq, groups: out, changed: new Set() };
    return { groups: out, words: progress.summed };
  }

  /**
   * The runs of the last walk's groups this view can take as they are, ascending: those of seqs
   * fromSeq..toSeq (whole groups, aligned to the size) whole in both views, split around the
   * groups changed since (a scrolling view's new column lands at its right edge, an evicted one
   * at its left, a late or replaced one anywhere); each is groups[first..end) of the last walk's
   * list.
   */
  private keptRuns(fromSeq: number, toSeq: number): { readonly fromSeq: number; readonly toSeq: number; readonly groups: readonly CellGroup[]; readonly first: number; readonly end: number }[] {
    const walked = this.walked;
    if (!walked) return [];
    const size = this.size;
    const high = Math.floor((Math.min(walked.toSeq, toSeq) + 1) / size) * size - 1;
    const spans: [number, number][] = [];
    let low = Math.ceil(Math.max(walked.fromSeq, fromSeq) / size) * size;
    for (const changed of [...walked.changed].sort((a, b) => a - b)) {
      if (changed > high) break;
      if (changed > low) spans.push([low, changed - 1]);
      low = Math.max(low, changed + size);
    }
    if (low <= high) spans.push([low, high]);
    const groups = walked.groups;
    return spans.map(([from, to]) => {
      const first = partitionPoint(0, groups.length, (k) => groups[k]!.firstSeq < from);
      const end = partitionPoint(first, groups.length, (k) => groups[k]!.firstSeq <= to);
      return { fromSeq: from, toSeq: to, groups, first, end };
    });
  }

  /**
   * Appends the groups of columns[begin..end) to `out` (the view's whole groups not kept summed
   * while the budget lasts); false when it ran out. begin and end fall between groups.
   */
  private walkColumns(columns: readonly PackedColumn[], begin: number, end: number, fromSeq: number, toSeq: number, intervalMs: number, filter: SeriesFilter, progress: { summed: number; readonly budget: number }, out: CellGroup[]): boolean {
    const size = this.size;
    let i = begin;
    while (i < end) {
      const firstSeq = Math.floor(columns[i]!.seq / size) * size;
      let j = i + 1;
      while (j < end && columns[j]!.seq < firstSeq + size) j++;
      if (firstSeq >= fromSeq && firstSeq + size - 1 <= toSeq) {
        let group = this.whole.get(firstSeq);
        if (!group) {
          if (progress.summed >= progress.budget) return false;
          this.whole.set(firstSeq, (group = this.sum(columns, i, j, size, intervalMs, filter)));
          for (let k = i; k < j; k++) progress.summed += columns[k]!.data.length;
        }
        out.push(group);
      } else out.push(this.cutGroup(columns, i, j, firstSeq, intervalMs, filter));
      i = j;
    }
    return true;
  }

  /** A group cut by the view's edges: the kept one while it sums the same held columns (any column changed in between went through changed). */
  private cutGroup(columns: readonly PackedColumn[], i: number, j: number, firstSeq: number, intervalMs: number, filter: SeriesFilter): CellGroup {
    const firstHeld = columns[i]!.seq;
    const lastHeld = columns[j - 1]!.seq;
    const kept = this.cut.get(firstSeq);
    if (kept && kept.firstHeld === firstHeld && kept.lastHeld === lastHeld) return kept.group;
    const group = this.sum(columns, i, j, this.size, intervalMs, filter);
    this.cut.set(firstSeq, { firstHeld, lastHeld, group });
    return group;
  }

  /** Another filter or group size: no kept group is one of its groups. */
  private use(key: string, size: number): void {
    if (key === this.key && size === this.size) return;
    this.walked = null;
    this.whole.clear();
    this.cut.clear();
    this.key = key;
    this.size = size;
  }

  /** The group of columns[i..j). */
  private sum(columns: readonly PackedColumn[], i: number, j: number, size: number, intervalMs: number, filter: SeriesFilter): CellGroup {
    const histogram = new Float64Array(SLOTS);
    const into = [histogram];
    for (let k = i; k < j; k++) columns[k]!.addTo(filter, 1, () => into);
    return cellGroup(columns[i]!, size, intervalMs, histogram);
  }
}
