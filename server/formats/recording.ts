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

/**
 * Reads a recording. `name` is how messages call the file. Throws RecordingError for a file that
 * is not a recording, of another version, or damaged (naming the line); an incomplete last line
 * (the writer was killed mid-write) is dropped and reported in `truncatedLine`, not an error.
 */
export function parseRecording(content: string, name: string): Recording {
  if (content.length === 0) throw new RecordingError(`${name} is empty: it is not a bpfheat recording (make one with --record FILE)`);
  const lines = content.split('\n');
  // A file written to the end has a final "\n", so the last element is "": no line there.
  const lastComplete = content.endsWith('\n');
  if (lastComplete) lines.pop();

  let header: RecordingHeader;
  {
    let first: unknown;
    try {
      first = JSON.parse(lines[0]!);
    } catch {
      first = null;
    }
    if (lines.length === 1 && !lastComplete && lines[0]!.startsWith(`{"${RECORDING_MAGIC}"`)) {
      throw new RecordingError(`${name} was cut off while its header was written: it holds no column to replay`);
    }
    if (!isRecord(first) || !(RECORDING_MAGIC in first)) {
      throw new RecordingError(
        `${name} is not a bpfheat recording (its first line is not a {"${RECORDING_MAGIC}":…} header): record one with --record FILE, or read "time latency" text or CSV with --import FILE`,
      );
    }
    const version = first[RECORDING_MAGIC];
    if (version !== RECORDING_VERSION) {
      throw new RecordingError(`${name} is a recording of format version ${JSON.stringify(version)}, and this bpfheat reads version ${RECORDING_VERSION}: use the bpfheat that wrote it, or a newer one`);
    }
    try {
      header = decodeHeader(first);
    } catch (error) {
      if (error instanceof LineError) throw new RecordingError(`${name} line 1 (the header): ${error.message}: the recording is damaged`);
      throw error;
    }
  }

  const events: RecordedEvent[] = [];
  const known = new Map<number, string>(header.devices.map((d) => [d.id, d.name]));
  let previousSeq: number | null = null;
  let columnCount = 0;
  let complete = false;
  let truncatedLine: number | null = null;
  let skippedLines = 0;
  let batch: Exemplar[] | null = null;
  let batchEvent: RecordedEvent | null = null;

  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const number = i + 1;
    const isLast = i === lines.length - 1;
    if (line === '' && !isLast) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // The writer appends whole lines; only the last can be cut short, by a kill mid-write.
      if (isLast && !lastComplete) {
        truncatedLine = number;
        break;
      }
      throw new RecordingError(`${name} line ${number} is not a JSON object: the recording is damaged (only its last line may be incomplete)`);
    }
    try {
      if (!isRecord(value)) fail('it is not a JSON object');
      if (complete) fail('it follows the end line');
      if (RECORDING_MAGIC in value) fail('a second recording starts here (two recordings joined into one file?); replay each on its own');
      switch (value.type) {
        case 'column': {
          const column = decodeColumn(value);
          if (column.intervalMs !== header.intervalMs) fail(`the column is ${column.intervalMs} ms wide but the recording's interval is ${header.intervalMs} ms`);
          if (previousSeq !== null && column.seq <= previousSeq) fail(`column seq ${column.seq} does not follow seq ${previousSeq}: columns must ascend`);
          // A device the table never named still counts; it is shown by its number.
          for (const s of column.series) if (!known.has(s.device)) known.set(s.device, `dev${s.device}`);
          previousSeq = column.seq;
          columnCount++;
          events.push({ type: 'column', column });
          break;
        }
        case 'exemplar': {
          const exemplar = decodeExemplar(value);
          // Consecutive exemplars travel as one batch, as the source delivered them.
          if (batch && events[events.length - 1] === batchEvent) batch.push(exemplar);
          else {
            batch = [exemplar];
            batchEvent = { type: 'exemplars', exemplars: batch };
            events.push(batchEvent);
          }
          break;
        }
        case 'devices': {
          const devices = decodeDevices(value.devices);
          mergeDevices(known, devices);
          events.push({ type: 'devices', devices });
          break;
        }
        case 'end':
          complete = true;
          break;
        default:
          if (typeof value.type !== 'string') fail('it has no "type"');
          skippedLines++; // a line type of a later version: not ours to read
      }
    } catch (error) {
      if (error instanceof LineError) {
        if (isLast && !lastComplete) {
          // cut short exactly where it still parses: treat as the line in flight
          truncatedLine = number;
          break;
        }
        throw new RecordingError(`${name} line ${number}: ${error.message}: the recording is damaged`);
      }
      throw error;
    }
  }

  const devices = [...known].map(([id, deviceName]) => ({ id, name: deviceName })).sort((a, b) => a.id - b.id);
  return { header, events, devices, columnCount, complete, truncatedLine, skippedLines };
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
