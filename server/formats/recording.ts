/**
 * The recording format: what `--record FILE` writes and `--replay FILE` reads. Version 1.
 *
 * A recording is UTF-8 text, one JSON object per line ("\n"), appended as the session runs:
 *
 *   line 1   the header  {"bpfheat-recording":1,"interval_ms":1000,"source":"bpf","host":"db1",
 *                          "started_ms":1795613235000,"scheme":{"name":"otel-exponential","scale":3,"slots":323},
 *                          "devices":[{"id":0,"name":"nvme0n1"}]}
 *   then, in the order the source produced them:
 *            a column    {"type":"column","seq":S,"start_ms":..,"interval_ms":..,"series":[[metric,device,op,[slot,count,...]],...]}
 *                        (+ "dropped_exemplars":[[device,op,count],...] when the kernel dropped some)
 *                        (+ "unseen":[[device,op,count],...] when the kernel counted completions no program saw)
 *            an exemplar {"type":"exemplar","time_ms":..,"latency_ns":..,"bytes":..,"device":..,"op":"read",
 *                          "sector":..,"pid":..,"comm":".."}
 *            devices     {"type":"devices","devices":[{"id":0,"name":"nvme0n1"},...]}  (the whole table, when it grew)
 *   last     the end     {"type":"end","stop_ms":..,"columns":N}  (only after a clean stop)
 *
 * Metric and op are names ("latency", "read"), not indexes, so a recording does not depend on the
 * order of any table in the code. This format is deliberately separate from the wire protocol
 * (shared/protocol.ts): the protocol may change between builds of client and server, a file on
 * disk must not. A reader skips line types it does not know, so later versions can add types
 * without breaking older readers; a change to an existing line raises the version.
 *
 * Crash safety: every line is written with one write(2) on a descriptor opened O_APPEND, and
 * written before the column goes anywhere else. A `kill -9` can at worst leave the line in flight
 * cut short; the loader drops an incomplete last line (and says so) and keeps every line before it.
 */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { METRICS, OPS, SLOTS, type Op } from '../../shared/scheme.ts';
import { BUCKET_SCHEME } from '../../shared/protocol.ts';
import { columnWith, type Column, type DeviceInfo, type DeviceOpCount, type ExemplarDrops, type Series, type SourceKind } from '../../shared/column.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import { UserError } from '../base/errors.ts';

export const RECORDING_VERSION = 1;
/** The key of the header line; its value is the format version. */
export const RECORDING_MAGIC = 'bpfheat-recording';

export interface RecordingHeader {
  readonly version: number;
  readonly intervalMs: number;
  /** the source that produced the columns: bpf, synthetic, or (recorded again) replay, import */
  readonly source: SourceKind;
  readonly host: string;
  /** when the recording started, unix ms */
  readonly startedMs: number;
  /** the device table when the recording started */
  readonly devices: readonly DeviceInfo[];
}

/** What a recording holds, in the order it was produced. */
export type RecordedEvent =
  | { readonly type: 'column'; readonly column: Column }
  | { readonly type: 'exemplars'; readonly exemplars: readonly Exemplar[] }
  | { readonly type: 'devices'; readonly devices: readonly DeviceInfo[] };

export interface Recording {
  readonly header: RecordingHeader;
  readonly events: readonly RecordedEvent[];
  /** the device table at the end: every device any line names */
  readonly devices: readonly DeviceInfo[];
  readonly columnCount: number;
  /** the end line was there: the session stopped cleanly */
  readonly complete: boolean;
  /** the number of an incomplete last line that was dropped (the writer was killed), or null */
  readonly truncatedLine: number | null;
  /** the first damaged line in the middle of the file: nothing from it on was read */
  readonly damaged: Damage | null;
  /** lines of a type this version does not know, skipped */
  readonly skippedLines: number;
}

// ---------------------------------------------------------------- writing (pure: object -> line)

const SOURCE_KINDS: readonly SourceKind[] = ['bpf', 'synthetic', 'replay', 'import'];

export function headerLine(header: Omit<RecordingHeader, 'version'>): string {
  return `${JSON.stringify({
    [RECORDING_MAGIC]: RECORDING_VERSION,
    interval_ms: header.intervalMs,
    source: header.source,
    host: header.host,
    started_ms: header.startedMs,
    scheme: BUCKET_SCHEME,
    devices: header.devices.map((d) => ({ id: d.id, name: d.name })),
  })}\n`;
}

export function columnLine(column: Column): string {
  const series = column.series.map((s) => {
    const pairs = new Array<number>(s.slots.length * 2);
    for (let k = 0; k < s.slots.length; k++) {
      pairs[2 * k] = s.slots[k]!;
      pairs[2 * k + 1] = s.counts[k]!;
    }
    return [s.metric, s.device, s.op, pairs];
  });
  const line: Record<string, unknown> = { type: 'column', seq: column.seq, start_ms: column.startMs, interval_ms: column.intervalMs, series };
  if (column.droppedExemplars && column.droppedExemplars.length > 0) {
    line.dropped_exemplars = column.droppedExemplars.map((d) => (d.slot === undefined ? [d.device, d.op, d.count] : [d.device, d.op, d.count, d.slot]));
  }
  if (column.unseen && column.unseen.length > 0) line.unseen = column.unseen.map((u) => [u.device, u.op, u.count]);
  return `${JSON.stringify(line)}\n`;
}

export function exemplarLine(e: Exemplar): string {
  return `${JSON.stringify({
    type: 'exemplar',
    time_ms: e.timeMs,
    latency_ns: e.latencyNs,
    bytes: e.bytes,
    device: e.device,
    op: e.op,
    sector: e.sector,
    pid: e.pid,
    comm: e.comm,
  })}\n`;
}

export function devicesLine(devices: readonly DeviceInfo[]): string {
  return `${JSON.stringify({ type: 'devices', devices: devices.map((d) => ({ id: d.id, name: d.name })) })}\n`;
}

export function endLine(stopMs: number, columns: number): string {
  return `${JSON.stringify({ type: 'end', stop_ms: stopMs, columns })}\n`;
}

// ---------------------------------------------------------------- reading (pure: text -> Recording)

/** A recording that cannot be read: the message names the file's problem and, where it is one line's, the line. */
export class RecordingError extends Error {
  override readonly name = 'RecordingError';
}

class LineError extends Error {}

function fail(what: string): never {
  throw new LineError(what);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integer(value: unknown, field: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) fail(`"${field}" must be a whole number >= ${min}`);
  return value;
}

function slotOf(value: unknown, field: string): number {
  const slot = integer(value, field);
  if (slot >= SLOTS) fail(`"${field}" must be a slot, 0..${SLOTS - 1}`);
  return slot;
}

function finite(value: unknown, field: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) fail(`"${field}" must be a number >= ${min}`);
  return value;
}

function text(value: unknown, field: string, maxLength = 256): string {
  if (typeof value !== 'string' || value.length > maxLength) fail(`"${field}" must be a string of at most ${maxLength} characters`);
  return value;
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) fail(`"${field}" must be an array`);
  return value;
}

function opOf(value: unknown, field: string): Op {
  return OPS.find((o) => o === value) ?? fail(`"${field}" must be one of ${OPS.join(', ')}`);
}

function decodeDevices(value: unknown): DeviceInfo[] {
  const seen = new Set<number>();
  return list(value, 'devices').map((d, k) => {
    if (!isRecord(d)) fail(`devices[${k}] must be an object`);
    const id = integer(d.id, `devices[${k}].id`);
    if (seen.has(id)) fail(`devices[${k}].id ${id} appears twice`);
    seen.add(id);
    return { id, name: text(d.name, `devices[${k}].name`) };
  });
}

function decodeHeader(value: Record<string, unknown>): RecordingHeader {
  const scheme = value.scheme;
  if (!isRecord(scheme) || scheme.name !== BUCKET_SCHEME.name || scheme.scale !== BUCKET_SCHEME.scale || scheme.slots !== SLOTS) {
    fail(`its buckets are not the ${BUCKET_SCHEME.name} scale-${BUCKET_SCHEME.scale} scheme with ${SLOTS} slots that this bpfheat uses`);
  }
  return {
    version: RECORDING_VERSION,
    intervalMs: integer(value.interval_ms, 'interval_ms', 1),
    source: SOURCE_KINDS.find((s) => s === value.source) ?? fail(`"source" must be one of ${SOURCE_KINDS.join(', ')}`),
    host: text(value.host, 'host'),
    startedMs: integer(value.started_ms, 'started_ms'),
    devices: decodeDevices(value.devices),
  };
}

function decodeSeries(value: unknown, field: string): Series {
  const s = list(value, field);
  if (s.length !== 4) fail(`${field} must be [metric, device, op, [slot, count, ...]]`);
  const metric = METRICS.find((m) => m === s[0]) ?? fail(`${field} metric must be one of ${METRICS.join(', ')}`);
  const device = integer(s[1], `${field} device`);
  const op = opOf(s[2], `${field} op`);
  const pairs = list(s[3], `${field} slots`);
  if (pairs.length === 0 || pairs.length % 2 !== 0) fail(`${field} must hold slot, count pairs`);
  const slots: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < pairs.length; k += 2) {
    const slot = integer(pairs[k], `${field} slot`);
    if (slot >= SLOTS || (slots.length > 0 && slot <= slots[slots.length - 1]!)) fail(`${field} slots must ascend within 0..${SLOTS - 1}`);
    slots.push(slot);
    counts.push(integer(pairs[k + 1], `${field} count`, 1));
  }
  return { metric, device, op, slots, counts };
}

function decodeColumn(value: Record<string, unknown>): Column {
  const seq = integer(value.seq, 'seq');
  const startMs = integer(value.start_ms, 'start_ms');
  const intervalMs = integer(value.interval_ms, 'interval_ms', 1);
  if (seq * intervalMs !== startMs) fail(`"seq" ${seq} is not start_ms / interval_ms (${startMs} / ${intervalMs})`);
  const series = list(value.series, 'series').map((s, k) => decodeSeries(s, `series[${k}]`));
  const droppedExemplars = value.dropped_exemplars === undefined ? [] : list(value.dropped_exemplars, 'dropped_exemplars').map((d, k): ExemplarDrops => {
    const drop = list(d, `dropped_exemplars[${k}]`);
    if (drop.length !== 3 && drop.length !== 4) fail(`dropped_exemplars[${k}] must be [device, op, count] or [device, op, count, latency slot]`);
    const drops = deviceOpCount(drop, 'dropped');
    return drop.length === 3 ? drops : { ...drops, slot: slotOf(drop[3], 'dropped slot') };
  });
  const unseen = value.unseen === undefined ? [] : list(value.unseen, 'unseen').map((u, k) => {
    const entry = list(u, `unseen[${k}]`);
    if (entry.length !== 3) fail(`unseen[${k}] must be [device, op, count]`);
    return deviceOpCount(entry, 'unseen');
  });
  return columnWith({ seq, startMs, intervalMs, series }, droppedExemplars, unseen);
}

function deviceOpCount(entry: unknown[], what: string): DeviceOpCount {
  return { device: integer(entry[0], `${what} device`), op: opOf(entry[1], `${what} op`), count: integer(entry[2], `${what} count`, 1) };
}

function decodeExemplar(value: Record<string, unknown>): Exemplar {
  return {
    timeMs: finite(value.time_ms, 'time_ms'),
    latencyNs: integer(value.latency_ns, 'latency_ns'),
    bytes: integer(value.bytes, 'bytes'),
    device: integer(value.device, 'device'),
    op: opOf(value.op, 'op'),
    sector: value.sector === null ? null : integer(value.sector, 'sector'),
    pid: integer(value.pid, 'pid'),
    comm: text(value.comm, 'comm', 64),
  };
}

/** Merges a devices table into the known one; a device id may not change its name. */
function mergeDevices(known: Map<number, string>, devices: readonly DeviceInfo[]): void {
  for (const d of devices) {
    const name = known.get(d.id);
    if (name !== undefined && name !== d.name) fail(`device ${d.id} was "${name}" and is now "${d.name}"`);
    known.set(d.id, d.name);
  }
}

/** Why the lines after `line` were not read: the first line that is not a whole, valid line of a recording. */
export interface Damage {
  readonly line: number;
  readonly reason: string;
}

/**
 * Reads a recording one line at a time, so a recording of any length costs only what it holds.
 * `name` is how messages call the file. Throws RecordingError at once for a file that is not a
 * recording or of another version. At the first line that is not valid it stops reading events:
 * finish() says whether that was the writer's last line cut short (a kill mid-write: reported in
 * `truncatedLine`) or damage in the middle (reported in `damaged`); both keep every event before.
 */
export class RecordingReader {
  private header: RecordingHeader | null = null;
  /** line 1 when it is a header cut short, until we know whether anything follows it */
  private cutHeader = false;
  private readonly events: RecordedEvent[] = [];
  private known = new Map<number, string>();
  private previousSeq: number | null = null;
  private columnCount = 0;
  private complete = false;
  private skippedLines = 0;
  private batch: { readonly event: RecordedEvent; readonly exemplars: Exemplar[] } | null = null;
  private damage: Damage | null = null;
  /** lines read after the damage, unread */
  private linesAfterDamage = 0;

  constructor(private readonly name: string) {}

  /** One line (without its line end) and its 1-based number. */
  line(text: string, number: number): void {
    if (this.damage) {
      this.linesAfterDamage++;
      return;
    }
    if (number === 1) return this.headerLine(text);
    if (this.cutHeader) throw new RecordingError(`${this.name} line 1 (the header) is not a JSON object: the recording is damaged`);
    if (text === '') return;
    try {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        fail('it is not a JSON object');
      }
      this.event(value);
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      this.damage = { line: number, reason: error.message };
    }
  }

  private headerLine(text: string): void {
    let first: unknown;
    try {
      first = JSON.parse(text);
    } catch {
      first = null;
    }
    if (first === null && text.startsWith(`{"${RECORDING_MAGIC}"`)) {
      this.cutHeader = true;
      return;
    }
    if (!isRecord(first) || !(RECORDING_MAGIC in first)) {
      throw new RecordingError(
        `${this.name} is not a bpfheat recording (its first line is not a {"${RECORDING_MAGIC}":…} header): record one with --record FILE, or read "time latency" text or CSV with --import FILE`,
      );
    }
    const version = first[RECORDING_MAGIC];
    if (version !== RECORDING_VERSION) {
      throw new RecordingError(`${this.name} is a recording of format version ${JSON.stringify(version)}, and this bpfheat reads version ${RECORDING_VERSION}: use the bpfheat that wrote it, or a newer one`);
    }
    try {
      this.header = decodeHeader(first);
    } catch (error) {
      if (error instanceof LineError) throw new RecordingError(`${this.name} line 1 (the header): ${error.message}: the recording is damaged`);
      throw error;
    }
    this.known = new Map(this.header.devices.map((d) => [d.id, d.name]));
  }

  private event(value: unknown): void {
    const header = this.header!;
    if (!isRecord(value)) fail('it is not a JSON object');
    if (this.complete) fail('it follows the end line');
    if (RECORDING_MAGIC in value) fail('a second recording starts here (two recordings joined into one file?); replay each on its own');
    switch (value.type) {
      case 'column': {
        const column = decodeColumn(value);
        if (column.intervalMs !== header.intervalMs) fail(`the column is ${column.intervalMs} ms wide but the recording's interval is ${header.intervalMs} ms`);
        if (this.previousSeq !== null && column.seq <= this.previousSeq) fail(`column seq ${column.seq} does not follow seq ${this.previousSeq}: columns must ascend`);
        // A device the table never named still counts; it is shown by its number.
        for (const s of column.series) if (!this.known.has(s.device)) this.known.set(s.device, `dev${s.device}`);
        this.previousSeq = column.seq;
        this.columnCount++;
        this.events.push({ type: 'column', column });
        break;
      }
      case 'exemplar': {
        const exemplar = decodeExemplar(value);
        // Consecutive exemplars travel as one batch, as the source delivered them.
        if (this.batch && this.events[this.events.length - 1] === this.batch.event) this.batch.exemplars.push(exemplar);
        else {
          const exemplars = [exemplar];
          this.batch = { event: { type: 'exemplars', exemplars }, exemplars };
          this.events.push(this.batch.event);
        }
        break;
      }
      case 'devices': {
        const devices = decodeDevices(value.devices);
        mergeDevices(this.known, devices);
        this.events.push({ type: 'devices', devices });
        break;
      }
      case 'end':
        this.complete = true;
        break;
      default:
        if (typeof value.type !== 'string') fail('it has no "type"');
        this.skippedLines++; // a line type of a later version: not ours to read
    }
  }

  /** The recording, once every line was read; `endsWithNewline`: the file's last line was whole. */
  finish(endsWithNewline: boolean): Recording {
    if (this.cutHeader) throw new RecordingError(`${this.name} was cut off while its header was written: it holds no column to replay`);
    const header = this.header;
    if (!header) throw new RecordingError(`${this.name} is empty: it is not a bpfheat recording (make one with --record FILE)`);
    // The writer appends whole lines; only the last can be cut short, by a kill mid-write.
    const cutShort = this.damage !== null && this.linesAfterDamage === 0 && !endsWithNewline;
    const devices = [...this.known].map(([id, deviceName]) => ({ id, name: deviceName })).sort((a, b) => a.id - b.id);
    return {
      header,
      events: this.events,
      devices,
      columnCount: this.columnCount,
      complete: this.complete,
      truncatedLine: cutShort ? this.damage!.line : null,
      damaged: cutShort ? null : this.damage,
      skippedLines: this.skippedLines,
    };
  }
}

/** Reads a recording held in a string (see RecordingReader). */
export function parseRecording(content: string, name: string): Recording {
  const reader = new RecordingReader(name);
  const lines = content === '' ? [] : content.split('\n');
  // A file written to the end has a final "\n", so the last element is "": no line there.
  if (content.endsWith('\n')) lines.pop();
  lines.forEach((line, i) => reader.line(line, i + 1));
  return reader.finish(content.endsWith('\n'));
}

// ---------------------------------------------------------------- the recorder (I/O)

/** Appends lines to a file, each with one write(2) on an O_APPEND descriptor. */
export class RecordingWriter {
  private fd: number | null;

  /** Opens `path` for appending; refuses a file that already holds something (it is not overwritten or extended). */
  constructor(readonly path: string) {
    let fd: number;
    try {
      fd = openSync(path, 'a', 0o644);
    } catch (error) {
      throw new UserError(`cannot write the recording ${path}: ${describeFsError(error)}`);
    }
    if (fstatSync(fd).size > 0) {
      closeSync(fd);
      throw new UserError(`${path} already exists and is not empty: --record never overwrites or extends a file; choose a new name or remove it`);
    }
    this.fd = fd;
  }

  /** Writes one or more whole lines with one system call (looping only if the kernel takes part of them). */
  write(lines: string): void {
    if (this.fd === null) return;
    const buffer = Buffer.from(lines, 'utf8');
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(this.fd, buffer, offset, buffer.length - offset);
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}

export function describeFsError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
