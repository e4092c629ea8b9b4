/**
 * The client's columns, by seq, with the filtered histogram of each kept as a typed array.
 *
 * Rules: seq = startMs / intervalMs (shared/column.ts), so a range of time is a range of seqs and
 * a missing seq is a hole in the picture. Histograms are computed for one filter at a time and
 * cached; changing the filter drops the cache, never the columns. The number of columns is
 * bounded (oldest evicted first), so a dashboard left open for days does not grow.
 */
import { histogramOf, type Column, type DeviceInfo, type Filter, type SourceKind } from '../../shared/column.ts';
import type { ExemplarCapture, Hello } from '../../shared/protocol.ts';

/** Six hours of one-second columns: a few tens of MB at most, and far more than one screen. */
export const DEFAULT_CAPACITY = 21_600;
/** Cached histograms (2.6 KiB each): past this many the cache restarts, so wide views cost CPU, not memory. */
const HISTOGRAM_CACHE_LIMIT = 8192;

export interface ServerMeta {
  readonly host: string;
  readonly source: SourceKind;
  readonly intervalMs: number;
  readonly devices: readonly DeviceInfo[];
  /** what the server's history held at hello, for deciding whether older columns can be fetched */
  readonly oldestSeq: number | null;
  /** how the source picks exemplars, when it does so live (the BPF tracer); null otherwise */
  readonly exemplarCapture: ExemplarCapture | null;
}

function filterKey(filter: Filter): string {
  return `${filter.metric}|${[...(filter.devices ?? [])].sort((a, b) => a - b).join(',')}|${[...(filter.ops ?? [])].sort().join(',')}`;
}

export class ColumnStore {
  readonly capacity: number;
  meta: ServerMeta | null = null;
  /** bumped on every change; a frame is drawn only when it moved */
  version = 0;
  private readonly columns = new Map<number, Column>();
  /** ascending seqs of the columns held */
  private seqs: number[] = [];
  private readonly histograms = new Map<number, Float64Array>();
  private histogramFilter = '';
  /** seq ranges the server said it no longer holds ('gap' messages) */
  private readonly gaps: { fromSeq: number; toSeq: number }[] = [];

  constructor(capacity = DEFAULT_CAPACITY) {
    this.capacity = capacity;
  }

  setHello(hello: Hello): void {
    this.meta = {
      host: hello.host,
      source: hello.source,
      intervalMs: hello.intervalMs,
      devices: hello.devices,
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

  setDevices(devices: readonly DeviceInfo[]): void {
    if (!this.meta) return;
    this.meta = { ...this.meta, devices };
    this.version++;
  }

  get size(): number {
    return this.seqs.length;
  }

  get newestSeq(): number | null {
    return this.seqs.length === 0 ? null : this.seqs[this.seqs.length - 1]!;
  }

  /** End of the newest column in ms: "now" for a live view. */
  get newestEndMs(): number | null {
    const seq = this.newestSeq;
    if (seq === null) return null;
    const column = this.columns.get(seq)!;
    return column.startMs + column.intervalMs;
  }

  /** Adds a column (live or from history); a column already held is replaced. */
  add(column: Column): void {
    if (!this.columns.has(column.seq)) {
      const seqs = this.seqs;
      if (seqs.length === 0 || column.seq > seqs[seqs.length - 1]!) seqs.push(column.seq);
      else seqs.splice(this.lowerBound(column.seq), 0, column.seq);
    }
    this.columns.set(column.seq, column);
    this.histograms.delete(column.seq);
    while (this.seqs.length > this.capacity) this.evict(this.seqs[0]!);
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

  private evict(seq: number): void {
    this.columns.delete(seq);
    this.histograms.delete(seq);
    this.seqs.splice(this.lowerBound(seq), 1);
  }

  private lowerBound(seq: number): number {
    let low = 0;
    let high = this.seqs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.seqs[mid]! < seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Columns overlapping [fromMs, toMs), ascending. */
  range(fromMs: number, toMs: number): Column[] {
    const interval = this.meta?.intervalMs;
    if (!interval || this.seqs.length === 0) return [];
    const out: Column[] = [];
    for (let i = this.lowerBound(Math.floor(fromMs / interval)); i < this.seqs.length; i++) {
      const column = this.columns.get(this.seqs[i]!)!;
      if (column.startMs >= toMs) break;
      if (column.startMs + column.intervalMs > fromMs) out.push(column);
    }
    return out;
  }

  /** The filtered histogram of a column, computed once per filter. Do not modify it. */
  histogram(column: Column, filter: Filter): Float64Array {
    const key = filterKey(filter);
    if (key !== this.histogramFilter) {
      this.histograms.clear();
      this.histogramFilter = key;
    }
    let histogram = this.histograms.get(column.seq);
    if (!histogram) {
      if (this.histograms.size >= HISTOGRAM_CACHE_LIMIT) this.histograms.clear();
      histogram = histogramOf(column, filter);
      this.histograms.set(column.seq, histogram);
    }
    return histogram;
  }

  /** Seq runs in fromSeq..toSeq that are not held: [first, last] inclusive, ascending. */
  missing(fromSeq: number, toSeq: number): [number, number][] {
    const runs: [number, number][] = [];
    let expected = fromSeq;
    for (let i = this.lowerBound(fromSeq); i < this.seqs.length && this.seqs[i]! <= toSeq; i++) {
      const seq = this.seqs[i]!;
      if (seq > expected) runs.push([expected, seq - 1]);
      expected = seq + 1;
    }
    if (expected <= toSeq) runs.push([expected, toSeq]);
    return runs;
  }

  /** All held seqs, ascending (a copy). */
  allSeqs(): number[] {
    return [...this.seqs];
  }
}
