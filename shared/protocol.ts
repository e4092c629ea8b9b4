/**
 * The wire protocol between server and client, versioned. One encoder and one decoder per
 * direction; both sides import them, so a message shape is defined here and nowhere else.
 * Every decoder validates what it reads and throws ProtocolError naming the problem.
 *
 * Columns travel in a compact form (a column is ~0.5 KiB): {"type":"column","c":[seq,startMs,intervalMs,[[metric,device,op,[slot,count,...]],...]]}
 * with metric and op as indexes into METRICS and OPS.
 */
import { METRICS, OPS, SLOTS, type Metric, type Op } from './scheme.ts';
import { columnWith, takesSeries, type Column, type DeviceInfo, type DeviceOpCount, type ExemplarDrops, type Filter, type Series, type SourceKind } from './column.ts';
import { EXEMPLAR_ORDERS, type Exemplar, type ExemplarOrder } from './exemplar.ts';

export const PROTOCOL_VERSION = 1;
/** Largest client message the server reads; anything longer is refused unread. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;
/**
 * A WebSocket closed with this plus an HTTP status (4400, 4503): the server refused what the page
 * asked, after an `error` message saying why; asking again would be refused again, so the page
 * does not retry.
 */
export const REFUSED_CLOSE_BASE = 4000;

export function isRefusalClose(code: number): boolean {
  return code >= REFUSED_CLOSE_BASE && code < REFUSED_CLOSE_BASE + 1000;
}

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
  /** completions the kernel accounted in its I/O statistics that no program saw (each also in its column's unseen) */
  readonly unseen: number;
  /** devices whose requests carried no issue time stamp (timed from the issue-side store, or counted in missedStart) */
  readonly unstampedDevices: readonly string[];
  /** issue-side store slots taken from a request whose issue time or size was not yet consumed (absent from older servers) */
  readonly storeCollisions?: number;
}

/** Completions the tracer knows of that no heat-map cell holds, by name, and their sum. */
export interface Uncounted {
  readonly total: number;
  readonly unseen: number;
  readonly missedStart: number;
  readonly startFailed: number;
  readonly ringOverrun: number;
}

/**
 * What a tracer's counters say is missing from the picture: completions the kernel accounted but
 * no program saw, completions without a start time, failed start records and columns overrun.
 * (A partial completion is not missing: its request is counted at its final one.)
 */
export function uncountedOf(stats: SelfStats): Uncounted {
  const { unseen, missedStart, startFailed, ringOverrun } = stats;
  return { total: unseen + missedStart + startFailed + ringOverrun, unseen, missedStart, startFailed, ringOverrun };
}

export interface Hello {
  readonly type: 'hello';
  readonly version: number;
  readonly source: SourceKind;
  readonly host: string;
  readonly scheme: BucketScheme;
  readonly devices: readonly DeviceInfo[];
  /** the hosts a page can narrow the picture to with ?host= (--source prometheus); absent or empty when the source reads no hosts apart */
  readonly hosts?: readonly string[];
  readonly ops: readonly Op[];
  readonly metrics: readonly Metric[];
  readonly intervalMs: number;
  /** the steps (ms) /api/columns answers at, finest first: the interval, then each roll-up level (absent from older servers) */
  readonly steps: readonly number[];
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

/** The part of time × latency × size (and devices, ops) a client wants exemplars of. */
export interface ExemplarRegion {
  readonly fromMs: number;
  /** null: up to now and onward (a live view) */
  readonly toMs: number | null;
  /** both inclusive */
  readonly latMinNs: number;
  readonly latMaxNs: number;
  /** both inclusive; the whole range (0 to MAX_SAFE_INTEGER) unless the view is of sizes */
  readonly sizeMinBytes: number;
  readonly sizeMaxBytes: number;
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
  /**
   * The source has delivered everything (a replay or an import at its end): no column follows,
   * and silence from now on is not a dead link. Sent after `live`; lastSeq is the last column.
   */
  | { readonly type: 'end'; readonly lastSeq: number | null }
  /** columns fromSeq..toSeq (inclusive) were asked for but history no longer holds them */
  | { readonly type: 'gap'; readonly fromSeq: number; readonly toSeq: number }
  /** the device table grew, or the hosts (as in hello) did */
  | { readonly type: 'devices'; readonly devices: readonly DeviceInfo[]; readonly hosts?: readonly string[] }
  | { readonly type: 'stats'; readonly selfStats: SelfStats }
  /** the answer to a client's ping, with its id */
  | { readonly type: 'pong'; readonly id: number }
  /**
   * Exemplars inside the client's watched region: the stored ones when it starts watching
   * (replace: true: the first MAX_EXEMPLARS_PER_MESSAGE in the watch's order, with how many
   * matched in all), then live ones as they come (replace: false).
   */
  | { readonly type: 'exemplars'; readonly replace: boolean; readonly matched: number; readonly exemplars: readonly Exemplar[] }
  /** the exemplar threshold changed (by a client's set-threshold) */
  | { readonly type: 'exemplar-capture'; readonly capture: ExemplarCapture }
  | { readonly type: 'error'; readonly message: string }
  /** what keeps the source from reading its data now (Prometheus unreachable, no series), and null once it reads again */
  | { readonly type: 'problem'; readonly message: string | null };

export type ClientMessage =
  /** send every column after this seq (null: the default backfill), then live ones */
  | { readonly type: 'resume'; readonly after: number | null }
  | { readonly type: 'ping'; readonly id: number }
  /** send exemplars of this region (null: none), those first in the order when it holds more than one message */
  | { readonly type: 'watch'; readonly region: ExemplarRegion | null; readonly order: ExemplarOrder }
  /** change the live exemplar threshold (ns; null: adaptive) without reloading the tracer */
  | { readonly type: 'set-threshold'; readonly thresholdNs: number | null };

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

type CompactSeries = [number, number, number, number[]];
/** [device, op, count] or, with the latency slot of the drops, [device, op, count, slot] */
type CompactDrop = [number, number, number] | [number, number, number, number];
type CompactDrops = CompactDrop[];
type CompactColumn =
  | [number, number, number, CompactSeries[]]
  | [number, number, number, CompactSeries[], CompactDrops]
  | [number, number, number, CompactSeries[], CompactDrops, [number, number, number][]];
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
  const drops = (column.droppedExemplars ?? []).map((d): CompactDrop => (d.slot === undefined ? [d.device, OPS.indexOf(d.op), d.count] : [d.device, OPS.indexOf(d.op), d.count, d.slot]));
  if (column.unseen && column.unseen.length > 0) return [...head, drops, column.unseen.map((u): [number, number, number] => [u.device, OPS.indexOf(u.op), u.count])];
  return drops.length > 0 ? [...head, drops] : [...head];
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

/**
 * The column of a `column` message that this process encoded itself, from a column it already
 * held as valid: read back without checking it again. The server's history keeps its columns
 * as wire bytes and reads thousands back for every large answer, where checking each count
 * took three times the JSON parse. Anything from outside goes through decodeServerMessage,
 * whose column this equals.
 */
export function decodeOwnColumnMessage(text: string): Column {
  const c = (JSON.parse(text) as { c: CompactColumn }).c;
  const series: Series[] = c[3].map(([metric, device, op, pairs]) => {
    const slots = new Array<number>(pairs.length / 2);
    const counts = new Array<number>(pairs.length / 2);
    for (let k = 0; k < slots.length; k++) {
      slots[k] = pairs[2 * k]!;
      counts[k] = pairs[2 * k + 1]!;
    }
    return { metric: METRICS[metric]!, device, op: OPS[op]!, slots, counts };
  });
  const droppedExemplars = (c[4] ?? []).map((d): ExemplarDrops => (d.length === 3 ? { device: d[0], op: OPS[d[1]]!, count: d[2] } : { device: d[0], op: OPS[d[1]]!, count: d[2], slot: d[3] }));
  const unseen = (c[5] ?? []).map(([device, op, count]): DeviceOpCount => ({ device, op: OPS[op]!, count }));
  return columnWith({ seq: c[0], startMs: c[1], intervalMs: c[2], series }, droppedExemplars, unseen);
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
  if (c.length < 4 || c.length > 6) fail('column must be [seq, startMs, intervalMs, series, drops?, unseen?]');
  const seq = integer(c[0], 'column.seq');
  const startMs = integer(c[1], 'column.startMs');
  const intervalMs = integer(c[2], 'column.intervalMs', 1);
  const series = array(c[3], 'column.series').map((s, k) => decodeSeries(s, `column.series[${k}]`));
  const droppedExemplars = c.length > 4 ? array(c[4], 'column.drops').map((d, k) => decodeDrop(d, `column.drops[${k}]`)) : [];
  const unseen = c.length > 5 ? array(c[5], 'column.unseen').map((u, k) => decodeDeviceOpCount(array(u, `column.unseen[${k}]`), 3, `column.unseen[${k}]`)) : [];
  return columnWith({ seq, startMs, intervalMs, series }, droppedExemplars, unseen);
}

/** [device, op, count, ...] of length `length` */
function decodeDeviceOpCount(entry: unknown[], length: number, field: string): DeviceOpCount {
  if (entry.length !== length) fail(`${field} must be [device, op, count${length > 3 ? ', slot?' : ''}]`);
  return {
    device: integer(entry[0], `${field}.device`),
    op: OPS[integer(entry[1], `${field}.op`)] ?? fail(`${field}.op is out of range`),
    count: integer(entry[2], `${field}.count`, 1),
  };
}

function decodeDrop(value: unknown, field: string): ExemplarDrops {
  const drop = array(value, field);
  if (drop.length === 3) return decodeDeviceOpCount(drop, 3, field);
  if (drop.length !== 4) fail(`${field} must be [device, op, count, slot?]`);
  return { ...decodeDeviceOpCount(drop, 4, field), slot: slotNumber(drop[3], `${field}.slot`) };
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
    sizeMinBytes: finiteNumber(value.sizeMinBytes, 'region.sizeMinBytes'),
    sizeMaxBytes: finiteNumber(value.sizeMaxBytes, 'region.sizeMaxBytes'),
    devices,
    ops,
  };
  if (region.toMs !== null && region.toMs <= region.fromMs) fail('region.toMs must be after region.fromMs');
  if (region.latMaxNs < region.latMinNs) fail('region.latMaxNs must not be below region.latMinNs');
  if (region.sizeMaxBytes < region.sizeMinBytes) fail('region.sizeMaxBytes must not be below region.sizeMinBytes');
  return region;
}

/** Most devices one device is stacked on (a dm device over several disks). */
const MAX_STACKED_ON = 64;

function decodeDevices(value: unknown): DeviceInfo[] {
  return array(value, 'devices').map((d, k) => {
    if (!isRecord(d)) fail(`devices[${k}] must be an object`);
    const device = { id: integer(d.id, `devices[${k}].id`), name: string(d.name, `devices[${k}].name`) };
    if (d.stackedOn === undefined) return device;
    const stackedOn = array(d.stackedOn, `devices[${k}].stackedOn`);
    if (stackedOn.length > MAX_STACKED_ON) fail(`devices[${k}].stackedOn lists more than ${MAX_STACKED_ON} devices`);
    return { ...device, stackedOn: stackedOn.map((name, j) => string(name, `devices[${k}].stackedOn[${j}]`)) };
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
    unseen: finiteNumber(value.unseen, 'selfStats.unseen'),
    unstampedDevices: array(value.unstampedDevices, 'selfStats.unstampedDevices').map((name, k) => string(name, `selfStats.unstampedDevices[${k}]`)),
    ...(value.storeCollisions === undefined ? {} : { storeCollisions: finiteNumber(value.storeCollisions, 'selfStats.storeCollisions') }),
  };
}

function decodeSteps(value: unknown): number[] {
  const steps = array(value, 'steps').map((step) => integer(step, 'steps[]', 1));
  if (steps.length === 0 || steps.length > 16 || steps.some((step, k) => k > 0 && step <= steps[k - 1]!)) fail('steps must list 1 to 16 ascending step lengths');
  return steps;
}

/** Most hosts a hello or devices message lists: a fleet's, in one message (the server lists the first ones, and says so). */
export const MAX_HOSTS_LISTED = 4096;

function decodeHosts(value: unknown): string[] {
  const hosts = array(value, 'hosts');
  if (hosts.length > MAX_HOSTS_LISTED) fail(`hosts lists more than ${MAX_HOSTS_LISTED} hosts`);
  return hosts.map((host, k) => string(host, `hosts[${k}]`));
}

const SOURCES: readonly SourceKind[] = ['bpf', 'synthetic', 'replay', 'import', 'prometheus'];

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
        ...(m.hosts === undefined ? {} : { hosts: decodeHosts(m.hosts) }),
        ops: OPS,
        metrics: METRICS,
        intervalMs: integer(m.intervalMs, 'intervalMs', 1),
        steps: m.steps === undefined ? [integer(m.intervalMs, 'intervalMs', 1)] : decodeSteps(m.steps),
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
    case 'end':
      return { type: 'end', lastSeq: nullableInteger(m.lastSeq, 'lastSeq') };
    case 'gap':
      return { type: 'gap', fromSeq: integer(m.fromSeq, 'fromSeq'), toSeq: integer(m.toSeq, 'toSeq') };
    case 'devices':
      return { type: 'devices', devices: decodeDevices(m.devices), ...(m.hosts === undefined ? {} : { hosts: decodeHosts(m.hosts) }) };
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
    case 'problem':
      return { type: 'problem', message: m.message === null ? null : string(m.message, 'message', 1024) };
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
      return { type: 'watch', region: decodeRegion(m.region), order: EXEMPLAR_ORDERS.find((o) => o === m.order) ?? fail(`order must be one of ${EXEMPLAR_ORDERS.join(', ')}`) };
    case 'set-threshold':
      return { type: 'set-threshold', thresholdNs: nullableInteger(m.thresholdNs, 'thresholdNs') };
    default:
      fail(`unknown message type ${JSON.stringify(String(m.type).slice(0, 40))}: expected "resume", "ping", "watch" or "set-threshold"`);
  }
}

// ---- the packed bulk form: many columns in one binary message ----

/**
 * Large answers (a day of history, a week of roll-ups, a WebSocket backfill asked for at a coarser
 * step: the one binary message /ws sends) travel packed: every column of the answer
 * in one little-endian buffer of typed arrays, struct of arrays, which the client reads as views
 * of the buffer without making an object per series or per count. Layout (C columns, S series,
 * E entries = non-zero counts, D dropped-exemplar records):
 *
 *   header, 40 bytes   u32 magic "BHPK", u32 version, u32 flags (bit 0: counts are f64, else u32),
 *                      u32 C, u32 S, u32 E, u32 D, u32 stepMs, f64 throughSeq (-1: none)
 *   f64                seq[C], startMs[C], counts[E] (when flagged)
 *   u32                intervalMs[C], seriesEnd[C], dropEnd[C], device[S], entryEnd[S], counts[E] (unless flagged),
 *                      dropDevice[D], dropCount[D]
 *   u16                slots[E], dropSlot[D] (0xffff: a drop kept without its latency slot)
 *   u8                 metric[S], op[S], dropOp[D]
 *
 * seriesEnd, entryEnd and dropEnd are running ends: column i's series are seriesEnd[i-1]..seriesEnd[i),
 * series j's entries entryEnd[j-1]..entryEnd[j). metric and op index METRICS and OPS. `throughSeq` is
 * the newest column the answer has counted (the last roll-up may still be filling); `stepMs` the step.
 */
export const PACKED_VERSION = 1;
export const PACKED_CONTENT_TYPE = 'application/vnd.bpfheat.columns';
const PACKED_MAGIC = 0x4b504842; // "BHPK" read as a little-endian u32
const PACKED_HEADER_BYTES = 40;
const COUNTS_F64 = 1;
const NO_DROP_SLOT = 0xffff;

export interface PackedColumns {
  readonly stepMs: number;
  /** the newest column seq counted, -1 when none */
  readonly throughSeq: number;
  readonly count: number;
  readonly seq: Float64Array;
  readonly startMs: Float64Array;
  readonly intervalMs: Uint32Array;
  readonly seriesEnd: Uint32Array;
  readonly dropEnd: Uint32Array;
  readonly metric: Uint8Array;
  readonly device: Uint32Array;
  readonly op: Uint8Array;
  readonly entryEnd: Uint32Array;
  readonly slots: Uint16Array;
  readonly counts: Float64Array | Uint32Array;
  readonly dropDevice: Uint32Array;
  readonly dropOp: Uint8Array;
  readonly dropCount: Uint32Array;
  readonly dropSlot: Uint16Array;
}

interface PackedSizes {
  readonly columns: number;
  readonly series: number;
  readonly entries: number;
  readonly drops: number;
  readonly wideCounts: boolean;
}

/** Every section of the layout at its byte offset, and the total length. */
function packedSections(buffer: ArrayBufferLike, byteOffset: number, n: PackedSizes): { views: Omit<PackedColumns, 'stepMs' | 'throughSeq' | 'count'>; bytes: number } {
  let at = byteOffset + PACKED_HEADER_BYTES;
  const f64 = (length: number): Float64Array => {
    const view = new Float64Array(buffer, at, length);
    at += 8 * length;
    return view;
  };
  const u32 = (length: number): Uint32Array => {
    const view = new Uint32Array(buffer, at, length);
    at += 4 * length;
    return view;
  };
  const seq = f64(n.columns);
  const startMs = f64(n.columns);
  const wide = n.wideCounts ? f64(n.entries) : null;
  const intervalMs = u32(n.columns);
  const seriesEnd = u32(n.columns);
  const dropEnd = u32(n.columns);
  const device = u32(n.series);
  const entryEnd = u32(n.series);
  const counts = wide ?? u32(n.entries);
  const dropDevice = u32(n.drops);
  const dropCount = u32(n.drops);
  const slots = new Uint16Array(buffer, at, n.entries);
  at += 2 * n.entries;
  const dropSlot = new Uint16Array(buffer, at, n.drops);
  at += 2 * n.drops;
  const metric = new Uint8Array(buffer, at, n.series);
  const op = new Uint8Array(buffer, at + n.series, n.series);
  const dropOp = new Uint8Array(buffer, at + 2 * n.series, n.drops);
  at += 2 * n.series + n.drops;
  return { views: { seq, startMs, intervalMs, seriesEnd, dropEnd, metric, device, op, entryEnd, slots, counts, dropDevice, dropOp, dropCount, dropSlot }, bytes: at - byteOffset };
}

function packedLength(n: PackedSizes): number {
  return PACKED_HEADER_BYTES + 8 * 2 * n.columns + (n.wideCounts ? 8 : 4) * n.entries + 4 * (3 * n.columns + 2 * n.series + 2 * n.drops) + 2 * n.entries + 2 * n.drops + 2 * n.series + n.drops;
}

/** Columns (ascending by seq) in the packed form. */
export function encodePackedColumns(columns: readonly Column[], stepMs: number, throughSeq: number | null): Uint8Array<ArrayBuffer> {
  let series = 0;
  let entries = 0;
  let drops = 0;
  let wideCounts = false;
  for (const column of columns) {
    series += column.series.length;
    drops += column.droppedExemplars?.length ?? 0;
    for (const s of column.series) {
      entries += s.slots.length;
      for (const count of s.counts) if (count > 0xffff_ffff) wideCounts = true;
    }
  }
  const sizes: PackedSizes = { columns: columns.length, series, entries, drops, wideCounts };
  const buffer = new ArrayBuffer(packedLength(sizes));
  const header = new DataView(buffer, 0, PACKED_HEADER_BYTES);
  [PACKED_MAGIC, PACKED_VERSION, wideCounts ? COUNTS_F64 : 0, columns.length, series, entries, drops, stepMs].forEach((word, k) => header.setUint32(4 * k, word, true));
  header.setFloat64(32, throughSeq ?? -1, true);
  const v = packedSections(buffer, 0, sizes).views;
  let j = 0;
  let e = 0;
  let d = 0;
  columns.forEach((column, i) => {
    v.seq[i] = column.seq;
    v.startMs[i] = column.startMs;
    v.intervalMs[i] = column.intervalMs;
    for (const s of column.series) {
      v.metric[j] = METRICS.indexOf(s.metric);
      v.device[j] = s.device;
      v.op[j] = OPS.indexOf(s.op);
      v.slots.set(s.slots, e);
      v.counts.set(s.counts, e);
      e += s.slots.length;
      v.entryEnd[j++] = e;
    }
    v.seriesEnd[i] = j;
    for (const drop of column.droppedExemplars ?? []) {
      v.dropDevice[d] = drop.device;
      v.dropOp[d] = OPS.indexOf(drop.op);
      v.dropSlot[d] = drop.slot ?? NO_DROP_SLOT;
      v.dropCount[d++] = drop.count;
    }
    v.dropEnd[i] = d;
  });
  return new Uint8Array(buffer);
}

/** Reads and checks a packed message; the arrays are views of its bytes (copied once only when they are not 8-byte aligned). */
export function decodePackedColumns(input: ArrayBuffer | Uint8Array): PackedColumns {
  let bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  // a copy (not slice(): a Node Buffer's slice is a view of the same, unaligned, bytes)
  if (bytes.byteOffset % 8 !== 0) bytes = new Uint8Array(bytes);
  if (bytes.byteLength < PACKED_HEADER_BYTES) fail(`packed columns: ${bytes.byteLength} bytes is shorter than the ${PACKED_HEADER_BYTES}-byte header`);
  const header = new DataView(bytes.buffer, bytes.byteOffset, PACKED_HEADER_BYTES);
  const word = (k: number): number => header.getUint32(4 * k, true);
  if (word(0) !== PACKED_MAGIC) fail('packed columns: not a bpfheat packed message (bad magic)');
  if (word(1) !== PACKED_VERSION) fail(`packed columns: version ${word(1)} is not ${PACKED_VERSION}: reload the page to get a matching client`);
  const sizes: PackedSizes = { columns: word(3), series: word(4), entries: word(5), drops: word(6), wideCounts: (word(2) & COUNTS_F64) !== 0 };
  const expected = packedLength(sizes);
  if (bytes.byteLength !== expected) fail(`packed columns: ${bytes.byteLength} bytes where the header announces ${expected}`);
  const v = packedSections(bytes.buffer, bytes.byteOffset, sizes).views;
  let lastSeries = 0;
  let lastEntry = 0;
  let lastDrop = 0;
  for (let i = 0; i < sizes.columns; i++) {
    if (!Number.isSafeInteger(v.seq[i]!) || v.seq[i]! < 0 || (i > 0 && v.seq[i]! <= v.seq[i - 1]!)) fail(`packed columns: column ${i} seq must be an integer above the one before`);
    if (!Number.isSafeInteger(v.startMs[i]!) || v.startMs[i]! < 0 || v.intervalMs[i]! < 1) fail(`packed columns: column ${i} has a bad start or interval`);
    if (v.seriesEnd[i]! < lastSeries || v.seriesEnd[i]! > sizes.series || v.dropEnd[i]! < lastDrop || v.dropEnd[i]! > sizes.drops) fail(`packed columns: column ${i} has bad series or drop ends`);
    for (let j = lastSeries; j < v.seriesEnd[i]!; j++) {
      if (v.metric[j]! >= METRICS.length || v.op[j]! >= OPS.length) fail(`packed columns: series ${j} has an out-of-range metric or op`);
      const end = v.entryEnd[j]!;
      if (end < lastEntry || end > sizes.entries) fail(`packed columns: series ${j} has a bad entry end`);
      for (let k = lastEntry; k < end; k++) {
        if (v.slots[k]! >= SLOTS || (k > lastEntry && v.slots[k]! <= v.slots[k - 1]!)) fail(`packed columns: series ${j} slots must ascend within 0..${SLOTS - 1}`);
        // (u32 counts are whole numbers by their type: only wide ones need the integer check)
        if (!(v.counts[k]! >= 1) || (sizes.wideCounts && !Number.isSafeInteger(v.counts[k]!))) fail(`packed columns: series ${j} has a count that is not a positive integer`);
      }
      lastEntry = end;
    }
    for (let k = lastDrop; k < v.dropEnd[i]!; k++) {
      if (v.dropOp[k]! >= OPS.length || v.dropCount[k]! < 1 || (v.dropSlot[k]! >= SLOTS && v.dropSlot[k] !== NO_DROP_SLOT)) fail(`packed columns: drop record ${k} is out of range`);
    }
    lastSeries = v.seriesEnd[i]!;
    lastDrop = v.dropEnd[i]!;
  }
  if (lastSeries !== sizes.series || lastEntry !== sizes.entries || lastDrop !== sizes.drops) fail('packed columns: the sections do not add up to the header');
  const throughSeq = header.getFloat64(32, true);
  if (!(throughSeq === -1 || (Number.isSafeInteger(throughSeq) && throughSeq >= 0))) fail('packed columns: throughSeq must be -1 or a whole seq');
  return { stepMs: word(7), throughSeq, count: sizes.columns, ...v };
}

/** Column i of a packed message as the protocol's Column (for tests and the server; the client reads the arrays). */
export function packedColumnAt(p: PackedColumns, i: number): Column {
  const series: Series[] = [];
  for (let j = i > 0 ? p.seriesEnd[i - 1]! : 0; j < p.seriesEnd[i]!; j++) {
    const from = j > 0 ? p.entryEnd[j - 1]! : 0;
    series.push({
      metric: METRICS[p.metric[j]!]!,
      device: p.device[j]!,
      op: OPS[p.op[j]!]!,
      slots: Array.from(p.slots.subarray(from, p.entryEnd[j]!)),
      counts: Array.from(p.counts.subarray(from, p.entryEnd[j]!)),
    });
  }
  const column: Column = { seq: p.seq[i]!, startMs: p.startMs[i]!, intervalMs: p.intervalMs[i]!, series };
  const dropFrom = i > 0 ? p.dropEnd[i - 1]! : 0;
  if (p.dropEnd[i]! === dropFrom) return column;
  const droppedExemplars: ExemplarDrops[] = [];
  for (let k = dropFrom; k < p.dropEnd[i]!; k++) {
    const drop = { device: p.dropDevice[k]!, op: OPS[p.dropOp[k]!]!, count: p.dropCount[k]! };
    droppedExemplars.push(p.dropSlot[k] === NO_DROP_SLOT ? drop : { ...drop, slot: p.dropSlot[k]! });
  }
  return { ...column, droppedExemplars };
}

/**
 * A packed message this process encoded itself: its arrays as views of its bytes, unchecked
 * (decodePackedColumns, for anything from outside, gives the same views after checking every
 * count). The bytes must start 8-byte aligned, as encodePackedColumns returns them.
 */
export function ownPackedColumns(bytes: Uint8Array): PackedColumns {
  const header = new Uint32Array(bytes.buffer, bytes.byteOffset, PACKED_HEADER_BYTES / 4);
  const sizes: PackedSizes = { columns: header[3]!, series: header[4]!, entries: header[5]!, drops: header[6]!, wideCounts: (header[2]! & COUNTS_F64) !== 0 };
  const throughSeq = new Float64Array(bytes.buffer, bytes.byteOffset + 32, 1)[0]!;
  return { stepMs: header[7]!, throughSeq, count: sizes.columns, ...packedSections(bytes.buffer, bytes.byteOffset, sizes).views };
}

/** Which series a joined packed message keeps, by metric, device and op. */
export type PackedSeriesFilter = (metric: Metric, device: number, op: Op) => boolean;

/** Columns [from, to) of a packed message. */
export interface PackedRange {
  readonly columns: PackedColumns;
  readonly from: number;
  readonly to: number;
}

/** Where column i's series, entries and drops begin in a packed message: the running ends of the column before. */
function packedStart(p: PackedColumns, i: number): { series: number; entry: number; drop: number } {
  const series = i > 0 ? p.seriesEnd[i - 1]! : 0;
  return { series, entry: series > 0 ? p.entryEnd[series - 1]! : 0, drop: i > 0 ? p.dropEnd[i - 1]! : 0 };
}

/** Column i's histogram under a filter, summed over the series it takes, as histogramOf sums a Column's. */
export function packedHistogramOf(p: PackedColumns, i: number, filter: Filter): Float64Array {
  const histogram = new Float64Array(SLOTS);
  const start = packedStart(p, i);
  let from = start.entry;
  for (let j = start.series; j < p.seriesEnd[i]!; j++) {
    const end = p.entryEnd[j]!;
    if (takesSeries(filter, METRICS[p.metric[j]!]!, p.device[j]!, OPS[p.op[j]!]!)) for (let k = from; k < end; k++) histogram[p.slots[k]!]! += p.counts[k]!;
    from = end;
  }
  return histogram;
}

/**
 * Ranges of packed messages, their columns ascending from one range to the next, joined into
 * one message: the bytes encodePackedColumns gives for all their columns, each with only the
 * series `keep` takes (all when it is omitted), made by copying the arrays' runs without making
 * a Column of any of them.
 */
export function joinPackedColumns(parts: readonly PackedRange[], stepMs: number, throughSeq: number | null, keep?: PackedSeriesFilter): Uint8Array<ArrayBuffer> {
  const kept = parts.map(({ columns: p, from, to }) => {
    const first = packedStart(p, from).series;
    const series = new Uint8Array(packedStart(p, to).series - first);
    for (let j = 0; j < series.length; j++) series[j] = !keep || keep(METRICS[p.metric[first + j]!]!, p.device[first + j]!, OPS[p.op[first + j]!]!) ? 1 : 0;
    return series;
  });
  let columns = 0;
  let series = 0;
  let entries = 0;
  let drops = 0;
  let wideCounts = false;
  parts.forEach(({ columns: p, from, to }, part) => {
    const start = packedStart(p, from);
    columns += to - from;
    drops += packedStart(p, to).drop - start.drop;
    kept[part]!.forEach((isKept, s) => {
      if (isKept === 0) return;
      const j = start.series + s;
      const first = j > 0 ? p.entryEnd[j - 1]! : 0;
      series++;
      entries += p.entryEnd[j]! - first;
      if (p.counts instanceof Float64Array) for (let k = first; k < p.entryEnd[j]!; k++) if (p.counts[k]! > 0xffff_ffff) wideCounts = true;
    });
  });
  const sizes: PackedSizes = { columns, series, entries, drops, wideCounts };
  const buffer = new ArrayBuffer(packedLength(sizes));
  const header = new DataView(buffer, 0, PACKED_HEADER_BYTES);
  [PACKED_MAGIC, PACKED_VERSION, wideCounts ? COUNTS_F64 : 0, columns, series, entries, drops, stepMs].forEach((word, k) => header.setUint32(4 * k, word, true));
  header.setFloat64(32, throughSeq ?? -1, true);
  const v = packedSections(buffer, 0, sizes).views;
  let i = 0;
  let j = 0;
  let e = 0;
  let d = 0;
  parts.forEach(({ columns: p, from, to }, part) => {
    const start = packedStart(p, from);
    const end = packedStart(p, to);
    v.seq.set(p.seq.subarray(from, to), i);
    v.startMs.set(p.startMs.subarray(from, to), i);
    v.intervalMs.set(p.intervalMs.subarray(from, to), i);
    v.dropDevice.set(p.dropDevice.subarray(start.drop, end.drop), d);
    v.dropOp.set(p.dropOp.subarray(start.drop, end.drop), d);
    v.dropCount.set(p.dropCount.subarray(start.drop, end.drop), d);
    v.dropSlot.set(p.dropSlot.subarray(start.drop, end.drop), d);
    // the entries of consecutive kept series are copied as one run
    let runFrom = start.entry;
    let runTo = start.entry;
    const copyRun = (): void => {
      v.slots.set(p.slots.subarray(runFrom, runTo), e);
      v.counts.set(p.counts.subarray(runFrom, runTo), e);
      e += runTo - runFrom;
    };
    let s = start.series;
    for (let c = from; c < to; c++) {
      for (; s < p.seriesEnd[c]!; s++) {
        if (kept[part]![s - start.series] === 0) {
          copyRun();
          runFrom = runTo = p.entryEnd[s]!;
          continue;
        }
        v.metric[j] = p.metric[s]!;
        v.device[j] = p.device[s]!;
        v.op[j] = p.op[s]!;
        v.entryEnd[j++] = e + p.entryEnd[s]! - runFrom;
        runTo = p.entryEnd[s]!;
      }
      v.seriesEnd[i] = j;
      v.dropEnd[i++] = d + p.dropEnd[c]! - start.drop;
    }
    copyRun();
    d += end.drop - start.drop;
  });
  return new Uint8Array(buffer);
}
