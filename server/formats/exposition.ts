/**
 * The Prometheus exposition of bpfheat's counts: native histograms in the protobuf format
 * (encoded by protobufjs from the official metrics.proto, vendored in ./prometheus/), and the
 * text format with classic buckets for scrapers that ask for text.
 *
 * Our buckets are Prometheus's schema 3: slot s >= 1 holds (2^((s-2)/8), 2^((s-1)/8)], which is
 * Prometheus bucket index s - 1; slot 0 (the value 0) is the zero bucket. The overflow slot
 * (above 2^40) goes out as the bucket just above 2^40 and reads back as the overflow slot.
 * The rules that silently fail a scrape when broken are in shared/PROMETHEUS.md of the project
 * notes; the ones that matter here are said where they are kept.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { slotBounds } from '../../shared/buckets.ts';
import { BUCKETS_PER_OCTAVE, MAX_EXPONENT, SLOT_OVERFLOW, SLOT_ZERO, SLOTS, type Metric, type Op } from '../../shared/scheme.ts';

/** Schema 3: 2^3 buckets per power of two, as ours. */
export const NATIVE_SCHEMA = 3;
/**
 * Width of the zero bucket [-zt, zt]. It must be positive (a family whose first histogram is
 * empty with threshold 0 turns classic, and every host must send the same one), and below 1,
 * the smallest value other than 0 we count, whose bucket is (2^(-1/8), 1].
 */
export const ZERO_THRESHOLD = 0.5;

export const HISTOGRAM_NAMES: Record<Metric, string> = {
  latency: 'bpfheat_io_latency_nanoseconds',
  size: 'bpfheat_io_size_bytes',
};
const HISTOGRAM_HELP: Record<Metric, string> = {
  latency: 'Block I/O latency from issue to completion, in nanoseconds (schema 3 buckets; _sum estimated from bucket middles)',
  size: 'Block I/O request size, in bytes (schema 3 buckets; _sum estimated from bucket middles)',
};

/** The cumulative counts of one (metric, device, op) since the exporter started. */
export interface HistogramTotals {
  readonly metric: Metric;
  readonly device: string;
  readonly op: Op;
  /** one cumulative count per slot */
  readonly counts: ArrayLike<number>;
}

export interface CounterSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly histograms: readonly HistogramTotals[];
  /** outlier I/Os the tracer counted but could not send, per device and op */
  readonly droppedExemplars: readonly CounterSample[];
  /** completions the kernel accounted that no tracer program saw (in no histogram), per device and op */
  readonly unseen: readonly CounterSample[];
  /** requests the tracer could not count, by reason; null when the source does not know */
  readonly uncounted: readonly CounterSample[] | null;
  readonly buildInfo: Readonly<Record<string, string>>;
  /**
   * When these totals began counting (unix seconds): a new value is a restart, which a reader
   * of Prometheus must see even when no count dropped (--source prometheus reads sums on it).
   */
  readonly startTimeSeconds: number;
  /**
   * The end (unix ms) of the newest column in the totals, stamped on every sample taken from
   * columns, so Prometheus stores counts at the time they were measured; null: none yet.
   */
  readonly timestampMs: number | null;
}

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_TYPE = { COUNTER: 0, GAUGE: 1, HISTOGRAM: 4 } as const;

/** Prometheus native bucket index of a slot (slot 0, the value 0, is the zero bucket instead). */
export function nativeIndexOfSlot(slot: number): number {
  return slot - 1;
}

/**
 * The slot of a bucket Prometheus hands back as [rule, lower, upper, count]: rule 3 is the
 * closed zero bucket; otherwise the index is log2(upper) * 8, rounded, never a float comparison
 * (Prometheus's own boundaries differ from 2 ** (i / 8) in the last bit for many indices).
 */
export function slotOfNativeBucket(rule: number, upper: number): number {
  if (rule === 3) return SLOT_ZERO;
  const index = Math.round(Math.log2(upper) * BUCKETS_PER_OCTAVE);
  return Math.min(Math.max(index + 1, 1), SLOT_OVERFLOW);
}

/** A rough mean's worth of sum: the tracer counts buckets, not values, so each count sits at its bucket's middle. */
function estimatedSum(counts: ArrayLike<number>): number {
  let sum = 0;
  for (let slot = 1; slot < SLOTS; slot++) {
    const count = counts[slot]!;
    if (count === 0) continue;
    const { lower, upper } = slotBounds(slot);
    sum += count * (Number.isFinite(upper) ? (lower + upper) / 2 : lower);
  }
  return sum;
}

export interface NativeBuckets {
  readonly zeroCount: number;
  readonly count: number;
  /** offset of the first span is absolute; each later one is the gap of empty buckets before it */
  readonly spans: readonly { readonly offset: number; readonly length: number }[];
  /** each bucket's count minus the previous non-empty bucket's (the first against 0), across spans */
  readonly deltas: readonly number[];
}

/** Spans and deltas of cumulative slot counts, as a native histogram carries them. */
export function nativeBuckets(counts: ArrayLike<number>): NativeBuckets {
  const spans: { offset: number; length: number }[] = [];
  const deltas: number[] = [];
  let previousCount = 0;
  let previousIndex: number | null = null;
  let count = counts[SLOT_ZERO]!;
  for (let slot = 1; slot < SLOTS; slot++) {
    const bucketCount = counts[slot]!;
    if (bucketCount === 0) continue;
    count += bucketCount;
    const index = nativeIndexOfSlot(slot);
    if (previousIndex !== null && index === previousIndex + 1) spans[spans.length - 1]!.length++;
    else spans.push({ offset: previousIndex === null ? index : index - previousIndex - 1, length: 1 });
    deltas.push(bucketCount - previousCount);
    previousCount = bucketCount;
    previousIndex = index;
  }
  return { zeroCount: counts[SLOT_ZERO]!, count, spans, deltas };
}

let metricFamilyType: protobuf.Type | null = null;

/** The MetricFamily message type of the vendored metrics.proto (loaded once; loadSync resolves its timestamp.proto import). */
export function metricFamily(): protobuf.Type {
  metricFamilyType ??= protobuf.loadSync(fileURLToPath(new URL('./prometheus/metrics.proto', import.meta.url))).lookupType('io.prometheus.client.MetricFamily');
  return metricFamilyType;
}

function labelPairs(labels: Readonly<Record<string, string>>): { name: string; value: string }[] {
  return Object.entries(labels).map(([name, value]) => ({ name, value }));
}

function histogramFamilies(exposition: Exposition): object[] {
  const timestamp = exposition.timestampMs === null ? {} : { timestampMs: exposition.timestampMs };
  return (['latency', 'size'] as const).flatMap((metric) => {
    const series = exposition.histograms.filter((h) => h.metric === metric);
    if (series.length === 0) return [];
    return [
      {
        name: HISTOGRAM_NAMES[metric],
        help: HISTOGRAM_HELP[metric],
        type: METRIC_TYPE.HISTOGRAM,
        metric: series.map((h) => {
          const native = nativeBuckets(h.counts);
          return {
            label: labelPairs({ device: h.device, op: h.op }),
            histogram: {
              // the count must not be below the buckets' sum, or the whole scrape fails: it is exactly that sum
              sampleCount: native.count,
              sampleSum: estimatedSum(h.counts),
              schema: NATIVE_SCHEMA,
              zeroThreshold: ZERO_THRESHOLD,
              zeroCount: native.zeroCount,
              positiveSpan: native.spans,
              positiveDelta: native.deltas,
            },
            ...timestamp,
          };
        }),
      },
    ];
  });
}

function counterFamily(name: string, help: string, samples: readonly CounterSample[], timestampMs: number | null): object {
  return {
    name,
    help,
    type: METRIC_TYPE.COUNTER,
    metric: samples.map((s) => ({ label: labelPairs(s.labels), counter: { value: s.value }, ...(timestampMs === null ? {} : { timestampMs }) })),
  };
}

const DROPPED_HELP = 'Outlier I/Os counted in the histograms whose exemplar the tracer could not send (rate cap or full ring)';
export const UNSEEN_NAME = 'bpfheat_io_unseen_total';
const UNSEEN_HELP = 'Block requests the kernel accounted in /sys/block/<dev>/stat that no tracer program saw, so in no histogram';
export const UNCOUNTED_NAME = 'bpfheat_tracer_uncounted_total';
const UNCOUNTED_HELP = 'Block requests the tracer could not count or time, by reason (see bpfheat --self-stats)';
const BUILD_HELP = 'bpfheat version and source; always 1';
const START_NAME = 'bpfheat_start_time_seconds';
const START_HELP = 'When the cumulative counts began (unix seconds): a new value means they restarted from 0';

/** The protobuf exposition: length-delimited MetricFamily messages. */
export function encodeProtobuf(exposition: Exposition): Uint8Array {
  const type = metricFamily();
  const families: object[] = [
    ...histogramFamilies(exposition),
    counterFamily('bpfheat_exemplars_dropped_total', DROPPED_HELP, exposition.droppedExemplars, exposition.timestampMs),
    counterFamily(UNSEEN_NAME, UNSEEN_HELP, exposition.unseen, exposition.timestampMs),
    ...(exposition.uncounted ? [counterFamily(UNCOUNTED_NAME, UNCOUNTED_HELP, exposition.uncounted, null)] : []),
    { name: 'bpfheat_build_info', help: BUILD_HELP, type: METRIC_TYPE.GAUGE, metric: [{ label: labelPairs(exposition.buildInfo), gauge: { value: 1 } }] },
    // stamped as the histograms are, so it is read at the same (data) time; before the first
    // column there is no stamp (and no histogram): a sample at the scrape's time would be newer
    // than a replay's stamped ones, which Prometheus would then refuse as out of order
    ...(exposition.timestampMs === null ? [] : [{ name: START_NAME, help: START_HELP, type: METRIC_TYPE.GAUGE, metric: [{ label: [], gauge: { value: exposition.startTimeSeconds }, timestampMs: exposition.timestampMs }] }]),
  ];
  const writer = protobuf.Writer.create();
  for (const family of families) {
    if (family && 'metric' in family && Array.isArray(family.metric) && family.metric.length === 0) continue;
    type.encodeDelimited(family, writer);
  }
  return writer.finish();
}

/** Upper bounds of the classic buckets: every power of two up to 2^40, each an edge of our slots. */
export const CLASSIC_BOUNDS: readonly number[] = Array.from({ length: MAX_EXPONENT + 1 }, (_, k) => 2 ** k);

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** The text format (0.0.4): classic buckets at every power of two, an exact subset of ours. */
export function encodeText(exposition: Exposition): string {
  const lines: string[] = [];
  const stamp = exposition.timestampMs === null ? '' : ` ${exposition.timestampMs}`;
  for (const metric of ['latency', 'size'] as const) {
    const series = exposition.histograms.filter((h) => h.metric === metric);
    if (series.length === 0) continue;
    const name = HISTOGRAM_NAMES[metric];
    lines.push(`# HELP ${name} ${escapeHelp(HISTOGRAM_HELP[metric])}`, `# TYPE ${name} histogram`);
    for (const h of series) {
      const labels = { device: h.device, op: h.op };
      let cumulative = 0;
      let slot = 0;
      for (const bound of CLASSIC_BOUNDS) {
        for (; slot < SLOT_OVERFLOW && slotBounds(slot).upper <= bound; slot++) cumulative += h.counts[slot]!;
        lines.push(`${name}_bucket${labelText({ ...labels, le: String(bound) })} ${cumulative}${stamp}`);
      }
      const total = nativeBuckets(h.counts).count;
      lines.push(`${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${total}${stamp}`);
      lines.push(`${name}_sum${labelText(labels)} ${estimatedSum(h.counts)}${stamp}`);
      lines.push(`${name}_count${labelText(labels)} ${total}${stamp}`);
    }
  }
  const counters: [string, string, readonly CounterSample[], string][] = [
    ['bpfheat_exemplars_dropped_total', DROPPED_HELP, exposition.droppedExemplars, stamp],
    [UNSEEN_NAME, UNSEEN_HELP, exposition.unseen, stamp],
    [UNCOUNTED_NAME, UNCOUNTED_HELP, exposition.uncounted ?? [], ''],
  ];
  for (const [name, help, samples, sampleStamp] of counters) {
    if (samples.length === 0) continue;
    lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} counter`);
    for (const s of samples) lines.push(`${name}${labelText(s.labels)} ${s.value}${sampleStamp}`);
  }
  lines.push(`# HELP bpfheat_build_info ${BUILD_HELP}`, '# TYPE bpfheat_build_info gauge', `bpfheat_build_info${labelText(exposition.buildInfo)} 1`);
  if (exposition.timestampMs !== null) lines.push(`# HELP ${START_NAME} ${escapeHelp(START_HELP)}`, `# TYPE ${START_NAME} gauge`, `${START_NAME} ${exposition.startTimeSeconds}${stamp}`);
  return `${lines.join('\n')}\n`;
}
