/**
 * Finite sources: a recording played back (--replay), and the engine an import shares with it.
 *
 * Columns keep their original seq and timestamps; only the moment each is handed to the sink
 * is chosen here. At speed s, a column is delivered (its end - the first column's end) / s after
 * start, the first at once: speed 1 is the pace it was recorded at, 60 turns an hour into a
 * minute, 0 delivers everything at once (in batches, so a server stays responsive) for browsing.
 * Exemplars go out in the order they were recorded, as soon as the column before them has: live,
 * they arrive while the next column fills, before it is final. Missing seqs (a hand-edited file) are filled with empty columns, so the
 * sink sees every seq, as from a live source. After the last event, sink.finished().
 */
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Column, DeviceInfo, SourceKind } from '../../shared/column.ts';
import { UserError } from '../base/errors.ts';
import { plural } from '../base/words.ts';
import { RecordingError, RecordingReader, type RecordedEvent } from '../formats/recording.ts';
import { readLines } from './lines.ts';
import type { ColumnSink, Source } from './source.ts';

/** At most this many columns in one turn of the event loop at --speed 0. */
const BATCH_COLUMNS = 1000;

/** A source with a fixed end, from data made elsewhere: it also knows the host it came from. */
export interface FiniteSource extends Source {
  readonly host: string;
  /** start and end (unix ms) of the columns it holds, or null when it holds none */
  readonly span: { readonly fromMs: number; readonly toMs: number } | null;
  /** every column it will deliver, in order (empty columns for missing seqs included) */
  columns(): Column[];
}

export interface PlaybackOptions {
  readonly kind: SourceKind;
  readonly intervalMs: number;
  readonly host: string;
  /** the whole device table, handed to the sink once at start */
  readonly devices: readonly DeviceInfo[];
  readonly events: readonly RecordedEvent[];
  /** 0: everything at once; otherwise the pace relative to the original */
  readonly speed: number;
  /** a monotonic clock in ms; tests may pass their own */
  readonly now?: () => number;
}

/** The events with every missing seq between two columns filled by an empty column. */
function withoutGaps(events: readonly RecordedEvent[]): RecordedEvent[] {
  const filled: RecordedEvent[] = [];
  let previous: Column | null = null;
  for (const event of events) {
    if (event.type === 'column') {
      const { seq, intervalMs } = event.column;
      if (previous) for (let s = previous.seq + 1; s < seq; s++) filled.push({ type: 'column', column: { seq: s, startMs: s * intervalMs, intervalMs, series: [] } });
      previous = event.column;
    }
    filled.push(event);
  }
  return filled;
}

export function createPlayback(options: PlaybackOptions): FiniteSource {
  if (!(options.speed >= 0) || !Number.isFinite(options.speed)) throw new RangeError(`speed must be a finite number >= 0, got ${options.speed}`);
  const events = withoutGaps(options.events);
  const columns = events.flatMap((e) => (e.type === 'column' ? [e.column] : []));
  const first = columns[0];
  const last = columns[columns.length - 1];
  const now = options.now ?? (() => performance.now());
  let sink: ColumnSink | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let next = 0;
  let startedAt = 0;
  let stopped = false;

  const endOf = (column: Column): number => column.startMs + column.intervalMs;
  /** when (on the monotonic clock) a column is due */
  const dueAt = (column: Column): number => (options.speed === 0 ? -Infinity : startedAt + (endOf(column) - endOf(first!)) / options.speed);

  function pump(): void {
    timer = null;
    if (!sink || stopped) return;
    let delivered = 0;
    while (next < events.length) {
      const event = events[next]!;
      if (event.type === 'column') {
        if (delivered >= BATCH_COLUMNS || dueAt(event.column) > now()) break;
        sink.column(event.column);
        delivered++;
      } else if (event.type === 'exemplars') {
        sink.exemplars?.(event.exemplars);
      }
      // devices: the whole table went out at start
      next++;
    }
    if (next >= events.length) {
      sink.finished?.();
      return;
    }
    const upcoming = events[next]!;
    const wait = upcoming.type === 'column' ? dueAt(upcoming.column) - now() : 0;
    timer = setTimeout(pump, Math.max(0, Math.ceil(wait)));
  }

  return {
    kind: options.kind,
    intervalMs: options.intervalMs,
    host: options.host,
    span: first && last ? { fromMs: first.startMs, toMs: endOf(last) } : null,
    columns: () => [...columns],
    devices: () => options.devices,
    selfStats: () => null,
    async start(target) {
      if (sink) throw new Error(`the ${options.kind} source is already started`);
      sink = target;
      startedAt = now();
      sink.devices?.(options.devices);
      pump();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      sink = null;
    },
  };
}

/** How messages name an input: its path, or "stdin" for "-". */
export function inputName(path: string): string {
  return path === '-' ? 'stdin' : basename(path);
}

export interface ReplayOptions {
  readonly path: string;
  /** default 1: the recorded pace */
  readonly speed: number;
  /** refuse a recording damaged in the middle instead of replaying what comes before the damage */
  readonly strict?: boolean;
  /** notes about the file that are not errors (a cut-off last line, damage); default: stderr */
  readonly warn?: (line: string) => void;
}

/** Reads the recording (streaming, see lines.ts) and plays it back. */
export async function createReplaySource(options: ReplayOptions): Promise<FiniteSource> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(`bpfheat: ${line}\n`));
  const name = inputName(options.path);
  const reader = new RecordingReader(options.path === '-' ? 'stdin' : options.path);
  let recording;
  try {
    const read = await readLines(options.path, '--replay', (line, number) => reader.line(line, number));
    recording = reader.finish(read.endsWithNewline);
  } catch (error) {
    if (error instanceof RecordingError) throw new UserError(error.message);
    throw error;
  }
  if (recording.damaged) {
    const where = `${name} line ${recording.damaged.line}: ${recording.damaged.reason}: the recording is damaged there`;
    const before = plural(recording.columnCount, 'column');
    if (options.strict) throw new UserError(`${where}; --strict refuses it (without --strict the ${before} before it are replayed)`);
    warn(`note: ${where}; replaying the ${before} before it, nothing after it (--strict refuses such a file)`);
  }
  if (recording.truncatedLine !== null) {
    warn(`note: ${name} ends in an incomplete line ${recording.truncatedLine} (the recorder was stopped mid-write); replaying the ${plural(recording.columnCount, 'column')} before it`);
  }
  if (recording.columnCount === 0) warn(`note: ${name} holds no column: there is nothing to replay`);
  return createPlayback({
    kind: 'replay',
    intervalMs: recording.header.intervalMs,
    host: recording.header.host,
    devices: recording.devices,
    events: recording.events,
    speed: options.speed,
  });
}
