/**
 * The HTTP side of the dashboard: the built client and a small read-only API.
 *
 *   GET /healthz                      "ok"
 *   GET /metrics                      every count since start for Prometheus (metrics.ts): native
 *                                     histograms in protobuf, or classic buckets in text
 *   GET /api/meta                     what the server is, runs as, holds, and costs
 *   GET /api/columns?from=&to=&metric=&device=&op=&step=&width=&format=
 *                                     one filtered histogram per column of [from, to), at the
 *                                     coarsest held step (column interval or roll-up level) that
 *                                     is at most `step` ms, or at most one per pixel of `width`;
 *                                     format=packed: whole columns (every series the filter
 *                                     keeps) in the binary packed form (shared/protocol.ts)
 *   GET /api/snapshot.svg?from=&to=&metric=&device=&op=&width=&height=&step=
 *                                     the same range as a standalone SVG heat map (shared/svg.ts),
 *                                     by default at the coarsest step that gives each pixel its own cell
 *   GET /api/exemplars?from=&to=&lat_min=&lat_max=&size_min=&size_max=&device=&op=&order=&limit=
 *                                     the outlier I/Os of [from, to) with lat_min <= latency <= lat_max
 *                                     and size_min <= bytes <= size_max, the first `limit` in the order
 *                                     (slowest by default), and how many the kernel dropped in that region
 *
 * Every query is checked before use: unknown or repeated parameters, malformed numbers, unknown
 * devices or ops and oversized ranges get a 400 with {"error": "..."} naming the problem. No
 * response carries a stack trace.
 *
 * /api/columns, /api/snapshot.svg and /api/exemplars are large answers (slicing.ts): built in parts
 * that share a time budget per turn of the event loop, written with backpressure, a few at once
 * and a few more waiting, 429 past that.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { METRICS, METRIC_UNIT, OPS, SLOTS, type Metric, type Op } from '../../shared/scheme.ts';
import { histogramOf, unseenOf, type Column, type DeviceInfo, type Filter } from '../../shared/column.ts';
import { BUCKET_SCHEME, PACKED_CONTENT_TYPE, PROTOCOL_VERSION, joinPackedColumns, packedHistogramOf, type PackedRange, type PackedSeriesFilter } from '../../shared/protocol.ts';
import { heatmapSvgParts } from '../../shared/svg.ts';
import { exportFileName, layoutOf, snapshotView, type SnapshotView } from '../../shared/view.ts';
import { DEFAULT_EXEMPLAR_ORDER, EXEMPLAR_ORDERS, droppedIn } from '../../shared/exemplar.ts';
import type { ClientBundle } from './bundle.ts';
import { decodeEntries, packedParts, rollupColumn, type HeldColumns, type History, type RollupEntry } from './history.ts';
import { serveMetrics, type MetricsExporter } from './metrics.ts';
import type { RunAs } from './privileges.ts';
import { checkRequest, tokenCookie, type AccessPolicy } from './security.ts';
import { HeavyAnswers, RETRY_AFTER_S, streamAnswer, Turns } from './slicing.ts';
import { DEFAULT_BACKFILL_MS, type BackfillStep, type ColumnStream, type StreamSource } from './ws.ts';

/** Longest URL the server reads (path and query). */
export const MAX_URL_CHARS = 2048;
/** Most columns (or roll-ups) one /api/columns answer holds (24 h at 1 s). */
export const MAX_QUERY_COLUMNS = 86_400;
/** Most columns one snapshot draws (an SVG has one element per cell). */
export const MAX_SNAPSHOT_COLUMNS = 4000;

export interface HttpDeps {
  readonly source: StreamSource;
  readonly history: History;
  readonly stream: ColumnStream;
  /** null: a headless exporter, serving /healthz and /metrics only */
  readonly bundle: ClientBundle | null;
  readonly metrics: MetricsExporter;
  readonly policy: AccessPolicy;
  /** the port being served (known once listening) */
  readonly port: () => number;
  readonly listen: string;
  readonly runAs: () => RunAs;
  readonly selfStatsRequested: boolean;
  /** HTTP connections open now (WebSockets not included) */
  readonly connections: () => number;
  /** the event loop's budget for big answers, shared by every dashboard on this server */
  readonly turns: Turns;
  /** the big answers being built, counted across every dashboard on this server */
  readonly heavy: HeavyAnswers;
}

class QueryError extends Error {}

function bad(message: string): never {
  throw new QueryError(message);
}

/**
 * The step parameters of a WebSocket upgrade (`step`, `width`: as for /api/columns), or the line
 * that says what is wrong with them.
 */
export function parseBackfillStep(query: URLSearchParams): BackfillStep | { readonly error: string } {
  try {
    return { stepMs: wholeNumber(query, 'step', 1, MAX_STEP_MS), widthPx: wholeNumber(query, 'width', MIN_WIDTH, MAX_WIDTH) };
  } catch (error) {
    if (error instanceof QueryError) return { error: error.message };
    throw error;
  }
}

export interface RangeQuery {
  readonly fromMs: number;
  readonly toMs: number;
  readonly metric: Metric;
  /** device ids, null for all */
  readonly devices: readonly number[] | null;
  readonly ops: readonly Op[] | null;
  readonly widthCss: number | null;
  readonly heightCss: number | null;
  /** the step asked for in ms (rounded down to a held one when answered), or null */
  readonly stepMs: number | null;
}

const RANGE_PARAMS = ['from', 'to', 'metric', 'device', 'op'] as const;
const COLUMNS_PARAMS = [...RANGE_PARAMS, 'step', 'width', 'format'] as const;
export const SNAPSHOT_PARAMS = [...RANGE_PARAMS, 'width', 'height', 'step'] as const;
/** The narrowest and widest picture (or pixel columns) one may ask for. */
const MIN_WIDTH = 200;
const MAX_WIDTH = 8000;
/** The longest step one may ask for: a day. */
const MAX_STEP_MS = 86_400_000;
const EXEMPLAR_PARAMS = ['from', 'to', 'device', 'op', 'lat_min', 'lat_max', 'size_min', 'size_max', 'order', 'limit'] as const;
/** Most exemplars one /api/exemplars answer lists (the count of all matches is always given). */
export const MAX_EXEMPLAR_LIMIT = 10_000;
const DEFAULT_EXEMPLAR_LIMIT = 1000;

function single(query: URLSearchParams, name: string): string | null {
  const values = query.getAll(name);
  if (values.length > 1) bad(`"${name}" is given ${values.length} times; give it once`);
  return values[0] ?? null;
}

function wholeNumber(query: URLSearchParams, name: string, min: number, max: number): number | null {
  const value = single(query, name);
  if (value === null) return null;
  if (!/^\d{1,16}$/.test(value) || Number(value) < min || Number(value) > max) {
    bad(`"${name}" must be a whole number from ${min} to ${max}${name === 'from' || name === 'to' ? ' (unix time in ms)' : ''}, got "${value.slice(0, 40)}"`);
  }
  return Number(value);
}

/** Values of a repeatable parameter, each possibly a comma-separated list. */
function list(query: URLSearchParams, name: string): string[] | null {
  const values = query.getAll(name).flatMap((v) => v.split(','));
  if (values.length === 0) return null;
  if (values.length > 64) bad(`"${name}" lists more than 64 values`);
  return values;
}

export function parseRangeQuery(
  query: URLSearchParams,
  allowed: readonly string[],
  devices: readonly DeviceInfo[],
  history: History,
  intervalMs: number,
): RangeQuery {
  for (const name of new Set(query.keys())) {
    // token is checked in front of every route, host chose the dashboard that answers (app.ts)
    if (name !== 'token' && name !== 'host' && !allowed.includes(name)) bad(`unknown query parameter "${name.slice(0, 40)}": expected ${allowed.join(', ')}`);
  }
  const metricText = single(query, 'metric');
  const metric = metricText === null ? 'latency' : (METRICS.find((m) => m === metricText) ?? bad(`"metric" must be ${METRICS.join(' or ')}, got "${metricText.slice(0, 40)}"`));
  const deviceIds = list(query, 'device')?.map((value) => {
    const device = devices.find((d) => d.name === value || (/^\d{1,3}$/.test(value) && d.id === Number(value)));
    if (!device) bad(`unknown device "${value.slice(0, 40)}": known devices are ${devices.map((d) => `${d.name} (${d.id})`).join(', ') || 'none yet'}`);
    return device.id;
  });
  const ops = list(query, 'op')?.map((value) => OPS.find((o) => o === value) ?? bad(`"op" must be one of ${OPS.join(', ')}, got "${value.slice(0, 40)}"`));
  const maxMs = 8.64e15; // the largest Date
  let fromMs = wholeNumber(query, 'from', 0, maxMs);
  let toMs = wholeNumber(query, 'to', 0, maxMs);
  // Defaults: up to the end of the newest column, from DEFAULT_BACKFILL_MS before "to".
  const newest = history.size > 0 ? history.at(history.size - 1) : null;
  toMs ??= newest ? newest.startMs + newest.intervalMs : Math.ceil(Date.now() / intervalMs) * intervalMs;
  fromMs ??= Math.max(0, toMs - DEFAULT_BACKFILL_MS);
  if (fromMs >= toMs) bad(`"from" (${fromMs}) must be before "to" (${toMs})`);
  return {
    fromMs,
    toMs,
    metric,
    devices: deviceIds ? [...new Set(deviceIds)] : null,
    ops: ops ? [...new Set(ops)] : null,
    widthCss: allowed.includes('width') ? wholeNumber(query, 'width', MIN_WIDTH, MAX_WIDTH) : null,
    heightCss: allowed.includes('height') ? wholeNumber(query, 'height', 150, 8000) : null,
    stepMs: allowed.includes('step') ? wholeNumber(query, 'step', 1, MAX_STEP_MS) : null,
  };
}

/** Refuses a range that holds more than `limit` columns (or roll-ups) at `stepMs`. */
function checkCount(history: History, stepMs: number, fromMs: number, toMs: number, limit: number): void {
  const count = history.countAt(stepMs, fromMs, toMs);
  if (count > limit) {
    bad(`the range holds ${count} columns at a ${stepMs}-ms step, more than the ${limit} one request may ask for: narrow "from" and "to", or give a coarser "step" or a "width"`);
  }
}

/** The history's columns (or roll-ups) at `stepMs` overlapping [fromMs, toMs), decoded; refuses more than `limit`. */
export function columnsIn(history: History, stepMs: number, fromMs: number, toMs: number, limit: number): Column[] {
  checkCount(history, stepMs, fromMs, toMs, limit);
  return history.columnsAt(stepMs, fromMs, toMs);
}

/** The step a snapshot of this query draws at in this view: by default at most one roll-up per pixel of its plot. */
function snapshotStep(history: History, intervalMs: number, q: RangeQuery, view: SnapshotView): number {
  return history.answerStep(intervalMs, q.toMs - q.fromMs, q.stepMs, layoutOf(view.widthCss, view.heightCss, true).plot.width);
}

/** The columns a snapshot of this query draws in this view. */
export function snapshotColumns(history: History, intervalMs: number, q: RangeQuery, view: SnapshotView): Column[] {
  return columnsIn(history, snapshotStep(history, intervalMs, q, view), q.fromMs, q.toMs, MAX_SNAPSHOT_COLUMNS);
}

/** Columns (entries decoded, or roll-ups read) per part of an answer: a few milliseconds of work. */
const DECODE_PART = 128;

/** Held columns in parts, each a turn's work: the entries decoded, the roll-ups as `ofRollup` makes them. */
async function* heldInParts<T>(held: HeldColumns, turns: Turns, ofColumn: (column: Column) => T, ofRollup: (rollup: RollupEntry) => T): AsyncGenerator<T[]> {
  if (held.kind === 'columns') {
    for (let from = 0; from < held.entries.length; from += DECODE_PART) {
      yield decodeEntries(held.entries.slice(from, from + DECODE_PART)).map(ofColumn);
      await turns.pause();
    }
    return;
  }
  for (let from = 0; from < held.rollups.length; from += DECODE_PART) {
    yield held.rollups.slice(from, from + DECODE_PART).map(ofRollup);
    await turns.pause();
  }
  if (held.open) yield [ofColumn(held.open)];
}

/** Held columns decoded a part at a time. */
function decodedColumns(held: HeldColumns, turns: Turns): AsyncGenerator<Column[]> {
  return heldInParts(held, turns, (column) => column, rollupColumn);
}

/** A histogram, sparse: the slots that are not empty and their counts. */
function sparseOf(histogram: Float64Array): { slots: number[]; counts: number[]; total: number } {
  const slots: number[] = [];
  const counts: number[] = [];
  let total = 0;
  for (let slot = 0; slot < SLOTS; slot++) {
    if (histogram[slot] === 0) continue;
    slots.push(slot);
    counts.push(histogram[slot]!);
    total += histogram[slot]!;
  }
  return { slots, counts, total };
}

/** A column's filtered histogram, sparse. */
function sparseHistogram(column: Column, filter: Filter): { slots: number[]; counts: number[]; total: number } {
  return sparseOf(histogramOf(column, filter));
}

/** One column of the JSON /api/columns answer. */
function jsonColumn(column: Pick<Column, 'seq' | 'startMs' | 'intervalMs'>, histogram: Float64Array, unseen: number): string {
  const { slots, counts, total } = sparseOf(histogram);
  return JSON.stringify({ seq: column.seq, startMs: column.startMs, intervalMs: column.intervalMs, total, slots, counts, ...(unseen > 0 ? { unseen } : {}) });
}

/**
 * A column reduced to what a filter looks at: one series, the sum of the matching ones, named so
 * that it matches the filter. It draws the same, at a fraction of the memory a snapshot holds
 * while it is sent.
 */
function filteredColumn(column: Column, filter: Filter): Column {
  const { slots, counts } = sparseHistogram(column, filter);
  const series = { metric: filter.metric, device: filter.devices?.[0] ?? 0, op: filter.ops?.[0] ?? OPS[0], slots, counts };
  return { seq: column.seq, startMs: column.startMs, intervalMs: column.intervalMs, series: slots.length > 0 ? [series] : [] };
}

function sendError(res: Response, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(status).set('Cache-Control', 'no-store').json({ error: message });
}

export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  const { turns, heavy } = deps;
  /** Runs a big answer when its turn comes, or answers 429 when too many wait already. */
  const heavyAnswer = async (res: Response, answer: () => Promise<void>): Promise<void> => {
    if (!(await heavy.enter())) {
      res.set('Retry-After', String(RETRY_AFTER_S));
      return sendError(res, 429, `${heavy.max} large answers are being built and ${heavy.maxWaiting} wait: retry in ${RETRY_AFTER_S} s`);
    }
    try {
      await answer();
    } finally {
      heavy.leave();
    }
  };
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false); // queries are parsed (strictly) by the routes themselves

  /** The query of a request, as the routes see it. */
  const queryOf = (req: Request): URLSearchParams => {
    const q = req.originalUrl.indexOf('?');
    return new URLSearchParams(q < 0 ? '' : req.originalUrl.slice(q + 1));
  };

  app.use((req: Request, res: Response, next: NextFunction) => {
    res.set({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer', // the token may be in the URL
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    if (req.originalUrl.length > MAX_URL_CHARS) return sendError(res, 414, `the URL is longer than ${MAX_URL_CHARS} characters`);
    const verdict = checkRequest(deps.policy, req.headers, req.rawHeaders, queryOf(req), deps.port());
    if (!verdict.ok) return sendError(res, verdict.status, verdict.message);
    if (verdict.setCookie && deps.policy.token) res.append('Set-Cookie', tokenCookie(deps.port(), deps.policy.token));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET, HEAD');
      return sendError(res, 405, `${req.method.slice(0, 20)} is not allowed: the dashboard is read-only`);
    }
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').type('text/plain').send('ok\n');
  });

  app.get('/metrics', serveMetrics(deps.metrics));

  const bundle = deps.bundle;
  if (!bundle) app.use((req, res) => sendError(res, 404, `${req.path.slice(0, 80)}: this is a headless exporter (bpfheat --exporter), serving /metrics and /healthz only`));

  app.get('/api/meta', (_req, res) => {
    const h = deps.history;
    const oldest = h.size > 0 ? h.at(0) : null;
    const newest = h.size > 0 ? h.at(h.size - 1) : null;
    res.set('Cache-Control', 'no-store').json({
      protocolVersion: PROTOCOL_VERSION,
      source: deps.source.kind,
      host: deps.stream.hello().host,
      intervalMs: deps.source.intervalMs,
      scheme: BUCKET_SCHEME,
      devices: deps.source.devices(),
      ops: OPS,
      metrics: METRICS,
      user: deps.runAs(),
      pid: process.pid,
      listen: { address: deps.listen, port: deps.port(), tokenRequired: deps.policy.token !== null },
      history: {
        capacity: h.capacity,
        columns: h.size,
        bytes: h.bytes,
        oldestSeq: h.oldestSeq,
        newestSeq: h.newestSeq,
        fromMs: oldest?.startMs ?? null,
        toMs: newest ? newest.startMs + newest.intervalMs : null,
        // the roll-ups beside the columns, each bounded by its capacity
        levels: h.levels.map((level) => ({
          stepMs: level.stepMs,
          capacity: level.ring.capacity,
          columns: level.ring.size,
          bytes: level.bytes,
          fromMs: level.span()?.fromMs ?? null,
          toMs: level.span()?.toMs ?? null,
        })),
        totalBytes: h.totalBytes,
      },
      clients: deps.stream.stats(),
      http: { connections: deps.connections(), heavyAnswers: heavy.running, waitingAnswers: heavy.queued, maxHeavyAnswers: heavy.max, maxWaitingAnswers: heavy.maxWaiting },
      memory: process.memoryUsage(),
      selfStatsRequested: deps.selfStatsRequested,
      selfStats: deps.source.selfStats(),
      exemplars: {
        held: deps.stream.exemplars.size,
        capacity: deps.stream.exemplars.capacity,
        capture: deps.source.exemplarCapture?.() ?? null,
      },
    });
  });

  app.get('/api/columns', async (req, res) => {
    const query = queryOf(req);
    const q = parseRangeQuery(query, COLUMNS_PARAMS, deps.source.devices(), deps.history, deps.source.intervalMs);
    const format = single(query, 'format') ?? 'json';
    if (format !== 'json' && format !== 'packed') bad(`"format" must be json or packed, got "${format.slice(0, 40)}"`);
    const stepMs = deps.history.answerStep(deps.source.intervalMs, q.toMs - q.fromMs, q.stepMs, q.widthCss);
    checkCount(deps.history, stepMs, q.fromMs, q.toMs, MAX_QUERY_COLUMNS);
    // taken once the answer's turn comes: a request waiting for it holds nothing
    const held = (): HeldColumns => deps.history.heldAt(stepMs, q.fromMs, q.toMs);
    if (format === 'packed') {
      // Whole columns, so the page filters locally: only the series of the devices, ops and metric named.
      const keep: PackedSeriesFilter = (metric, device, op) => (!query.has('metric') || metric === q.metric) && (!q.devices || q.devices.includes(device)) && (!q.ops || q.ops.includes(op));
      await heavyAnswer(res, async () => {
        const taken = held();
        const parts: PackedRange[] = [];
        for (const part of packedParts(taken, DECODE_PART)) {
          parts.push(part);
          await turns.pause();
        }
        // the seq read with the columns taken: one recorded while the answer is built is in neither.
        // The join copies in one piece, longer than a turn's budget: 28-56 ms for a week's 10,000
        // roll-ups (bench/history-answer.ts).
        const packed = joinPackedColumns(parts, stepMs, taken.throughSeq, keep);
        res.set({ 'Cache-Control': 'no-store', 'Content-Type': PACKED_CONTENT_TYPE });
        await streamAnswer(res, [Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength)], { turns });
      });
      return;
    }
    const filter = { metric: q.metric, devices: q.devices, ops: q.ops };
    const allDevices = deps.source.devices();
    const head = {
      source: deps.source.kind,
      host: deps.stream.hello().host,
      intervalMs: deps.source.intervalMs,
      step: stepMs,
      scheme: BUCKET_SCHEME,
      from: q.fromMs,
      to: q.toMs,
      metric: q.metric,
      unit: METRIC_UNIT[q.metric],
      devices: q.devices ? allDevices.filter((d) => q.devices!.includes(d.id)) : allDevices,
      ops: q.ops ?? OPS,
    };
    async function* parts(): AsyncGenerator<string> {
      yield `${JSON.stringify(head).slice(0, -1)},"columns":[`;
      let separator = '';
      const ofColumn = (column: Column): string => jsonColumn(column, histogramOf(column, filter), unseenOf(column, filter));
      const ofRollup = (rollup: RollupEntry): string => jsonColumn(rollup, packedHistogramOf(rollup.chunk.packed(), rollup.index, filter), unseenOf(rollup, filter));
      for await (const columns of heldInParts(held(), turns, ofColumn, ofRollup)) {
        let part = '';
        for (const column of columns) {
          part += separator + column;
          separator = ',';
        }
        yield part;
      }
      yield ']}';
    }
    await heavyAnswer(res, async () => {
      res.set('Cache-Control', 'no-store').type('application/json; charset=utf-8');
      await streamAnswer(res, parts(), { turns });
    });
  });

  app.get('/api/snapshot.svg', async (req, res) => {
    const q = parseRangeQuery(queryOf(req), SNAPSHOT_PARAMS, deps.source.devices(), deps.history, deps.source.intervalMs);
    const view = snapshotView({
      fromMs: q.fromMs,
      toMs: q.toMs,
      filter: { metric: q.metric, devices: q.devices, ops: q.ops },
      host: deps.stream.hello().host,
      source: deps.source.kind,
      devices: deps.source.devices(),
      ...(q.widthCss ? { widthCss: q.widthCss } : {}),
      ...(q.heightCss ? { heightCss: q.heightCss } : {}),
    });
    const stepMs = snapshotStep(deps.history, deps.source.intervalMs, q, view);
    checkCount(deps.history, stepMs, q.fromMs, q.toMs, MAX_SNAPSHOT_COLUMNS);
    async function* parts(): AsyncGenerator<string> {
      const columns: Column[] = [];
      for await (const part of decodedColumns(deps.history.heldAt(stepMs, q.fromMs, q.toMs), turns)) for (const column of part) columns.push(filteredColumn(column, view.filter));
      yield* heatmapSvgParts(columns, view);
    }
    await heavyAnswer(res, async () => {
      res.set({
        'Cache-Control': 'no-store',
        'Content-Type': 'image/svg+xml; charset=utf-8',
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
        'Content-Disposition': `inline; filename="${exportFileName(view)}"`,
      });
      await streamAnswer(res, parts(), { turns });
    });
  });

  app.get('/api/exemplars', async (req, res) => {
    const query = queryOf(req);
    const q = parseRangeQuery(query, EXEMPLAR_PARAMS, deps.source.devices(), deps.history, deps.source.intervalMs);
    const latMinNs = wholeNumber(query, 'lat_min', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const latMaxNs = wholeNumber(query, 'lat_max', 0, Number.MAX_SAFE_INTEGER) ?? Number.MAX_SAFE_INTEGER;
    if (latMaxNs < latMinNs) bad(`"lat_max" (${latMaxNs}) must not be below "lat_min" (${latMinNs})`);
    const sizeMinBytes = wholeNumber(query, 'size_min', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const sizeMaxBytes = wholeNumber(query, 'size_max', 0, Number.MAX_SAFE_INTEGER) ?? Number.MAX_SAFE_INTEGER;
    if (sizeMaxBytes < sizeMinBytes) bad(`"size_max" (${sizeMaxBytes}) must not be below "size_min" (${sizeMinBytes})`);
    const orderText = single(query, 'order');
    const order = orderText === null ? DEFAULT_EXEMPLAR_ORDER : (EXEMPLAR_ORDERS.find((o) => o === orderText) ?? bad(`"order" must be one of ${EXEMPLAR_ORDERS.join(', ')}, got "${orderText.slice(0, 40)}"`));
    const limit = wholeNumber(query, 'limit', 0, MAX_EXEMPLAR_LIMIT) ?? DEFAULT_EXEMPLAR_LIMIT;
    const region = { fromMs: q.fromMs, toMs: q.toMs, latMinNs, latMaxNs, sizeMinBytes, sizeMaxBytes, devices: q.devices, ops: q.ops };
    checkCount(deps.history, deps.source.intervalMs, q.fromMs, q.toMs, MAX_QUERY_COLUMNS);
    await heavyAnswer(res, async () => {
      const store = deps.stream.exemplars;
      const answer = store.query(region, limit, order);
      const completeFromMs = store.completeFromMs(region);
      let dropped = 0;
      for await (const part of decodedColumns(deps.history.heldAt(deps.source.intervalMs, q.fromMs, q.toMs), turns)) dropped += droppedIn(part, region);
      const names = new Map(deps.source.devices().map((d) => [d.id, d.name]));
      const body = JSON.stringify({
        source: deps.source.kind,
        host: deps.stream.hello().host,
        from: q.fromMs,
        to: q.toMs,
        latMinNs,
        latMaxNs,
        sizeMinBytes,
        sizeMaxBytes,
        order,
        matched: answer.matched,
        truncated: answer.matched > answer.exemplars.length,
        dropped,
        completeFromMs: Number.isFinite(completeFromMs) ? completeFromMs : null,
        exemplars: answer.exemplars.map((e) => ({ ...e, deviceName: names.get(e.device) ?? `dev${e.device}` })),
      });
      res.set('Cache-Control', 'no-store').type('application/json; charset=utf-8');
      await streamAnswer(res, [body], { turns });
    });
  });

  app.use('/api', (req, res) => sendError(res, 404, `no such API: ${req.path.slice(0, 80)} (try /api/meta, /api/columns, /api/snapshot.svg, /api/exemplars)`));

  // The client: its files, and index.html for any other page path (the view lives in the URL).
  if (bundle) {
    app.get('/{*splat}', (req, res) => {
      const file = bundle.files.get(req.path);
      if (file) {
        res.set({ 'Content-Type': file.contentType, 'Cache-Control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache' }).send(file.body);
        return;
      }
      if (/\.[A-Za-z0-9]+$/.test(req.path)) return sendError(res, 404, `no such file: ${req.path.slice(0, 80)}`);
      res.set({ 'Content-Type': bundle.index.contentType, 'Cache-Control': 'no-cache' }).send(bundle.index.body);
    });
  }

  // Errors: a bad query is the client's (400); anything else is ours, said without a stack.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof QueryError) return sendError(res, 400, error.message);
    const status = typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' ? error.status : 500;
    if (status >= 400 && status < 500) return sendError(res, status, 'the request could not be read');
    // Ours: the operator gets one line on stderr, the client no details.
    process.stderr.write(`bpfheat: internal error answering ${req.method} ${req.path.slice(0, 80)}: ${error instanceof Error ? error.message : String(error)}\n`);
    sendError(res, 500, 'internal error');
  });

  return app;
}
