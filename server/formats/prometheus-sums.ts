/**
 * Reading a fleet's sum from Prometheus, exactly, for a tenth of the reading.
 *
 * Prometheus can sum native histograms over hosts itself (`sum by (device, op)`), and the
 * difference of two such sums is the sum of the per-series differences as long as, between the
 * two steps, no series restarted, none vanished and none came back after an absence. Those
 * events are found from float series, one float per series and step where the sums have a whole
 * histogram: `histogram_count` of every series of each metric (a count that drops, or a series
 * that vanishes or returns) and one `bpfheat_start_time_seconds` gauge per host (a new value is
 * a restart, even one whose counts did not drop). Only the steps where one of them happened, or
 * where a difference of the sums has a negative bucket, are read series by series and
 * differenced as the per-host path does (stepCounts).
 */
import { OPS, SLOTS, type Metric, type Op } from '../../shared/scheme.ts';
import { countsOfHistogram, labelKey, matcherTexts, matrixResult, QueryAnswerError, targetKey, type SeriesSamples } from './prometheus-query.ts';
import { HISTOGRAM_NAMES } from './exposition.ts';
import { scanHistogramMatrix } from './prometheus-scan.ts';

/** The gauge each exporter sets to the time its counts began (exposition.ts). */
export const START_TIME_METRIC = 'bpfheat_start_time_seconds';

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
  /** every series ever seen, with the start time of the process its last value came from (when its exporter had said one) */
  readonly valueStarts: ReadonlyMap<string, number>;
}

export const NO_PRESENCE: Presence = { timeMs: null, counts: new Map(), lastSeenMs: new Map(), starts: new Map(), valueStarts: new Map() };

/** A step whose sums' difference is not exact: it is read series by series. */
export interface IrregularStep {
  readonly timeMs: number;
  /** series whose value at this step is the first of a new process: counted from 0 */
  readonly restarted: ReadonlySet<string>;
  /** series absent at the step before, seen earlier, of the same process: the step they were last present at */
  readonly resumed: ReadonlyMap<string, number>;
}

/** A series' whole cumulative histogram at a step, where the caller has it (undefined where not). */
export type HistogramAt = (key: string, timeMs: number) => Float64Array | undefined;

/** The steps at which some exporter's start time changed: where a series' value may be the same total of other buckets. */
export function startChanges(presence: Presence, stepTimes: readonly number[], starts: readonly FloatSeries[]): number[] {
  const startOf = new Map(presence.starts);
  const changes: number[] = [];
  for (const timeMs of stepTimes) {
    let changed = false;
    for (const s of starts) {
      const value = s.values.get(timeMs);
      if (value === undefined) continue;
      const target = targetKey(s.labels);
      if (startOf.has(target) && startOf.get(target) !== value) changed = true;
      startOf.set(target, value);
    }
    if (changed) changes.push(timeMs);
  }
  return changes;
}

function sameCounts(a: Float64Array, b: Float64Array): boolean {
  return a.every((count, slot) => count === b[slot]);
}

/**
 * Walks the steps (ascending, each one after presence.timeMs) and finds the irregular ones:
 * a series present at the step before and absent now or with a lower count, a series back after
 * an absence, or the first new value of a series whose exporter's start time is not the one its
 * last value came from. That last one is remembered per series across reads, so a series that
 * was gone longer than Prometheus's lookback when its exporter came back as a new process is
 * still counted from 0. The gauge can change steps before a series does (until then Prometheus
 * repeats the old process's last value): a series' value is new when its histogram differs from
 * the step before's, where `histogramAt` has both (a new process's first total can equal the old
 * one's, in other buckets), else when its total does. `countSeries` are histogram_count series
 * (parseCountMatrix, countSeriesOf), `starts` the start-time gauges.
 */
export function irregularSteps(
  presence: Presence,
  stepTimes: readonly number[],
  countSeries: readonly CountSeries[],
  starts: readonly FloatSeries[],
  histogramAt: HistogramAt = () => undefined,
): { irregular: IrregularStep[]; presence: Presence } {
  const startSeries = starts.map((s) => ({ target: targetKey(s.labels), values: s.values }));
  let previous = presence.counts;
  let previousMs = presence.timeMs;
  const lastSeenMs = new Map(presence.lastSeenMs);
  const startOf = new Map(presence.starts);
  const valueStarts = new Map(presence.valueStarts);
  const irregular: IrregularStep[] = [];
  const moved = (key: string, timeMs: number, count: number, before: number): boolean => {
    const now = histogramAt(key, timeMs);
    const then = previousMs === null ? undefined : histogramAt(key, previousMs);
    return now && then ? !sameCounts(now, then) : count !== before;
  };
  for (const timeMs of stepTimes) {
    for (const s of startSeries) {
      const value = s.values.get(timeMs);
      if (value !== undefined) startOf.set(s.target, value);
    }
    const now = new Map<string, number>();
    const restarted = new Set<string>();
    const resumed = new Map<string, number>();
    for (const s of countSeries) {
      const count = s.values.get(timeMs);
      if (count === undefined) continue;
      now.set(s.key, count);
      const before = previous.get(s.key);
      const start = startOf.get(s.target);
      const valueStart = valueStarts.get(s.key);
      if (start !== undefined && valueStart !== undefined && start !== valueStart && (before === undefined || moved(s.key, timeMs, count, before))) {
        restarted.add(s.key);
      } else {
        const seen = lastSeenMs.get(s.key);
        if (before === undefined && seen !== undefined) resumed.set(s.key, seen);
      }
      if (start !== undefined && (valueStart === undefined || restarted.has(s.key))) valueStarts.set(s.key, start);
    }
    let changed = false;
    for (const [key, count] of previous) {
      const current = now.get(key);
      if (current === undefined || current < count) changed = true;
    }
    if (changed || restarted.size > 0 || resumed.size > 0) irregular.push({ timeMs, restarted, resumed });
    for (const key of now.keys()) lastSeenMs.set(key, timeMs);
    previous = now;
    previousMs = timeMs;
  }
  return { irregular, presence: { timeMs: previousMs, counts: previous, lastSeenMs, starts: startOf, valueStarts } };
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
 * the first, by sumKey; the sums at the last step are returned for the next call. A step where
 * any difference has a negative bucket is left out and named in `inexact`: some series restarted
 * there that the counts did not show (its total grew, a bucket dropped), so it is read series by
 * series.
 */
export function differencedSums(
  sums: readonly SumSeries[],
  stepTimes: readonly number[],
  skip: ReadonlySet<number>,
  before: ReadonlyMap<string, Float64Array>,
): { steps: SummedStep[]; inexact: Set<number>; last: Map<string, Float64Array> } {
  const steps: SummedStep[] = [];
  const inexact = new Set<number>();
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
          if (counts[slot]! < 0) inexact.add(timeMs);
        }
        if (any) steps.push({ metric: s.metric, device: s.device, op: s.op, timeMs, counts });
      }
      previous = current;
    }
    if (previous) last.set(key, previous);
  }
  return { steps: steps.filter((step) => !inexact.has(step.timeMs)), inexact, last };
}

export function sumKey(metric: Metric, device: string, op: Op): string {
  return `${metric}/${device}/${op}`;
}

/** Labels the histograms have and the start-time gauge has not. */
const SERIES_LABELS = new Set(['device', 'op']);

/**
 * The selector of one metric's histograms (or the start-time gauges) within --match and the
 * --host values (escaped for a regex). The gauge is one per exporter: a --match on device or op
 * chooses among its histograms, not among exporters, so it is left out of the gauge's selector.
 */
export function metricSelector(metric: Metric | typeof START_TIME_METRIC, match: string | null, hostLabel: string, hosts: readonly string[]): string {
  const name = metric === START_TIME_METRIC ? metric : HISTOGRAM_NAMES[metric];
  const inner = matcherTexts(match, (m) => metric !== START_TIME_METRIC || !SERIES_LABELS.has(m.label));
  const matchers = [`__name__="${name}"`, ...inner, ...(hosts.length > 0 ? [hostMatcher(hostLabel, hosts)] : [])];
  return `{${matchers.join(',')}}`;
}

/** hostLabel=~"a|b" for exactly those values. */
export function hostMatcher(hostLabel: string, hosts: readonly string[]): string {
  const alternatives = hosts.map((h) => h.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`)).join('|');
  return `${hostLabel}=~${JSON.stringify(alternatives)}`;
}
