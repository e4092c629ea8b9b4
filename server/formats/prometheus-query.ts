/**
 * Reading bpfheat's native histograms back from Prometheus: the query API's JSON in, exact
 * per-step counts out.
 *
 * Prometheus stores cumulative counts. `increase()` and `rate()` extrapolate to the window's
 * edges and return fractions, so they are never used: the reader asks for the raw cumulative
 * histogram at aligned times (query_range of a bare selector: the last sample at or before each
 * step), subtracts per series, and only then sums over series. A count that drops is a restart
 * of the exporter: the new cumulative value is the step's count.
 */
import { SLOTS, OPS, METRICS, type Metric, type Op } from '../../shared/scheme.ts';
import { HISTOGRAM_NAMES, slotOfNativeBucket } from './exposition.ts';

/** One series' cumulative slot counts at one step. */
export interface CumulativeSample {
  readonly timeMs: number;
  readonly counts: Float64Array;
}

export interface SeriesSamples {
  /** every label of the series: it is what tells two series apart */
  readonly key: string;
  /** the labels of the exporter it comes from (targetKey): its restarts are the exporter's */
  readonly target: string;
  readonly metric: Metric;
  readonly host: string;
  readonly device: string;
  readonly op: Op;
  readonly samples: readonly CumulativeSample[];
}

export class QueryAnswerError extends Error {}

/** Labels that tell one exporter (target) apart from another: all but these. */
const NOT_TARGET_LABELS = new Set(['__name__', 'device', 'op']);

/** A series' labels as one string: its identity. */
export function labelKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels).sort().map((name) => `${name}=${labels[name]}`).join(',');
}

/** The labels of the exporter a series comes from, as one string. */
export function targetKey(labels: Readonly<Record<string, string>>): string {
  return labelKey(Object.fromEntries(Object.entries(labels).filter(([name]) => !NOT_TARGET_LABELS.has(name))));
}


const NAMES = new Map<string, Metric>(METRICS.map((m) => [HISTOGRAM_NAMES[m], m]));

/** Which of bpfheat's histograms a series name is, if any. */
export function histogramMetricOf(name: string | undefined): Metric | undefined {
  return NAMES.get(name ?? '');
}

/** One label matcher of a --match selector, as written: `job="db"`, `instance=~"db.*"`. */
export interface LabelMatcher {
  readonly label: string;
  readonly text: string;
}

const MATCHER = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*(,|$)/y;

/** The label matchers of a --match selector in braces, e.g. {job="db", instance=~"db.*"}; null when it is not such a list. */
export function labelMatchers(match: string): LabelMatcher[] | null {
  const trimmed = match.trim();
  if (!/^\{.*\}$/s.test(trimmed)) return null;
  const inner = trimmed.slice(1, -1).trim();
  const matchers: LabelMatcher[] = [];
  for (let at = 0; at < inner.length; ) {
    MATCHER.lastIndex = at;
    const found = MATCHER.exec(inner);
    if (!found) return null;
    matchers.push({ label: found[1]!, text: `${found[1]}${found[2]}${found[3]}` });
    at = MATCHER.lastIndex;
  }
  return matchers;
}

/** The matchers of a --match value (already checked by matchProblem), as selector text; none for null. */
export function matcherTexts(match: string | null, keep: (matcher: LabelMatcher) => boolean = () => true): string[] {
  return (match === null ? [] : (labelMatchers(match) ?? [])).filter(keep).map((m) => m.text);
}

/** The selector for both histograms within a --match selector like {job="db"} (or none), and any further matchers. */
export function histogramSelector(match: string | null, extra: readonly string[] = []): string {
  const names = `__name__=~"${METRICS.map((m) => HISTOGRAM_NAMES[m]).join('|')}"`;
  return `{${[names, ...matcherTexts(match), ...extra].join(',')}}`;
}

/** Whether a --match value is a label-matcher list in braces (what PromQL accepts as a selector). */
export function matchProblem(match: string): string | null {
  const matchers = labelMatchers(match);
  if (matchers === null) return `--match needs a series selector in braces, like {job="db"} or {instance=~"db.*"}, got "${match.slice(0, 80)}"`;
  if (matchers.some((m) => m.label === '__name__')) return '--match chooses hosts, not metrics: leave __name__ out (bpfheat reads its own two histograms)';
  return null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Slot counts of one histogram of the query API: {count, sum, buckets: [[rule, lower, upper, count], ...]}. */
export function countsOfHistogram(value: unknown): Float64Array {
  if (!isRecord(value) || !Array.isArray(value.buckets ?? [])) throw new QueryAnswerError('a histogram sample has no bucket list');
  const counts = new Float64Array(SLOTS);
  for (const bucket of (value.buckets ?? []) as unknown[]) {
    if (!Array.isArray(bucket) || bucket.length !== 4) throw new QueryAnswerError('a histogram bucket is not [rule, lower, upper, count]');
    const [rule, , upper, count] = bucket as [unknown, unknown, unknown, unknown];
    const slot = slotOfNativeBucket(Number(rule), Number(upper));
    const n = Number(count);
    if (!Number.isFinite(n) || n < 0) throw new QueryAnswerError(`a histogram bucket holds "${String(count).slice(0, 20)}", not a count`);
    counts[slot]! += n;
  }
  return counts;
}

/** The series of a query_range answer (resultType "matrix"), each with its labels. */
export function matrixResult(answer: unknown): Record<string, unknown>[] {
  if (!isRecord(answer) || answer.status !== 'success' || !isRecord(answer.data)) {
    throw new QueryAnswerError(isRecord(answer) && typeof answer.error === 'string' ? answer.error.slice(0, 300) : 'not a query API answer');
  }
  if (answer.data.resultType !== 'matrix' || !Array.isArray(answer.data.result)) throw new QueryAnswerError('the answer is not a range of samples (resultType matrix)');
  return (answer.data.result as unknown[]).map((item) => {
    if (!isRecord(item) || !isRecord(item.metric)) throw new QueryAnswerError('a series of the answer has no labels');
    return item;
  });
}

/**
 * The histogram series of bpfheat's in a query_range answer. `hostLabel` names the label that
 * tells hosts apart (instance by default).
 */
export function parseMatrix(answer: unknown, hostLabel: string): SeriesSamples[] {
  const series: SeriesSamples[] = [];
  for (const item of matrixResult(answer)) {
    const labels = item.metric as Record<string, string>;
    const metric = histogramMetricOf(labels.__name__);
    if (!metric) continue;
    if (!Array.isArray(item.histograms)) continue;
    const op = OPS.find((o) => o === labels.op) ?? 'other';
    const samples = (item.histograms as unknown[]).map((pair): CumulativeSample => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new QueryAnswerError('a histogram sample is not [time, histogram]');
      return { timeMs: Math.round(Number(pair[0]) * 1000), counts: countsOfHistogram(pair[1]) };
    });
    series.push({ key: labelKey(labels), target: targetKey(labels), metric, host: labels[hostLabel] ?? '', device: labels.device ?? '', op, samples });
  }
  return series;
}

/** The selector of the classic buckets a Prometheus without native histograms made of ours (for saying so). */
export function classicBucketSelector(match: string | null): string {
  return histogramSelector(match).replace(/__name__=~"([^"]+)"/, (_all, names: string) => `__name__=~"${names.split('|').map((n) => `${n}_bucket`).join('|')}"`);
}

/** How many series an instant query's answer (resultType "vector") holds. */
export function vectorLength(answer: unknown): number {
  if (!isRecord(answer) || answer.status !== 'success' || !isRecord(answer.data) || !Array.isArray(answer.data.result)) {
    throw new QueryAnswerError(isRecord(answer) && typeof answer.error === 'string' ? answer.error.slice(0, 300) : 'not a query API answer');
  }
  return answer.data.result.length;
}

/** What one series contributed to one step: its cumulative counts' difference. */
export interface SeriesStep {
  readonly metric: Metric;
  readonly host: string;
  readonly device: string;
  readonly op: Op;
  readonly timeMs: number;
  readonly counts: Float64Array;
}

/** The per-step count of a series from two cumulative samples; a drop anywhere is a restart. */
export function stepCounts(previous: Float64Array | null, current: Float64Array): Float64Array {
  if (previous === null) return current.slice();
  let restarted = false;
  for (let slot = 0; slot < SLOTS; slot++) if (current[slot]! < previous[slot]!) restarted = true;
  if (restarted) return current.slice();
  const counts = new Float64Array(SLOTS);
  for (let slot = 0; slot < SLOTS; slot++) counts[slot] = current[slot]! - previous[slot]!;
  return counts;
}

/**
 * Differences cumulative samples per series, step after step, across reads. A series' last
 * cumulative value is kept while it is absent (an exporter that was down for a while continues
 * where it was, or restarts from 0, which the drop shows).
 */
export class CumulativeDiffer {
  private readonly last = new Map<string, CumulativeSample>();

  /**
   * The steps of `series` after `afterMs` (the samples at or before it only set the baseline).
   * A series seen for the first time after the baseline starts from 0: it began exporting then;
   * so does a series at a step `restarted` names it at (its exporter's start time changed).
   */
  steps(series: readonly SeriesSamples[], afterMs: number, restarted: ReadonlyMap<number, ReadonlySet<string>> = new Map()): SeriesStep[] {
    const steps: SeriesStep[] = [];
    for (const s of series) {
      for (const sample of s.samples) {
        const previous = restarted.get(sample.timeMs)?.has(s.key) ? null : (this.last.get(s.key)?.counts ?? null);
        this.last.set(s.key, sample);
        if (sample.timeMs <= afterMs) continue;
        const counts = stepCounts(previous, sample.counts);
        if (counts.some((c) => c > 0)) steps.push({ metric: s.metric, host: s.host, device: s.device, op: s.op, timeMs: sample.timeMs, counts });
      }
    }
    return steps;
  }

  /** A series' cumulative counts at `timeMs`, if that is the last step it was differenced at. */
  lastAt(key: string, timeMs: number): Float64Array | undefined {
    const sample = this.last.get(key);
    return sample?.timeMs === timeMs ? sample.counts : undefined;
  }
}
