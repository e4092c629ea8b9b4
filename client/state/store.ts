/**
 * The client's columns, by seq, each packed into one typed array (packed.ts).
 *
 * Rules: seq = startMs / intervalMs (shared/column.ts), so a range of time is a range of seqs and
 * a missing seq is a hole in the picture. The number of columns is bounded (oldest evicted
 * first), so a dashboard left open for days does not grow. Whoever keeps sums over columns
 * hears of every column added, replaced or evicted through the listener.
 */
import type { Column, DeviceInfo, SourceKind } from '../../shared/column.ts';
import type { ExemplarCapture, Hello } from '../../shared/protocol.ts';
import { PackedColumn } from './packed.ts';
import { partitionPoint } from '../../shared/search.ts';

/**
 * A day and an hour of one-second columns, so a 24-hour view is held whole while it scrolls
 * (about 1 kB per packed column: ~90 MB at most, most of it outside the JS object heap).
 */
export const DEFAULT_CAPACITY = 90_000;

/** `before` left the store, `after` took its place; null for none (a new seq, an eviction). */
export type ColumnListener = (seq: number, before: PackedColumn | null, after: PackedColumn | null) => void;

export interface ServerMeta {
  readonly host: string;
  readonly source: SourceKind;
  readonly intervalMs: number;
  readonly devices: readonly DeviceInfo[];
  /** the hosts the page can narrow to (?host=), when the source reads several (--source prometheus); else empty */
  readonly hosts: readonly string[];
  /** the steps the server's history answers at, finest first (its interval, then each roll-up level) */
  readonly steps: readonly number[];
  /** what the server's history held at hello, for deciding whether older columns can be fetched */
  readonly oldestSeq: number | null;
  /** how the source picks exemplars, when it does so live (the BPF tracer); null otherwise */
  readonly exemplarCapture: ExemplarCapture | null;
}

export class ColumnStore {
  readonly capacity: number;
  meta: ServerMeta | null = null;
  /** bumped on every change; a frame is drawn only when it moved */
  version = 0;
  /** the columns held, ascending by seq: a range of seqs is a slice */
  private columns: PackedColumn[] = [];
  /** seq ranges the server said it no longer holds ('gap' messages) */
  private readonly gaps: { fromSeq: number; toSeq: number }[] = [];
  /** the last betweenKept() answer, and the range and version it is of */
  private lastBetween: { readonly fromSeq: number; readonly toSeq: number; readonly version: number; readonly columns: readonly PackedColumn[] } | null = null;

  constructor(
    capacity = DEFAULT_CAPACITY,
    private readonly listener: ColumnListener = () => undefined,
    /** the step of the columns held, when it is not the server's interval (a store of roll-ups) */
    private readonly stepMs: number | null = null,
  ) {
    this.capacity = capacity;
  }

  setHello(hello: Hello): void {
    this.meta = {
      host: hello.host,
      source: hello.source,
      intervalMs: hello.intervalMs,
      devices: hello.devices,
      hosts: hello.hosts ?? [],
      steps: hello.steps,
      oldestSeq: hello.oldestSeq,
      exemplarCapture: hello.exemplarCapture,
    };
    this.version++;
  }

  /** The threshold changed (by this page or another). */
  setCapture(capture: ExemplarCapture): void {
    if (!this.meta) return;
    this.meta = { ...this.meta, exemplarCapture: capture };
    this.version++;
  }

  /** The device table grew (and the hosts, when the message names them). */
  setDevices(devices: readonly DeviceInfo[], hosts?: readonly string[]): void {
    if (!this.meta) return;
    this.meta = { ...this.meta, devices, ...(hosts ? { hosts } : {}) };
    this.version++;
  }

  get size(): number {
    return this.columns.length;
  }

  get newestSeq(): number | null {
    return this.columns.length === 0 ? null : this.columns[this.columns.length - 1]!.seq;
  }

  /** End of the newest column in ms: "now" for a live view. */
  get newestEndMs(): number | null {
    const column = this.columns[this.columns.length - 1];
    return column ? column.startMs + column.intervalMs : null;
  }

  /** The column of this seq, if held. */
  get(seq: number): PackedColumn | undefined {
    const column = this.columns[this.lowerBound(seq)];
    return column?.seq === seq ? column : undefined;
  }

  /** Adds a column (live or from history); a column already held is replaced. */
  add(column: Column): void {
    const packed = column instanceof PackedColumn ? column : PackedColumn.of(column);
    const seq = packed.seq;
    const columns = this.columns;
    if (columns.length === 0 || seq > columns[columns.length - 1]!.seq) {
      columns.push(packed);
      this.listener(seq, null, packed);
    } else {
      const at = this.lowerBound(seq);
      const before = columns[at]?.seq === seq ? columns[at]! : null;
      if (before) columns[at] = packed;
      else columns.splice(at, 0, packed);
      this.listener(seq, before, packed);
    }
    while (columns.length > this.capacity) {
      const evicted = columns.shift()!;
      this.listener(evicted.seq, evicted, null);
    }
    this.version++;
  }

  /** Adds columns ascending by seq (a history answer) in one merge, not one insertion each. */
  addAll(incoming: readonly Column[]): void {
    if (incoming.length === 0) return;
    const held = this.columns;
    const merged: PackedColumn[] = [];
    let i = 0;
    for (const column of incoming) {
      const packed = column instanceof PackedColumn ? column : PackedColumn.of(column);
      while (i < held.length && held[i]!.seq < packed.seq) merged.push(held[i++]!);
      const before = i < held.length && held[i]!.seq === packed.seq ? held[i++]! : null;
      merged.push(packed);
      this.listener(packed.seq, before, packed);
    }
    while (i < held.length) merged.push(held[i++]!);
    const excess = merged.length - this.capacity;
    if (excess > 0) for (const evicted of merged.splice(0, excess)) this.listener(evicted.seq, evicted, null);
    this.columns = merged;
    this.version++;
  }

  addGap(fromSeq: number, toSeq: number): void {
    this.gaps.push({ fromSeq, toSeq });
    this.version++;
  }

  /** Seq ranges the server no longer holds, as reported by it. */
  knownGaps(): readonly { fromSeq: number; toSeq: number }[] {
    return this.gaps;
  }

  /** The index of the first column with seq >= the given one. */
  private lowerBound(seq: number): number {
    return partitionPoint(0, this.columns.length, (i) => this.columns[i]!.seq < seq);
  }

  /** The columns of seqs fromSeq..toSeq (inclusive), ascending; none when fromSeq > toSeq. */
  between(fromSeq: number, toSeq: number): PackedColumn[] {
    if (fromSeq > toSeq) return [];
    return this.columns.slice(this.lowerBound(fromSeq), this.lowerBound(toSeq + 1));
  }

  /**
   * The columns of seqs fromSeq..toSeq, as between(), for a frame to hold: the last call's array
   * while neither the range nor the store changed since. A view that does not move is drawn in
   * several frames (a picture painted in parts, a zoom's groups summed and their cells taken), and
   * each copied the references of the window's 3,600 to 10,000 columns. No help to a moving view
   * (a scrolling one): its range differs in every frame, and each frame copies them still.
   */
  betweenKept(fromSeq: number, toSeq: number): readonly PackedColumn[] {
    const last = this.lastBetween;
    if (last && last.fromSeq === fromSeq && last.toSeq === toSeq && last.version === this.version) return last.columns;
    const columns = this.between(fromSeq, toSeq);
    this.lastBetween = { fromSeq, toSeq, version: this.version, columns };
    return columns;
  }

  /** The seqs of the columns overlapping [fromMs, toMs): whole columns, as the rule seq = startMs / intervalMs makes them. */
  seqRange(fromMs: number, toMs: number): { fromSeq: number; toSeq: number } {
    const interval = this.stepMs ?? this.meta?.intervalMs ?? 1;
    return { fromSeq: Math.floor(fromMs / interval), toSeq: Math.ceil(toMs / interval) - 1 };
  }

  /** Columns overlapping [fromMs, toMs), ascending. */
  range(fromMs: number, toMs: number): PackedColumn[] {
    if (!this.meta) return [];
    const { fromSeq, toSeq } = this.seqRange(fromMs, toMs);
    return this.between(fromSeq, toSeq);
  }

  /**
   * Seq runs in fromSeq..toSeq that are not held: [first, last] inclusive, ascending. A drawing
   * frame asks every time (a live view's right edge is mostly a column ahead of the newest), so
   * it jumps over each stretch of held columns by bisection rather than walking a window of them:
   * seqs are unique and ascending, so seq − index is the same along a stretch without a gap and
   * larger after one.
   */
  missing(fromSeq: number, toSeq: number): [number, number][] {
    const columns = this.columns;
    const end = this.lowerBound(toSeq + 1);
    const runs: [number, number][] = [];
    let expected = fromSeq;
    let i = this.lowerBound(fromSeq);
    while (i < end) {
      const seq = columns[i]!.seq;
      if (seq > expected) runs.push([expected, seq - 1]);
      const offset = seq - i;
      let low = i + 1;
      let high = end;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (columns[mid]!.seq - mid > offset) high = mid;
        else low = mid + 1;
      }
      expected = columns[low - 1]!.seq + 1;
      i = low;
    }
    if (expected <= toSeq) runs.push([expected, toSeq]);
    return runs;
  }

  /** All held seqs, ascending (a copy). */
  allSeqs(): number[] {
    return this.columns.map((c) => c.seq);
  }
}
