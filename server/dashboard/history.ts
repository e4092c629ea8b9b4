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
 *
 * Levels of detail: beside the columns, each level keeps exact roll-ups of a coarser step
 * (shared/rollup.ts) in a ring of its own, so a day or a week can be answered in a few thousand
 * cells. A level's ring is bounded like the columns' and may reach further back (defaultLevels).
 * Roll-ups are never sent one by one, only in large answers, most of them packed: so they are
 * kept packed, ROLLUPS_PER_CHUNK to a message, and a packed answer is runs of those copied.
 */
import { partitionPoint } from '../../shared/search.ts';
import { columnWith, type Column } from '../../shared/column.ts';
import { decodeOwnColumnMessage, encodePackedColumns, encodeServerMessage, joinPackedColumns, ownPackedColumns, packedColumnAt, type PackedColumns, type PackedRange, type PackedSeriesFilter } from '../../shared/protocol.ts';
import { ColumnSum, LEVEL_STEPS_MS, rollupSeqOf, stepFor, stepsOf } from '../../shared/rollup.ts';

/** What a ring keeps of any column: where it lies in time. */
export interface HeldEntry {
  readonly seq: number;
  readonly startMs: number;
  readonly intervalMs: number;
}

export interface HistoryEntry extends HeldEntry {
  /** the encoded `column` server message, exactly as sent on the wire */
  readonly wire: Buffer;
}

/** A finished roll-up: column `index` of its chunk, and its completions no program saw (which the packed form does not carry). */
export interface RollupEntry extends HeldEntry, Pick<Column, 'unseen'> {
  readonly chunk: RollupChunk;
  readonly index: number;
}

/** What a roll-up's unseen counts take beside it: a small object each (its op string shared) and its slot in their array. */
const UNSEEN_COUNT_BYTES = 48;

/**
 * Consecutive finished roll-ups of a level, one packed message for up to this many: few enough
 * that the roll-ups not packed yet hold little, enough that an answer copies long runs.
 */
export const ROLLUPS_PER_CHUNK = 64;

/**
 * Roll-ups packed together: kept as they are while the chunk fills, packed once when it is full.
 * A chunk's memory goes when the ring has evicted its last roll-up.
 */
export class RollupChunk {
  private filling: Column[] | null = [];
  private packedColumns: PackedColumns | null = null;

  get full(): boolean {
    return this.filling === null;
  }

  /** Adds the next roll-up; returns its index in the chunk. */
  add(column: Column): number {
    const filling = this.filling!;
    filling.push(column);
    this.packedColumns = null;
    if (filling.length === ROLLUPS_PER_CHUNK) {
      this.packedColumns = packedOf(filling);
      this.filling = null;
    }
    return filling.length - 1;
  }

  /**
   * The chunk's roll-ups so far, packed. While it fills, the first read after each add packs them
   * anew (63 at most): roll-ups are read only for large answers, which cost far more.
   */
  packed(): PackedColumns {
    return (this.packedColumns ??= packedOf(this.filling!));
  }

  /**
   * The bytes of its packed message (its counts as wide as its widest needs): what it holds once
   * full. While it fills, this packs it, and its roll-ups' Column objects take more than that.
   */
  get bytes(): number {
    return this.packed().seq.buffer.byteLength;
  }
}

/** Columns as a packed message kept in memory (its header's step and newest seq are never read). */
function packedOf(columns: readonly Column[]): PackedColumns {
  return ownPackedColumns(encodePackedColumns(columns, 1, null));
}

/** A bounded ring of held columns, ascending by seq; `bytesOf` says what an entry's column takes. */
export class ColumnRing<Entry extends HeldEntry> {
  readonly capacity: number;
  /** grows to capacity, then entries are overwritten in place (head = the oldest) */
  private readonly ring: Entry[] = [];
  private head = 0;
  private byteCount = 0;

  constructor(
    capacity: number,
    private readonly bytesOf: (entry: Entry) => number,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`history capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.ring.length;
  }

  /** bytes of the columns held (bytesOf each) */
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
  at(i: number): Entry {
    if (!(i >= 0 && i < this.ring.length)) throw new RangeError(`history index ${i} is outside 0..${this.ring.length - 1}`);
    return this.ring[(this.head + i) % this.ring.length]!;
  }

  /** Appends an entry; returns the one evicted to make room, if any. */
  push(entry: Entry): Entry | null {
    const newest = this.newestSeq;
    if (newest !== null && entry.seq <= newest) throw new RangeError(`history seq must ascend: ${entry.seq} after ${newest}`);
    this.byteCount += this.bytesOf(entry);
    if (this.ring.length < this.capacity) {
      this.ring.push(entry);
      return null;
    }
    const evicted = this.ring[this.head]!;
    this.ring[this.head] = entry;
    this.head = (this.head + 1) % this.capacity;
    this.byteCount -= this.bytesOf(evicted);
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

  get(seq: number): Entry | undefined {
    const i = this.indexOfSeq(seq);
    if (i >= this.ring.length) return undefined;
    const entry = this.at(i);
    return entry.seq === seq ? entry : undefined;
  }

  /** Entries whose column overlaps [fromMs, toMs), oldest first. */
  *inTimeRange(fromMs: number, toMs: number): Generator<Entry> {
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

/** A level of detail: roll-ups of `stepMs`, at most `capacity` of them. */
export interface LevelSpec {
  readonly stepMs: number;
  readonly capacity: number;
}

/** How long each level step is kept by default (at least as long as the columns themselves). */
export const LEVEL_SPANS_MS: Readonly<Record<number, number>> = {
  10_000: 48 * 3600_000,
  60_000: 7 * 24 * 3600_000,
  600_000: 30 * 24 * 3600_000,
};

/**
 * The default levels for columns of `intervalMs` kept `capacity` deep: 10 s for 48 h, 1 min for
 * 7 days and 10 min for 30 days (each only when it is a coarser multiple of the interval), and
 * never less time than the columns themselves cover.
 */
export function defaultLevels(intervalMs: number, capacity: number): LevelSpec[] {
  return stepsOf(intervalMs, LEVEL_STEPS_MS)
    .slice(1)
    .map((stepMs) => ({ stepMs, capacity: Math.ceil(Math.max(LEVEL_SPANS_MS[stepMs]!, capacity * intervalMs) / stepMs) }));
}

/**
 * Roll-ups of one step: the finished ones packed (RollupEntry) in a ring of their own, and the
 * one still filling (the step of the newest column) as a running sum.
 */
export class RollupLevel {
  readonly stepMs: number;
  /** the finished roll-ups; its bytes are their unseen counts, the chunks are counted apart */
  readonly ring: ColumnRing<RollupEntry>;
  private open: { seq: number; sum: ColumnSum } | null = null;
  private chunk = new RollupChunk();
  /** the packed messages of the full chunks that still hold a roll-up of the ring */
  private fullChunkBytes = 0;

  constructor(spec: LevelSpec) {
    this.stepMs = spec.stepMs;
    this.ring = new ColumnRing<RollupEntry>(spec.capacity, unseenBytes);
  }

  /**
   * Bytes held by the finished roll-ups: every chunk with one still in the ring, whole (a chunk
   * goes with its last roll-up), the filling one as packed, and their unseen counts.
   */
  get bytes(): number {
    return this.fullChunkBytes + (this.chunk.full ? 0 : this.chunk.bytes) + this.ring.bytes;
  }

  add(column: Column): void {
    const seq = rollupSeqOf(column.startMs, this.stepMs);
    if (this.open && this.open.seq !== seq) this.close();
    this.open ??= { seq, sum: new ColumnSum() };
    this.open.sum.add(column);
  }

  /** The roll-up still filling, as it stands, or null. */
  openColumn(): Column | null {
    return this.open && this.open.sum.toColumn(this.open.seq, this.open.seq * this.stepMs, this.stepMs);
  }

  /** The roll-ups overlapping [fromMs, toMs) as heldColumns decodes them: the finished ones' entries and the open one if it overlaps. */
  held(fromMs: number, toMs: number): HeldRollups {
    const open = this.open;
    const overlaps = open !== null && open.seq * this.stepMs < toMs && (open.seq + 1) * this.stepMs > fromMs;
    return { kind: 'rollups', rollups: [...this.ring.inTimeRange(fromMs, toMs)], open: overlaps ? this.openColumn() : null };
  }

  count(fromMs: number, toMs: number): number {
    const open = this.open;
    return this.ring.countInTimeRange(fromMs, toMs) + (open && open.seq * this.stepMs < toMs && (open.seq + 1) * this.stepMs > fromMs ? 1 : 0);
  }

  /** Oldest start and newest end held (the open roll-up counts to the end of its step), or null. */
  span(): { fromMs: number; toMs: number } | null {
    const oldest = this.ring.size > 0 ? this.ring.at(0).startMs : this.open ? this.open.seq * this.stepMs : null;
    if (oldest === null) return null;
    const newestSeq = this.open?.seq ?? this.ring.newestSeq!;
    return { fromMs: oldest, toMs: (newestSeq + 1) * this.stepMs };
  }

  private close(): void {
    const column = this.openColumn()!;
    if (this.chunk.full) this.chunk = new RollupChunk();
    const evicted = this.ring.push({
      seq: column.seq,
      startMs: column.startMs,
      intervalMs: column.intervalMs,
      chunk: this.chunk,
      index: this.chunk.add(column),
      unseen: column.unseen,
    });
    if (evicted?.index === ROLLUPS_PER_CHUNK - 1) this.fullChunkBytes -= evicted.chunk.bytes;
    if (this.chunk.full) this.fullChunkBytes += this.chunk.bytes;
    this.open = null;
  }
}

function encodeColumn(column: Column): Buffer {
  return Buffer.from(encodeServerMessage({ type: 'column', column }));
}

function unseenBytes(entry: RollupEntry): number {
  return UNSEEN_COUNT_BYTES * (entry.unseen?.length ?? 0);
}

/** The roll-up the entry was packed from. */
export function rollupColumn(entry: RollupEntry): Column {
  const { droppedExemplars, ...column } = packedColumnAt(entry.chunk.packed(), entry.index);
  return columnWith(column, droppedExemplars ?? [], entry.unseen ?? []);
}

/** A level's finished roll-ups held, then the open one, if any. */
export interface HeldRollups {
  readonly kind: 'rollups';
  readonly rollups: readonly RollupEntry[];
  readonly open: Column | null;
}

/**
 * Columns held, taken at once but not decoded yet (the rings are overwritten in place as columns
 * arrive, while a big answer decodes them over many turns): the columns' entries, or a level's
 * roll-ups; with the newest column seq at the moment they were taken, which they all count.
 */
export type HeldColumns = ({ readonly kind: 'columns'; readonly entries: readonly HistoryEntry[] } | HeldRollups) & { readonly throughSeq: number | null };

/** The entries' columns: their wire bytes were encoded here from valid columns, so they are read back unchecked. */
export function decodeEntries(entries: Iterable<HistoryEntry>): Column[] {
  const columns: Column[] = [];
  for (const entry of entries) columns.push(decodeOwnColumnMessage(entry.wire.toString('utf8')));
  return columns;
}

/** Every held column, decoded, oldest first. */
export function heldColumns(held: HeldColumns): Column[] {
  if (held.kind === 'columns') return decodeEntries(held.entries);
  const columns = held.rollups.map(rollupColumn);
  if (held.open) columns.push(held.open);
  return columns;
}

/**
 * The held columns as ranges of packed messages for joinPackedColumns: the columns' entries
 * decoded and packed `perPart` at a time (a few milliseconds of work each), or each chunk's run of
 * finished roll-ups as it is kept (no work) and then the open roll-up.
 */
export function* packedParts(held: HeldColumns, perPart: number): Generator<PackedRange> {
  const packed = (columns: readonly Column[]): PackedRange => ({ columns: packedOf(columns), from: 0, to: columns.length });
  if (held.kind === 'columns') {
    for (let from = 0; from < held.entries.length; from += perPart) yield packed(decodeEntries(held.entries.slice(from, from + perPart)));
    return;
  }
  for (let k = 0; k < held.rollups.length; ) {
    const { chunk, index } = held.rollups[k]!;
    let to = index + 1;
    for (k++; k < held.rollups.length && held.rollups[k]!.chunk === chunk; k++) to = held.rollups[k]!.index + 1;
    yield { columns: chunk.packed(), from: index, to };
  }
  if (held.open) yield packed([held.open]);
}

/** The held columns as one packed answer at `stepMs`, with only the series `keep` takes (all when omitted). */
export function packedAnswer(held: HeldColumns, stepMs: number, keep?: PackedSeriesFilter): Uint8Array<ArrayBuffer> {
  return joinPackedColumns([...packedParts(held, held.kind === 'columns' ? Math.max(1, held.entries.length) : 1)], stepMs, held.throughSeq, keep);
}

/**
 * The history: the columns themselves (the ring this class is) and, beside them, the roll-ups
 * of each level. record() keeps a column in both.
 */
export class History extends ColumnRing<HistoryEntry> {
  readonly levels: readonly RollupLevel[];

  constructor(capacity: number, levels: readonly LevelSpec[] = []) {
    super(capacity, (entry) => entry.wire.length);
    this.levels = levels.map((spec) => new RollupLevel(spec));
  }

  /** Encodes the column once, keeps it, and adds it into the roll-up of every level; returns its entry. */
  record(column: Column): HistoryEntry {
    const entry: HistoryEntry = { seq: column.seq, startMs: column.startMs, intervalMs: column.intervalMs, wire: encodeColumn(column) };
    this.push(entry);
    for (const level of this.levels) level.add(column);
    return entry;
  }

  /** The steps this history can answer at, finest first: the column interval, then each level. */
  steps(intervalMs: number): number[] {
    return [intervalMs, ...this.levels.map((level) => level.stepMs)];
  }

  /**
   * The step to answer a span at: the coarsest held that is at most the step asked for, or (none
   * asked for) at most the time of one of `pixels` columns across the span; the column interval
   * when neither is given.
   */
  answerStep(intervalMs: number, spanMs: number, stepMs: number | null, pixels: number | null): number {
    const steps = this.steps(intervalMs);
    if (stepMs !== null) return stepFor(steps, stepMs);
    if (pixels !== null) return stepFor(steps, spanMs / pixels);
    return intervalMs;
  }

  level(stepMs: number): RollupLevel | null {
    return this.levels.find((level) => level.stepMs === stepMs) ?? null;
  }

  /** How many columns (or roll-ups) at this step overlap [fromMs, toMs). */
  countAt(stepMs: number, fromMs: number, toMs: number): number {
    return this.level(stepMs)?.count(fromMs, toMs) ?? this.countInTimeRange(fromMs, toMs);
  }

  /** The columns, or the roll-ups of a level step, overlapping [fromMs, toMs), oldest first. */
  columnsAt(stepMs: number, fromMs: number, toMs: number): Column[] {
    return heldColumns(this.heldAt(stepMs, fromMs, toMs));
  }

  /** What columnsAt decodes, not decoded yet, and the newest seq now. */
  heldAt(stepMs: number, fromMs: number, toMs: number): HeldColumns {
    const held = this.level(stepMs)?.held(fromMs, toMs) ?? { kind: 'columns', entries: [...this.inTimeRange(fromMs, toMs)] };
    return { ...held, throughSeq: this.newestSeq };
  }

  /** columnsAt's columns as one packed answer through the newest seq, with only the series `keep` takes (all when omitted). */
  packedAt(stepMs: number, fromMs: number, toMs: number, keep?: PackedSeriesFilter): Uint8Array<ArrayBuffer> {
    return packedAnswer(this.heldAt(stepMs, fromMs, toMs), stepMs, keep);
  }

  /** Bytes held by the columns (their wire messages) and every level's finished roll-ups (packed). */
  get totalBytes(): number {
    return this.levels.reduce((sum, level) => sum + level.bytes, this.bytes);
  }
}
