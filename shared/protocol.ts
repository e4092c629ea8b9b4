/**
 * The wire protocol between server and client, versioned. One encoder and one decoder per
 * direction; both sides import them, so a message shape is defined here and nowhere else.
 * Every decoder validates what it reads and throws ProtocolError naming the problem.
 *
 * Columns travel in a compact form (a column is ~0.5 KiB): {"type":"column","c":[seq,startMs,intervalMs,[[metric,device,op,[slot,count,...]],...]]}
 * with metric and op as indexes into METRICS and OPS.
 */
import { METRICS, OPS, SLOTS, type Metric, type Op } from './scheme.ts';
import type { Column, DeviceInfo, Series, SourceKind } from './column.ts';

export const PROTOCOL_VERSION = 1;
/** Largest client message the server reads; anything longer is refused unread. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;

export interface BucketScheme {
  readonly name: 'otel-exponential';
  readonly scale: 3;
  readonly slots: number;
}

export const BUCKET_SCHEME: BucketScheme = { name: 'otel-exponential', scale: 3, slots: SLOTS };

export interface ProgramStats {
  readonly name: string;
  readonly runCount: number;
  readonly runTimeNs: number;
  readonly nsPerEvent: number;
  readonly eventsPerSecond: number;
}

/** What watching costs and what the tracer could not count (all counters since start). */
export interface SelfStats {
  readonly programs: readonly ProgramStats[];
  readonly missedStart: number;
  readonly startFailed: number;
  readonly ringOverrun: number;
  readonly deviceOverflow: number;
  readonly partial: number;
}

export interface Hello {
  readonly type: 'hello';
  readonly version: number;
  readonly source: SourceKind;
  readonly host: string;
  readonly scheme: BucketScheme;
  readonly devices: readonly DeviceInfo[];
  readonly ops: readonly Op[];
  readonly metrics: readonly Metric[];
  readonly intervalMs: number;
  /** oldest and newest seq the history holds, or null when it is empty */
  readonly oldestSeq: number | null;
  readonly newestSeq: number | null;
  readonly selfStats: SelfStats | null;
}

export type ServerMessage =
  | Hello
  | { readonly type: 'column'; readonly column: Column }
  /** the backfill is over: what follows is live */
  | { readonly type: 'live'; readonly lastSeq: number | null }
  /** columns fromSeq..toSeq (inclusive) were asked for but history no longer holds them */
  | { readonly type: 'gap'; readonly fromSeq: number; readonly toSeq: number }
  | { readonly type: 'devices'; readonly devices: readonly DeviceInfo[] }
  | { readonly type: 'stats'; readonly selfStats: SelfStats }
  /** the answer to a client's ping, with its id */
  | { readonly type: 'pong'; readonly id: number }
  | { readonly type: 'error'; readonly message: string };

export type ClientMessage =
  /** send every column after this seq (null: the default backfill), then live ones */
  | { readonly type: 'resume'; readonly after: number | null }
  | { readonly type: 'ping'; readonly id: number };

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

type CompactSeries = [number, number, number, number[]];
type CompactColumn = [number, number, number, CompactSeries[]];

function compactColumn(column: Column): CompactColumn {
  return [
    column.seq,
    column.startMs,
    column.intervalMs,
    column.series.map((s): CompactSeries => {
      const pairs = new Array<number>(s.slots.length * 2);
      for (let k = 0; k < s.slots.length; k++) {
        pairs[2 * k] = s.slots[k]!;
        pairs[2 * k + 1] = s.counts[k]!;
      }
      return [METRICS.indexOf(s.metric), s.device, OPS.indexOf(s.op), pairs];
    }),
  ];
}

export function encodeServerMessage(message: ServerMessage): string {
  if (message.type === 'column') return JSON.stringify({ type: 'column', c: compactColumn(message.column) });
  return JSON.stringify(message);
}

export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}

// ---- validation helpers: each names the field it rejects ----

function fail(what: string): never {
  throw new ProtocolError(what);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integer(value: unknown, field: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) fail(`${field} must be an integer >= ${min}`);
  return value;
}

function nullableInteger(value: unknown, field: string, min = 0): number | null {
  return value === null ? null : integer(value, field, min);
}

function finiteNumber(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(`${field} must be a finite number`);
  return value;
}

function string(value: unknown, field: string, maxLength = 256): string {
  if (typeof value !== 'string' || value.length > maxLength) fail(`${field} must be a string of at most ${maxLength} characters`);
  return value;
}

function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) fail(`${field} must be an array`);
  return value;
}

function parseJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('message is not valid JSON');
  }
  if (!isRecord(value)) fail('message must be a JSON object');
  if (typeof value.type !== 'string') fail('message has no "type"');
  return value;
}

function decodeSeries(value: unknown, field: string): Series {
  const s = array(value, field);
  if (s.length !== 4) fail(`${field} must be [metric, device, op, pairs]`);
  const metric = METRICS[integer(s[0], `${field}.metric`)] ?? fail(`${field}.metric is out of range`);
  const device = integer(s[1], `${field}.device`);
  const op = OPS[integer(s[2], `${field}.op`)] ?? fail(`${field}.op is out of range`);
  const pairs = array(s[3], `${field}.pairs`);
  if (pairs.length % 2 !== 0) fail(`${field}.pairs must hold slot, count pairs`);
  const slots: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < pairs.length; k += 2) {
    const slot = integer(pairs[k], `${field}.slot`);
    if (slot >= SLOTS || (slots.length > 0 && slot <= slots[slots.length - 1]!)) fail(`${field} slots must ascend within 0..${SLOTS - 1}`);
    slots.push(slot);
    counts.push(integer(pairs[k + 1], `${field}.count`, 1));
  }
  return { metric, device, op, slots, counts };
}

export function decodeColumn(value: unknown): Column {
  const c = array(value, 'column');
  if (c.length !== 4) fail('column must be [seq, startMs, intervalMs, series]');
  const seq = integer(c[0], 'column.seq');
  const startMs = integer(c[1], 'column.startMs');
  const intervalMs = integer(c[2], 'column.intervalMs', 1);
  const series = array(c[3], 'column.series').map((s, k) => decodeSeries(s, `column.series[${k}]`));
  return { seq, startMs, intervalMs, series };
}

function decodeDevices(value: unknown): DeviceInfo[] {
  return array(value, 'devices').map((d, k) => {
    if (!isRecord(d)) fail(`devices[${k}] must be an object`);
    return { id: integer(d.id, `devices[${k}].id`), name: string(d.name, `devices[${k}].name`) };
  });
}

function decodeSelfStats(value: unknown): SelfStats {
  if (!isRecord(value)) fail('selfStats must be an object');
  const programs = array(value.programs, 'selfStats.programs').map((p, k) => {
    if (!isRecord(p)) fail(`selfStats.programs[${k}] must be an object`);
    return {
      name: string(p.name, 'program.name'),
      runCount: finiteNumber(p.runCount, 'program.runCount'),
      runTimeNs: finiteNumber(p.runTimeNs, 'program.runTimeNs'),
      nsPerEvent: finiteNumber(p.nsPerEvent, 'program.nsPerEvent'),
      eventsPerSecond: finiteNumber(p.eventsPerSecond, 'program.eventsPerSecond'),
    };
  });
  return {
    programs,
    missedStart: finiteNumber(value.missedStart, 'selfStats.missedStart'),
    startFailed: finiteNumber(value.startFailed, 'selfStats.startFailed'),
    ringOverrun: finiteNumber(value.ringOverrun, 'selfStats.ringOverrun'),
    deviceOverflow: finiteNumber(value.deviceOverflow, 'selfStats.deviceOverflow'),
    partial: finiteNumber(value.partial, 'selfStats.partial'),
  };
}

const SOURCES: readonly SourceKind[] = ['bpf', 'synthetic', 'replay', 'import'];

export function decodeServerMessage(text: string): ServerMessage {
  const m = parseJson(text);
  switch (m.type) {
    case 'hello': {
      const version = integer(m.version, 'version');
      if (version !== PROTOCOL_VERSION) fail(`protocol version ${version} is not ${PROTOCOL_VERSION}: reload the page to get a matching client`);
      const source = SOURCES.find((s) => s === m.source) ?? fail('source is not a known source kind');
      if (!isRecord(m.scheme) || m.scheme.name !== BUCKET_SCHEME.name || m.scheme.scale !== BUCKET_SCHEME.scale || m.scheme.slots !== SLOTS) {
        fail('scheme is not the otel-exponential scale-3 scheme this client understands');
      }
      return {
        type: 'hello',
        version,
        source,
        host: string(m.host, 'host'),
        scheme: BUCKET_SCHEME,
        devices: decodeDevices(m.devices),
        ops: OPS,
        metrics: METRICS,
        intervalMs: integer(m.intervalMs, 'intervalMs', 1),
        oldestSeq: nullableInteger(m.oldestSeq, 'oldestSeq'),
        newestSeq: nullableInteger(m.newestSeq, 'newestSeq'),
        selfStats: m.selfStats === null ? null : decodeSelfStats(m.selfStats),
      };
    }
    case 'column':
      return { type: 'column', column: decodeColumn(m.c) };
    case 'live':
      return { type: 'live', lastSeq: nullableInteger(m.lastSeq, 'lastSeq') };
    case 'gap':
      return { type: 'gap', fromSeq: integer(m.fromSeq, 'fromSeq'), toSeq: integer(m.toSeq, 'toSeq') };
    case 'devices':
      return { type: 'devices', devices: decodeDevices(m.devices) };
    case 'stats':
      return { type: 'stats', selfStats: decodeSelfStats(m.selfStats) };
    case 'pong':
      return { type: 'pong', id: integer(m.id, 'id') };
    case 'error':
      return { type: 'error', message: string(m.message, 'message', 1024) };
    default:
      fail(`unknown message type ${JSON.stringify(String(m.type).slice(0, 40))}`);
  }
}

export function decodeClientMessage(text: string): ClientMessage {
  if (text.length > MAX_CLIENT_MESSAGE_BYTES) fail(`message is longer than ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
  const m = parseJson(text);
  switch (m.type) {
    case 'resume':
      return { type: 'resume', after: nullableInteger(m.after, 'after') };
    case 'ping':
      return { type: 'ping', id: integer(m.id, 'id') };
    default:
      fail(`unknown message type ${JSON.stringify(String(m.type).slice(0, 40))}: expected "resume" or "ping"`);
  }
}
