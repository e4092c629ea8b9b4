/**
 * The wire protocol between server and client, versioned. One encoder and one decoder per
 * direction; both sides import them, so a message shape is defined here and nowhere else.
 * Every decoder validates what it reads and throws ProtocolError naming the problem.
 *
 * Columns travel in a compact form (a column is ~0.5 KiB): {"type":"column","c":[seq,startMs,intervalMs,[[metric,device,op,[slot,count,...]],...]]}
 * with metric and op as indexes into METRICS and OPS.
 */
import { METRICS, OPS, SLOTS, type Metric, type Op } from './scheme.ts';
import type { Column, DeviceInfo, ExemplarDrops, Series, SourceKind } from './column.ts';
import type { Exemplar } from './exemplar.ts';

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
  /** runs the kernel skipped because the program was already running on that CPU (an interrupt nested in it) */
  readonly recursionMisses: number;
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
  /** how the source picks exemplars, when it captures them live (the BPF tracer); else null */
  readonly exemplarCapture: ExemplarCapture | null;
}

export interface ExemplarCapture {
  /** fixed threshold in ns, or null when it follows the recent p99 */
  readonly thresholdNs: number | null;
  /** the kernel sends at most this many per second of each latency bucket, so the sparse slow buckets keep all theirs; the rest are counted as dropped */
  readonly perBucketPerSecond: number;
}

/** The part of time × latency (and devices, ops) a client wants exemplars of. */
export interface ExemplarRegion {
  readonly fromMs: number;
  /** null: up to now and onward (a live view) */
  readonly toMs: number | null;
  readonly latMinNs: number;
  readonly latMaxNs: number;
  readonly devices: readonly number[] | null;
  readonly ops: readonly Op[] | null;
}

/** Most exemplars one `exemplars` message carries. */
export const MAX_EXEMPLARS_PER_MESSAGE = 2000;

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
  /**
   * Exemplars inside the client's watched region: the stored ones when it starts watching
   * (replace: true, with how many matched in all), then live ones as they come (replace: false).
   */
  | { readonly type: 'exemplars'; readonly replace: boolean; readonly matched: number; readonly exemplars: readonly Exemplar[] }
  /** the exemplar threshold changed (by a client's set-threshold) */
  | { readonly type: 'exemplar-capture'; readonly capture: ExemplarCapture }
  | { readonly type: 'error'; readonly message: string };

export type ClientMessage =
  /** send every column after this seq (null: the default backfill), then live ones */
  | { readonly type: 'resume'; readonly after: number | null }
  | { readonly type: 'ping'; readonly id: number }
  /** send exemplars of this region (null: none) */
  | { readonly type: 'watch'; readonly region: ExemplarRegion | null }
  /** change the live exemplar threshold (ns; null: adaptive) without reloading the tracer */
  | { readonly type: 'set-threshold'; readonly thresholdNs: number | null };

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

type CompactSeries = [number, number, number, number[]];
/** [device, op, count] or, with the latency slot of the drops, [device, op, count, slot] */
type CompactDrop = [number, number, number] | [number, number, number, number];
type CompactDrops = CompactDrop[];
type CompactColumn = [number, number, number, CompactSeries[]] | [number, number, number, CompactSeries[], CompactDrops];
type CompactExemplar = [number, number, number, number, number, number | null, number, string];

function compactColumn(column: Column): CompactColumn {
  const series = column.series.map((s): CompactSeries => {
    const pairs = new Array<number>(s.slots.length * 2);
    for (let k = 0; k < s.slots.length; k++) {
      pairs[2 * k] = s.slots[k]!;
      pairs[2 * k + 1] = s.counts[k]!;
    }
    return [METRICS.indexOf(s.metric), s.device, OPS.indexOf(s.op), pairs];
  });
  const head = [column.seq, column.startMs, column.intervalMs, series] as const;
  const drops = column.droppedExemplars;
  return drops && drops.length > 0 ? [...head, drops.map((d): CompactDrop => (d.slot === undefined ? [d.device, OPS.indexOf(d.op), d.count] : [d.device, OPS.indexOf(d.op), d.count, d.slot]))] : [...head];
}

function compactExemplar(e: Exemplar): CompactExemplar {
  return [e.timeMs, e.latencyNs, e.bytes, e.device, OPS.indexOf(e.op), e.sector, e.pid, e.comm];
}

export function encodeServerMessage(message: ServerMessage): string {
  if (message.type === 'column') return JSON.stringify({ type: 'column', c: compactColumn(message.column) });
  if (message.type === 'exemplars') {
    return JSON.stringify({ type: 'exemplars', replace: message.replace, matched: message.matched, e: message.exemplars.map(compactExemplar) });
  }
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

function slotNumber(value: unknown, field: string): number {
  const slot = integer(value, field);
  if (slot >= SLOTS) fail(`${field} must be a slot, 0..${SLOTS - 1}`);
  return slot;
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
  if (c.length !== 4 && c.length !== 5) fail('column must be [seq, startMs, intervalMs, series, drops?]');
  const seq = integer(c[0], 'column.seq');
  const startMs = integer(c[1], 'column.startMs');
  const intervalMs = integer(c[2], 'column.intervalMs', 1);
  const series = array(c[3], 'column.series').map((s, k) => decodeSeries(s, `column.series[${k}]`));
  if (c.length === 4) return { seq, startMs, intervalMs, series };
  const droppedExemplars = array(c[4], 'column.drops').map((d, k): ExemplarDrops => {
    const drop = array(d, `column.drops[${k}]`);
    if (drop.length !== 3 && drop.length !== 4) fail(`column.drops[${k}] must be [device, op, count, slot?]`);
    const drops = {
      device: integer(drop[0], `column.drops[${k}].device`),
      op: OPS[integer(drop[1], `column.drops[${k}].op`)] ?? fail(`column.drops[${k}].op is out of range`),
      count: integer(drop[2], `column.drops[${k}].count`, 1),
    };
    return drop.length === 3 ? drops : { ...drops, slot: slotNumber(drop[3], `column.drops[${k}].slot`) };
  });
  return { seq, startMs, intervalMs, series, droppedExemplars };
}

function decodeExemplar(value: unknown, field: string): Exemplar {
  const e = array(value, field);
  if (e.length !== 8) fail(`${field} must be [timeMs, latencyNs, bytes, device, op, sector, pid, comm]`);
  return {
    timeMs: finiteNumber(e[0], `${field}.timeMs`),
    latencyNs: integer(e[1], `${field}.latencyNs`),
    bytes: integer(e[2], `${field}.bytes`),
    device: integer(e[3], `${field}.device`),
    op: OPS[integer(e[4], `${field}.op`)] ?? fail(`${field}.op is out of range`),
    sector: nullableInteger(e[5], `${field}.sector`),
    pid: integer(e[6], `${field}.pid`),
    comm: string(e[7], `${field}.comm`, 64),
  };
}

function nullableNumber(value: unknown, field: string): number | null {
  return value === null ? null : finiteNumber(value, field);
}

function decodeCapture(value: unknown): ExemplarCapture {
  if (!isRecord(value)) fail('exemplar capture must be an object');
  return { thresholdNs: nullableInteger(value.thresholdNs, 'thresholdNs'), perBucketPerSecond: integer(value.perBucketPerSecond, 'perBucketPerSecond') };
}

function decodeRegion(value: unknown): ExemplarRegion | null {
  if (value === null) return null;
  if (!isRecord(value)) fail('region must be an object or null');
  const ops = value.ops === null ? null : array(value.ops, 'region.ops').map((o) => OPS.find((op) => op === o) ?? fail(`region.ops must hold ${OPS.join(', ')}`));
  const devices = value.devices === null ? null : array(value.devices, 'region.devices').map((d) => integer(d, 'region.devices[]'));
  if ((ops?.length ?? 0) > OPS.length || (devices?.length ?? 0) > 256) fail('region lists too many devices or ops');
  const region = {
    fromMs: finiteNumber(value.fromMs, 'region.fromMs'),
    toMs: nullableNumber(value.toMs, 'region.toMs'),
    latMinNs: finiteNumber(value.latMinNs, 'region.latMinNs'),
    latMaxNs: finiteNumber(value.latMaxNs, 'region.latMaxNs'),
    devices,
    ops,
  };
  if (region.toMs !== null && region.toMs <= region.fromMs) fail('region.toMs must be after region.fromMs');
  if (region.latMaxNs < region.latMinNs) fail('region.latMaxNs must not be below region.latMinNs');
  return region;
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
      recursionMisses: finiteNumber(p.recursionMisses, 'program.recursionMisses'),
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
        exemplarCapture: m.exemplarCapture === null || m.exemplarCapture === undefined ? null : decodeCapture(m.exemplarCapture),
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
    case 'exemplars':
      return {
        type: 'exemplars',
        replace: m.replace === true,
        matched: integer(m.matched, 'matched'),
        exemplars: array(m.e, 'exemplars').map((e, k) => decodeExemplar(e, `exemplars[${k}]`)),
      };
    case 'exemplar-capture':
      return { type: 'exemplar-capture', capture: decodeCapture(m.capture) };
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
    case 'watch':
      return { type: 'watch', region: decodeRegion(m.region) };
    case 'set-threshold':
      return { type: 'set-threshold', thresholdNs: nullableInteger(m.thresholdNs, 'thresholdNs') };
    default:
      fail(`unknown message type ${JSON.stringify(String(m.type).slice(0, 40))}: expected "resume", "ping", "watch" or "set-threshold"`);
  }
}
