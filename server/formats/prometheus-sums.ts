/**
 * Reading a fleet's sum from Prometheus, exactly, for a tenth of the reading.
 *
 * Prometheus can sum native histograms over hosts itself (`sum by (device, op)`), and the
 * difference of two such sums is the sum of the per-series differences as long as, between the
 * two steps, no series restarted, none vanished and none came back after an absence. Those
 * events are found from two cheap float series per host: `histogram_count` of every series (a
 * count that drops, or a series that vanishes or returns) and `bpfheat_start_time_seconds` (a
 * new value is a restart, even one whose counts did not drop). Only the steps where one of them
 * happened are read series by series and differenced as the per-host path does (stepCounts).
 */
import { OPS, SLOTS, type Metric, type Op } from '../../shared/scheme.ts';
import { countsOfHistogram, labelKey, QueryAnswerError, targetKey, type SeriesSamples } from './prometheus-query.ts';
import { HISTOGRAM_NAMES } from './exposition.ts';
import { scanHistogramMatrix } from './prometheus-scan.ts';

/** The gauge each exporter sets to the time its counts began (exposition.ts). */
export const START_TIME_METRIC = 'bpfheat_start_time_seconds';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matrixResult(answer: unknown): Record<string, unknown>[] {
  if (!isRecord(answer) || answer.status !== 'success' || !isRecord(answer.data)) {
    throw new QueryAnswerError(isRecord(answer) && typeof answer.error === 'string' ? answer.error.slice(0, 300) : 'not a query API answer');
  }
  if (answer.data.resultType !== 'matrix' || !Array.isArray(answer.data.result)) throw new QueryAnswerError('the answer is not a range of samples (resultType matrix)');
  return (answer.data.result as unknown[]).map((item) => {
    if (!isRecord(item) || !isRecord(item.metric)) throw new QueryAnswerError('a series of the answer has no labels');
    return item;
  });
}

function timeMsOf(pair: unknown): number {
  if (!Array.isArray(pair) || pair.length !== 2) throw new QueryAnswerError('a sample is not [time, value]');
  return Math.round(Number(pair[0]) * 1000);
}

/** One float series of a query_range answer: its labels and its value at each step it has one. */
export interface FloatSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly values: ReadonlyMap<number, number>;
}

/** The float series of a query_range answer (`values`, not `histograms`). */
export function parseFloatMatrix(answer: unknown): FloatSeries[] {
  return matrixResult(answer).map((item) => {
    const values = new Map<number, number>();
    for (const pair of (Array.isArray(item.values) ? item.values : []) as unknown[]) values.set(timeMsOf(pair), Number((pair as unknown[])[1]));
    return { labels: item.metric as Record<string, string>, values };
  });
}

/** One series' histogram_count at each step it has one, keyed as the histograms are (labelKey, targetKey). */
export interface CountSeries {
  readonly key: string;
  readonly target: string;
  readonly values: ReadonlyMap<number, number>;
}

/** The histogram_count series of one metric's histograms, keyed with the histograms' name (the function drops it). */
export function parseCountMatrix(answer: unknown, metric: Metric): CountSeries[] {
  return parseFloatMatrix(answer).map((s) => {
    const labels = { ...s.labels, __name__: HISTOGRAM_NAMES[metric] };
    return { key: labelKey(labels), target: targetKey(labels), values: s.values };
  });
}

/** The total count of each sample of histograms already read, as parseCountMatrix gives it. */
export function countSeriesOf(series: readonly SeriesSamples[]): CountSeries[] {
  return series.map((s) => ({ key: s.key, target: s.target, values: new Map(s.samples.map((sample) => [sample.timeMs, sample.counts.reduce((a, b) => a + b, 0)])) }));
}

/** A fleet sum of one metric per (device, op), at each step. */
export interface SumSeries {
  readonly metric: Metric;
  readonly device: string;
  readonly op: Op;
  readonly values: ReadonlyMap<number, Float64Array>;
}

/** The sums of a `sum by (device, op)` query_range answer's text (read as prometheus-scan.ts reads, or in full when off its shape). */
export function parseSumMatrixText(text: string, metric: Metric): SumSeries[] {
  const scanned = scanHistogramMatrix(text, '', () => metric);
  if (scanned === null) return parseSumMatrix(JSON.parse(text) as unknown, metric);
  return scanned.map((s) => ({ metric, device: s.device, op: s.op, values: new Map(s.samples.map((sample) => [sample.timeMs, sample.counts])) }));
}

/** The sums of a `sum by (device, op)` query_range answer of one metric's histograms. */
export function parseSumMatrix(answer: unknown, metric: Metric): SumSeries[] {
  return matrixResult(answer).map((item) => {
    const labels = item.metric as Record<string, string>;
    const values = new Map<number, Float64Array>();
    for (const pair of (Array.isArray(item.histograms) ? item.histograms : []) as unknown[]) values.set(timeMsOf(pair), countsOfHistogram((pair as unknown[])[1]));
    return { metric, device: labels.device ?? '', op: OPS.find((o) => o === labels.op) ?? 'other', values };
  });
}

/** What is known of every series and exporter at the last step classified. */
export interface Presence {
  /** the step the state is of; null before the first */
  readonly timeMs: number | null;
  /** series present at that step, with their histogram_count */
  readonly counts: ReadonlyMap<string, number>;
  /** every series ever seen, with the last step it was present at */
  readonly lastSeenMs: ReadonlyMap<string, number>;
  /** each exporter's start time at the last step it had one */
  readonly starts: ReadonlyMap<string, number>;
  /** series of a restarted exporter whose count has not moved since: their next value is the new process's first */
  readonly awaitingRestart: ReadonlySet<string>;
}

export const NO_PRESENCE: Presence = { timeMs: null, counts: new Map(), lastSeenMs: new Map(), starts: new Map(), awaitingRestart: new Set() };

/** A step whose sums' difference is not exact: it is read series by series. */
export interface IrregularStep {
  readonly timeMs: number;
  /** series whose value at this step is the first of a new process: counted from 0 */
  readonly restarted: ReadonlySet<string>;
  /** series absent at the step before, seen earlier: the step they were last present at */
  readonly resumed: ReadonlyMap<string, number>;
}

/**
 * Walks the steps (ascending, each one after presence.timeMs) and finds the irregular ones:
 * a series present at the step before and absent now or with a lower count, a series back after
 * an absence, or the first new value of a series whose exporter's start time changed (the gauge
 * can change steps before a series does: until then Prometheus repeats the old process's last
 * value). `countSeries` are histogram_count series (parseCountMatrix, countSeriesOf), `starts` the
 * start-time gauges.
 */
export function irregularSteps(presence: Presence, stepTimes: readonly number[], countSeries: readonly CountSeries[], starts: readonly FloatSeries[]): { irregular: IrregularStep[]; presence: Presence } {
  const startSeries = starts.map((s) => ({ target: targetKey(s.labels), values: s.values }));
  let previous = presence.counts;
  const lastSeenMs = new Map(presence.lastSeenMs);
  const startOf = new Map(presence.starts);
  const awaiting = new Set(presence.awaitingRestart);
  const irregular: IrregularStep[] = [];
  for (const timeMs of stepTimes) {
    const now = new Map<string, number>();
    for (const s of countSeries) {
      const value = s.values.get(timeMs);
      if (value !== undefined) now.set(s.key, value);
    }
    const restartedTargets = new Set<string>();
    for (const s of startSeries) {
      const value = s.values.get(timeMs);
      if (value === undefined) continue;
      const before = startOf.get(s.target);
      if (before !== undefined && before !== value) restartedTargets.add(s.target);
      startOf.set(s.target, value);
    }
    for (const s of countSeries) if (restartedTargets.has(s.target) && previous.has(s.key)) awaiting.add(s.key);
    const restarted = new Set<string>();
    let changed = false;
    for (const [key, count] of now) {
      const before = previous.get(key);
      if (awaiting.has(key) && count !== before) {
        restarted.add(key);
        awaiting.delete(key);
      }
    }
    for (const [key, count] of previous) {
      const current = now.get(key);
      if (current === undefined || current < count) changed = true;
    }
    const resumed = new Map<string, number>();
    for (const key of now.keys()) {
      const seen = lastSeenMs.get(key);
      if (!previous.has(key) && seen !== undefined) resumed.set(key, seen);
    }
    if (changed || restarted.size > 0 || resumed.size > 0) irregular.push({ timeMs, restarted, resumed });
    for (const key of now.keys()) lastSeenMs.set(key, timeMs);
    previous = now;
  }
  return { irregular, presence: { timeMs: stepTimes.at(-1) ?? presence.timeMs, counts: previous, lastSeenMs, starts: startOf, awaitingRestart: awaiting } };
}

/** A fleet cell's count at one step: the sum of its histograms' differences. */
export interface SummedStep {
  readonly metric: Metric;
  readonly device: string;
  readonly op: Op;
  readonly timeMs: number;
  readonly counts: Float64Array;
}

/**
 * The regular steps' counts: each sum minus the same (metric, device, op)'s sum at the step
 * before (0 when it had none: its series are new). `before` holds the sums at the step before
 * the first, by sumKey; the sums at the last step are returned for the next call.
 */
export function differencedSums(
  sums: readonly SumSeries[],
  stepTimes: readonly number[],
  skip: ReadonlySet<number>,
  before: ReadonlyMap<string, Float64Array>,
): { steps: SummedStep[]; last: Map<string, Float64Array> } {
  const steps: SummedStep[] = [];
  const last = new Map<string, Float64Array>();
  for (const s of sums) {
    const key = sumKey(s.metric, s.device, s.op);
    let previous = before.get(key) ?? null;
    for (const timeMs of stepTimes) {
      const current = s.values.get(timeMs) ?? null;
      if (current && !skip.has(timeMs)) {
        const counts = new Float64Array(SLOTS);
        let any = false;
        for (let slot = 0; slot < SLOTS; slot++) {
          counts[slot] = current[slot]! - (previous?.[slot] ?? 0);
          if (counts[slot] !== 0) any = true;
        }
        if (any) steps.push({ metric: s.metric, device: s.device, op: s.op, timeMs, counts });
      }
      previous = current;
    }
    if (previous) last.set(key, previous);
  }
  return { steps, last };
}

export function sumKey(metric: Metric, device: string, op: Op): string {
  return `${metric}/${device}/${op}`;
}

/** The selector of one metric's histograms within --match and the --host values (escaped for a regex). */
export function metricSelector(metric: Metric | typeof START_TIME_METRIC, match: string | null, hostLabel: string, hosts: readonly string[]): string {
  const name = metric === START_TIME_METRIC ? metric : HISTOGRAM_NAMES[metric];
  const inner = match === null ? '' : match.trim().slice(1, -1).trim();
  const matchers = [`__name__="${name}"`, ...(inner ? [inner] : []), ...(hosts.length > 0 ? [hostMatcher(hostLabel, hosts)] : [])];
  return `{${matchers.join(',')}}`;
}

/** hostLabel=~"a|b" for exactly those values. */
export function hostMatcher(hostLabel: string, hosts: readonly string[]): string {
  const alternatives = hosts.map((h) => h.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`)).join('|');
  return `${hostLabel}=~${JSON.stringify(alternatives)}`;
}
