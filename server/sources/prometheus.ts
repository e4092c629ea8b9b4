/**
 * --source prometheus: columns read back from the native histograms bpfheat exporters put into
 * Prometheus, for one host, several, or the whole fleet.
 *
 * A column is a step of the query (the --interval, the exporters' column interval or a multiple
 * of it), holding exact counts: each series' cumulative histogram at the step's end minus the
 * one at its start (prometheus-query.ts), summed per (host, device, op); a series counts from 0
 * again when its count drops or its exporter's bpfheat_start_time_seconds changes. Hosts are the
 * values of the host label (instance unless --host-label names another); each (host, device)
 * pair is one device of the source, named by its device label and carrying its host. Reading a
 * sum (sumHosts: the dashboard, and --sum-hosts), Prometheus sums the hosts and each device is the
 * fleet's (prometheus-sums.ts); forHosts() is the same source reading the sum of fewer hosts, which
 * the dashboard serves to a page that names them (dashboard/hostViews.ts).
 *
 * At start the history is read in chunks (--history back from now), then new steps as
 * Prometheus stores them: a step is read once it is LAG_STEPS steps old, so every exporter's
 * sample for it has been scraped. When Prometheus cannot be read, or holds nothing that matches,
 * the problem is said once (one line, or a banner on the page) and the read is retried with
 * back-off; the source never stops on it.
 */
import type { Column, DeviceInfo, Series } from '../../shared/column.ts';
import { METRICS, OPS, SLOTS, type Metric, type Op } from '../../shared/scheme.ts';
import { classicBucketSelector, CumulativeDiffer, histogramSelector, matrixResult, QueryAnswerError, stepCounts, vectorLength, type SeriesSamples, type SeriesStep } from '../formats/prometheus-query.ts';
import { parseMatrixText } from '../formats/prometheus-scan.ts';
import {
  countSeriesOf,
  differencedSums,
  hostMatcher,
  irregularSteps,
  metricSelector,
  NO_PRESENCE,
  parseCountMatrix,
  parseFloatMatrix,
  parseSumMatrixText,
  START_TIME_METRIC,
  startChanges,
  type IrregularStep,
  type SumSeries,
} from '../formats/prometheus-sums.ts';
import { isLoopback } from '../base/addresses.ts';
import { UserError } from '../base/errors.ts';
import type { ColumnSink, Source } from './source.ts';

/** Steps one query_range asks for: far below Prometheus's 11,000 points per series, and an answer of a few MB (a 720-step answer of 40 series was 98 MB of JSON) */
export const CHUNK_STEPS = 120;
/** Steps one summed query asks for: its answer is a host's worth of series, not the fleet's */
const SUMMED_CHUNK_STEPS = 720;
/** Chunks asked for at once: Prometheus computes the next answer (on another core) while one is read */
const IN_FLIGHT = 2;
/** A step is read once it is this many steps old (and at least LAG_MIN_MS), so the scrapes of every host are in. */
const LAG_STEPS = 2;
const LAG_MIN_MS = 2000;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;
const QUERY_TIMEOUT_MS = 30_000;

export interface PrometheusOptions {
  /** the Prometheus server, e.g. http://prometheus:9090 */
  readonly url: string;
  /** a series selector choosing the hosts, e.g. {job="db"}; null for every bpfheat */
  readonly match: string | null;
  /** the label that tells hosts apart */
  readonly hostLabel: string;
  /** only these hosts (values of the host label); empty for all */
  readonly hosts: readonly string[];
  /** read the hosts' sum as Prometheus computes it (prometheus-sums.ts): no host apart, a tenth of the reading for ten */
  readonly sumHosts: boolean;
  readonly intervalMs: number;
  /** how far back the history is read */
  readonly historyMs: number;
  /** one line per problem (and null when it is over), besides the sink's banner; default: stderr */
  readonly report?: (problem: string | null) => void;
  /** wall clock in ms; tests may pass their own */
  readonly now?: () => number;
}

interface Cell {
  readonly host: string;
  readonly device: string;
  readonly metric: Metric;
  readonly op: Op;
}

/** Sums series steps into one column per step end, over [fromEndMs, toEndMs] (every step, empty ones too). */
export function columnsOfSteps(steps: readonly SeriesStep[], fromEndMs: number, toEndMs: number, intervalMs: number, deviceId: (cell: Cell) => number): Column[] {
  const byEnd = new Map<number, Map<string, { metric: Metric; device: number; op: Op; counts: Float64Array }>>();
  for (const step of steps) {
    let cells = byEnd.get(step.timeMs);
    if (!cells) byEnd.set(step.timeMs, (cells = new Map()));
    const device = deviceId(step);
    const key = `${step.metric}/${device}/${step.op}`;
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { metric: step.metric, device, op: step.op, counts: new Float64Array(SLOTS) }));
    for (let slot = 0; slot < SLOTS; slot++) cell.counts[slot]! += step.counts[slot]!;
  }
  const columns: Column[] = [];
  for (let endMs = fromEndMs; endMs <= toEndMs; endMs += intervalMs) {
    const cells = [...(byEnd.get(endMs)?.values() ?? [])].sort((a, b) => a.device - b.device || OPS.indexOf(a.op) - OPS.indexOf(b.op) || a.metric.localeCompare(b.metric));
    const series: Series[] = cells.map((cell) => {
      const slots: number[] = [];
      const counts: number[] = [];
      cell.counts.forEach((count, slot) => {
        if (count > 0) {
          slots.push(slot);
          counts.push(count);
        }
      });
      return { metric: cell.metric, device: cell.device, op: cell.op, slots, counts };
    });
    const startMs = endMs - intervalMs;
    columns.push({ seq: startMs / intervalMs, startMs, intervalMs, series });
  }
  return columns;
}

/**
 * The Accept-Encoding for a Prometheus at `url`: on this machine gzip costs Prometheus and us CPU
 * to save no time on the wire (the benchmark's per-host read took 17 s gzipped, 7.7 s not);
 * across a network it shrinks an answer ten-fold.
 */
export function answerEncoding(url: string): 'identity' | 'gzip' {
  return isLoopback(new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')) ? 'identity' : 'gzip';
}

/**
 * The reads of `count` chunks, each started once `inFlight` chunks before its turn: read(k) is
 * asked for when chunk k - inFlight + 1 is awaited. A failed read ahead is reported when its turn
 * comes, not as an unhandled rejection.
 */
export function readingAhead<T>(count: number, inFlight: number, read: (k: number) => Promise<T>): (k: number) => Promise<T> {
  const started = new Map<number, Promise<T>>();
  return (k) => {
    for (let j = k; j < Math.min(count, k + inFlight); j++) {
      if (started.has(j)) continue;
      const reading = read(j);
      reading.catch(() => {});
      started.set(j, reading);
    }
    const reading = started.get(k)!;
    started.delete(k);
    return reading;
  };
}

/** A query_range call's parameters; times and the step in seconds as plain numbers (Prometheus refuses a duration like "0.5s"). */
export function queryRangeParams(query: string, startMs: number, endMs: number, stepMs: number): URLSearchParams {
  return new URLSearchParams({ query, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepMs / 1000) });
}

/** One line for a failed read: the cause, and what to do about it. */
export function describeFailure(error: unknown, url: string): string {
  if (error instanceof QueryAnswerError && /unknown function.*histogram_count/.test(error.message)) {
    return `Prometheus at ${url} has no histogram_count (${error.message.slice(0, 120)}): the hosts' sum (the dashboard's, and --sum-hosts) needs Prometheus 2.40 or later with --enable-feature=native-histograms; --text and --jsonl read hosts apart without it`;
  }
  if (error instanceof QueryAnswerError) return `Prometheus at ${url} refused the query: ${error.message}`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
  return `cannot reach Prometheus at ${url} (${cause.slice(0, 120)}): is it running, and is --prometheus its address?`;
}

/** What reads bpfheat's histograms back: the query, the hosts wanted and the label naming them. */
export type ReaderOptions = Pick<PrometheusOptions, 'url' | 'match' | 'hostLabel' | 'hosts' | 'sumHosts' | 'intervalMs'>;

export interface PrometheusReader {
  /** one device per (host, device) pair seen, in the order first seen */
  readonly devices: readonly DeviceInfo[];
  /** whether any series matched so far */
  readonly seenSeries: boolean;
  /** the hosts seen so far in the fleet's sum (values of the host label; not read per series), sorted */
  hosts(): readonly string[];
  /**
   * Columns of every step ending in (afterEndMs, toEndMs], handed on a chunk at a time. The first
   * read also reads the step ending at afterEndMs, as the baseline the first step is counted from.
   */
  read(afterEndMs: number, toEndMs: number, deliver: (columns: Column[]) => void): Promise<void>;
  /** The line that says why nothing matched: classic histograms, or no series of ours at all. */
  noSeriesProblem(): Promise<string>;
  /** Gives up the query under way. */
  abort(): void;
}

/** A reader of Prometheus's query API, differencing per series (or per fleet sum) across its reads. */
export function createPrometheusReader(options: ReaderOptions, onTableGrew: (devices: readonly DeviceInfo[]) => void = () => {}): PrometheusReader {
  const interval = options.intervalMs;
  const hostSelector = options.hosts.length === 0 ? null : hostMatcher(options.hostLabel, options.hosts);
  /** both histograms of the hosts wanted: --match and --host */
  const selector = histogramSelector(options.match, hostSelector === null ? [] : [hostSelector]);
  const startsSelector = metricSelector(START_TIME_METRIC, options.match, options.hostLabel, options.hosts);
  const base = options.url.replace(/\/+$/, '');
  const differ = new CumulativeDiffer();
  const devices: DeviceInfo[] = [];
  const deviceIds = new Map<string, number>();
  const inFlight = new Set<AbortController>();
  let baselineRead = false;
  let seenSeries = false;
  const hostsSeen = new Set<string>();
  let hostList: readonly string[] = [];

  /**
   * Notes the hosts in an answer of the fleet's sum; a new one is told as the device table is (the
   * page lists hosts beside devices). A series without the host label is in the sum but is no host
   * a page could name (?host= matches the label), so it is not listed.
   */
  function sawHosts(hosts: Iterable<string>): void {
    const before = hostsSeen.size;
    for (const host of hosts) if (host !== '') hostsSeen.add(host);
    if (hostsSeen.size === before) return;
    hostList = [...hostsSeen].sort();
    onTableGrew(devices);
  }

  function deviceId(cell: Cell): number {
    const key = `${cell.host}\u0000${cell.device}`;
    let id = deviceIds.get(key);
    if (id === undefined) {
      id = devices.length;
      deviceIds.set(key, id);
      // summed hosts are no host apart: the device is the fleet's
      devices.push(options.sumHosts ? { id, name: cell.device } : { id, name: cell.device, host: cell.host });
      onTableGrew(devices);
    }
    return id;
  }

  const encoding = answerEncoding(base);

  /** Asks the query API; the answer's text is parsed by `parse` (JSON.parse unless told). */
  async function queryApi<T = unknown>(path: 'query' | 'query_range', params: URLSearchParams, parse: (text: string) => T = (text) => JSON.parse(text) as T): Promise<T> {
    const abort = new AbortController();
    inFlight.add(abort);
    const timeout = setTimeout(() => abort.abort(new Error(`no answer within ${QUERY_TIMEOUT_MS / 1000} s`)), QUERY_TIMEOUT_MS);
    try {
      const response = await fetch(`${base}/api/v1/${path}`, { method: 'POST', body: params, signal: abort.signal, headers: { 'Accept-Encoding': encoding } });
      const text = await response.text();
      try {
        return parse(text);
      } catch (error) {
        if (error instanceof SyntaxError) throw new QueryAnswerError(`HTTP ${response.status}, not the query API's JSON: is ${base} a Prometheus server?`);
        throw error;
      }
    } finally {
      clearTimeout(timeout);
      inFlight.delete(abort);
    }
  }

  /** The query_range calls a read makes, known up front; the first read also asks for the baseline step at afterEndMs. */
  function chunksOf(afterEndMs: number, toEndMs: number, steps: number): { startMs: number; endMs: number }[] {
    const chunks: { startMs: number; endMs: number }[] = [];
    for (let endMs = afterEndMs, first = !baselineRead; endMs < toEndMs; first = false) {
      const startMs = first ? endMs : endMs + interval;
      chunks.push({ startMs, endMs: (endMs = Math.min(toEndMs, startMs + (steps - 1) * interval)) });
    }
    return chunks;
  }

  const rangeParams = (query: string, startMs: number, endMs: number): URLSearchParams => queryRangeParams(query, startMs, endMs, interval);
  const range = (query: string, startMs: number, endMs: number): Promise<unknown> => queryApi('query_range', rangeParams(query, startMs, endMs));
  /** Every series of bpfheat's histograms over a range, read from the answer's text as it arrives (prometheus-scan.ts). */
  const histogramRange = (query: string, startMs: number, endMs: number): Promise<SeriesSamples[]> =>
    queryApi('query_range', rangeParams(query, startMs, endMs), (text) => parseMatrixText(text, options.hostLabel));

  /** what the per-series path knows of restarts at the end of its last read */
  let perSeriesPresence = NO_PRESENCE;

  /** Each series differenced step by step; a series whose exporter's start time changed counts its next new value from 0. */
  async function readPerSeries(afterEndMs: number, toEndMs: number, deliver: (columns: Column[]) => void): Promise<void> {
    const chunks = chunksOf(afterEndMs, toEndMs, CHUNK_STEPS);
    const chunkRead = readingAhead(chunks.length, IN_FLIGHT, (k) =>
      Promise.all([histogramRange(selector, chunks[k]!.startMs, chunks[k]!.endMs), range(startsSelector, chunks[k]!.startMs, chunks[k]!.endMs)]),
    );
    let deliveredEndMs = afterEndMs;
    for (let k = 0; k < chunks.length; k++) {
      const chunk = chunks[k]!;
      const [series, starts] = await chunkRead(k);
      if (series.length > 0) seenSeries = true;
      const histograms = new Map(series.map((s) => [s.key, new Map(s.samples.map((sample) => [sample.timeMs, sample.counts]))]));
      const histogramAt = (key: string, timeMs: number): Float64Array | undefined => histograms.get(key)?.get(timeMs) ?? differ.lastAt(key, timeMs);
      const classified = irregularSteps(perSeriesPresence, stepTimes(chunk), countSeriesOf(series), parseFloatMatrix(starts), histogramAt);
      perSeriesPresence = classified.presence;
      const steps = differ.steps(series, deliveredEndMs, new Map(classified.irregular.map((step) => [step.timeMs, step.restarted])));
      baselineRead = true;
      deliver(columnsOfSteps(steps, deliveredEndMs + interval, chunk.endMs, interval, deviceId));
      deliveredEndMs = chunk.endMs;
    }
  }

  function stepTimes(chunk: { startMs: number; endMs: number }): number[] {
    const times: number[] = [];
    for (let t = chunk.startMs; t <= chunk.endMs; t += interval) times.push(t);
    return times;
  }

  /** what the summed path knows of every series at the end of its last read, and the sums then */
  let presence = NO_PRESENCE;
  let lastSums = new Map<string, Float64Array>();

  type SeriesHistograms = Map<string, { metric: Metric; device: string; op: Op; counts: Float64Array }>;

  /** Every series' cumulative histogram at one step, by series key: each step asked for once per chunk (`cache`). */
  function seriesAt(timeMs: number, cache: Map<number, Promise<SeriesHistograms>>): Promise<SeriesHistograms> {
    let reading = cache.get(timeMs);
    if (!reading) {
      reading = histogramRange(selector, timeMs, timeMs).then((series) => new Map(series.flatMap((s) => s.samples.map((sample) => [s.key, { metric: s.metric, device: s.device, op: s.op, counts: sample.counts }] as const))));
      reading.catch(() => {});
      cache.set(timeMs, reading);
    }
    return reading;
  }

  /** An irregular step's counts, series by series, as the per-host path differences them. */
  async function irregularStep(step: IrregularStep, cache: Map<number, Promise<SeriesHistograms>>): Promise<SeriesStep[]> {
    const [now, before] = await Promise.all([seriesAt(step.timeMs, cache), seriesAt(step.timeMs - interval, cache)]);
    const steps: SeriesStep[] = [];
    for (const [key, s] of now) {
      const resumedAt = step.resumed.get(key);
      const previous = step.restarted.has(key) ? null : (before.get(key) ?? (resumedAt === undefined ? undefined : (await seriesAt(resumedAt, cache)).get(key)))?.counts ?? null;
      steps.push({ metric: s.metric, host: '', device: s.device, op: s.op, timeMs: step.timeMs, counts: stepCounts(previous, s.counts) });
    }
    return steps;
  }

  async function readSummedChunk(chunk: { startMs: number; endMs: number }): Promise<{ sums: SumSeries[][]; counts: unknown[]; starts: unknown }> {
    const selectorOf = (metric: Metric): string => metricSelector(metric, options.match, options.hostLabel, options.hosts);
    const [sums, counts, starts] = await Promise.all([
      Promise.all(METRICS.map((m) => queryApi('query_range', rangeParams(`sum by (device, op) (${selectorOf(m)})`, chunk.startMs, chunk.endMs), (text) => parseSumMatrixText(text, m)))),
      Promise.all(METRICS.map((m) => range(`histogram_count(${selectorOf(m)})`, chunk.startMs, chunk.endMs))),
      range(startsSelector, chunk.startMs, chunk.endMs),
    ]);
    return { sums, counts, starts };
  }

  /** The hosts' sum: Prometheus's sums differenced, and the irregular steps read series by series. */
  async function readSummed(afterEndMs: number, toEndMs: number, deliver: (columns: Column[]) => void): Promise<void> {
    const chunks = chunksOf(afterEndMs, toEndMs, SUMMED_CHUNK_STEPS);
    let deliveredEndMs = afterEndMs;
    const chunkRead = readingAhead(chunks.length, IN_FLIGHT, (k) => readSummedChunk(chunks[k]!));
    for (let k = 0; k < chunks.length; k++) {
      const chunk = chunks[k]!;
      const answers = await chunkRead(k);
      const times = stepTimes(chunk);
      const counts = answers.counts.flatMap((answer, m) => parseCountMatrix(answer, METRICS[m]!));
      if (counts.length > 0) seenSeries = true;
      sawHosts(answers.counts.flatMap((answer) => matrixResult(answer).map((item) => String((item.metric as Record<string, string>)[options.hostLabel] ?? ''))));
      const starts = parseFloatMatrix(answers.starts);
      // where an exporter restarted, whole histograms tell a repeated old value from a new one of the same total
      const cache = new Map<number, Promise<SeriesHistograms>>();
      const restartHistograms = new Map<number, SeriesHistograms>();
      const restartTimes = startChanges(presence, times, starts).flatMap((timeMs) => [timeMs - interval, timeMs]);
      const histogramsRead = await Promise.all(restartTimes.map((timeMs) => seriesAt(timeMs, cache)));
      restartTimes.forEach((timeMs, j) => restartHistograms.set(timeMs, histogramsRead[j]!));
      const classified = irregularSteps(presence, times, counts, starts, (key, timeMs) => restartHistograms.get(timeMs)?.get(key)?.counts);
      const sums = answers.sums.flat();
      const regular = differencedSums(sums, times, new Set(classified.irregular.map((step) => step.timeMs)), lastSums);
      const inexact = [...regular.inexact].map((timeMs): IrregularStep => ({ timeMs, restarted: new Set(), resumed: new Map() }));
      const irregular = [...classified.irregular, ...inexact].filter((step) => step.timeMs > deliveredEndMs);
      const steps: SeriesStep[] = regular.steps.filter((step) => step.timeMs > deliveredEndMs).map((step) => ({ ...step, host: '' }));
      for (const step of irregular) steps.push(...(await irregularStep(step, cache)));
      presence = classified.presence;
      lastSums = regular.last;
      baselineRead = true;
      deliver(columnsOfSteps(steps, deliveredEndMs + interval, chunk.endMs, interval, deviceId));
      deliveredEndMs = chunk.endMs;
    }
  }

  return {
    devices,
    get seenSeries() {
      return seenSeries;
    },
    hosts: () => hostList,
    read: (afterEndMs, toEndMs, deliver) => (options.sumHosts ? readSummed(afterEndMs, toEndMs, deliver) : readPerSeries(afterEndMs, toEndMs, deliver)),
    async noSeriesProblem() {
      const classic = vectorLength(await queryApi('query', new URLSearchParams({ query: classicBucketSelector(options.match) })));
      if (classic > 0) return `Prometheus at ${base} stores bpfheat's histograms as classic ones (_bucket series), not native: restart it with --enable-feature=native-histograms`;
      const hosts = options.hosts.length > 0 ? ` for --host ${options.hosts.join(', ')}` : '';
      return `no bpfheat series in Prometheus at ${base} match ${options.match ?? 'any job'}${hosts}: check --match, and that Prometheus scrapes bpfheat --exporter (README: Many hosts)`;
    },
    abort: () => {
      for (const abort of inFlight) abort.abort(new Error('stopped'));
    },
  };
}

/** What the page and a snapshot name the source: the one host, or the Prometheus and whether its hosts are summed. */
export function prometheusSourceName(options: Pick<ReaderOptions, 'url' | 'hosts' | 'sumHosts'>): string {
  return options.hosts.length === 1 ? options.hosts[0]! : `Prometheus ${options.url.replace(/\/+$/, '')}${options.sumHosts ? ', hosts summed' : ''}`;
}

/** The columns of [fromMs, toMs) read once (bpfheat snapshot); a line naming the problem when nothing matched. */
export async function readPrometheusRange(options: ReaderOptions, fromMs: number, toMs: number): Promise<{ columns: Column[]; devices: readonly DeviceInfo[] }> {
  const interval = options.intervalMs;
  const reader = createPrometheusReader(options);
  const columns: Column[] = [];
  try {
    await reader.read(Math.floor(fromMs / interval) * interval, Math.ceil(toMs / interval) * interval, (chunk) => columns.push(...chunk));
  } catch (error) {
    throw new UserError(describeFailure(error, options.url));
  }
  if (!reader.seenSeries) throw new UserError(await reader.noSeriesProblem());
  return { columns, devices: reader.devices };
}

export function createPrometheusSource(options: PrometheusOptions): Source {
  const now = options.now ?? (() => Date.now());
  const report = options.report ?? ((problem: string | null) => problem && process.stderr.write(`bpfheat: ${problem}\n`));
  const interval = options.intervalMs;
  const base = options.url.replace(/\/+$/, '');
  let sink: ColumnSink | null = null;
  const reader = createPrometheusReader(options, (devices) => sink?.devices?.(devices));
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  /** the end of the newest step delivered; the baseline step before the history at first */
  let deliveredEndMs = Math.floor((now() - options.historyMs) / interval) * interval - interval;
  let retryMs = RETRY_FIRST_MS;
  let currentProblem: string | null = null;

  const lagMs = Math.max(LAG_STEPS * interval, LAG_MIN_MS);

  function setProblem(problem: string | null): void {
    if (problem === currentProblem) return;
    currentProblem = problem;
    report(problem);
    sink?.problem?.(problem);
  }

  /** Reads the steps after deliveredEndMs up to the newest ready one. */
  async function readReady(): Promise<void> {
    const readyEndMs = Math.floor((now() - lagMs) / interval) * interval;
    await reader.read(deliveredEndMs, readyEndMs, (columns) => {
      if (stopped) return;
      for (const column of columns) sink?.column(column);
      deliveredEndMs = columns.at(-1)?.startMs !== undefined ? columns.at(-1)!.startMs + interval : deliveredEndMs;
    });
    if (stopped) return;
    setProblem(reader.seenSeries ? null : `${await reader.noSeriesProblem()}; still looking`);
  }

  async function tick(): Promise<void> {
    timer = null;
    // the next step is ready lagMs after its end: wake then, not before
    let waitMs: number;
    try {
      await readReady();
      retryMs = RETRY_FIRST_MS;
      waitMs = deliveredEndMs + interval + lagMs - now();
    } catch (error) {
      if (stopped) return;
      setProblem(`${describeFailure(error, base)}; retrying in ${Math.round(retryMs / 1000)} s`);
      waitMs = retryMs;
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    }
    if (stopped) return;
    timer = setTimeout(() => void tick(), Math.max(waitMs, 50));
  }

  return {
    kind: 'prometheus',
    intervalMs: interval,
    host: prometheusSourceName(options),
    devices: () => reader.devices,
    selfStats: () => null,
    hosts: () => reader.hosts(),
    // a host view's problems reach its page's banner; on stderr they would repeat the fleet's line once per view
    forHosts: (hosts) => createPrometheusSource({ ...options, hosts, sumHosts: true, report: () => {} }),
    async start(target) {
      if (sink) throw new Error('the prometheus source is already started');
      sink = target;
      void tick();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      reader.abort();
      sink = null;
    },
  };
}
