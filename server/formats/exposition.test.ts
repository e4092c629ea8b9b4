import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { decodeNativeHistograms } from '../../test/prometheus-harness.ts';
import { slotOf } from '../../shared/buckets.ts';
import { SLOT_OVERFLOW, SLOTS } from '../../shared/scheme.ts';
import { CLASSIC_BOUNDS, encodeProtobuf, encodeText, metricFamily, nativeBuckets, NATIVE_SCHEMA, slotOfNativeBucket, ZERO_THRESHOLD, type Exposition } from './exposition.ts';

function countsOf(slots: Record<number, number>): Float64Array {
  const counts = new Float64Array(SLOTS);
  for (const [slot, count] of Object.entries(slots)) counts[Number(slot)] = count;
  return counts;
}

describe('nativeBuckets', () => {
  it.each([
    ['empty', {}, { zeroCount: 0, count: 0, spans: [], deltas: [] }],
    ['only zeros', { 0: 4 }, { zeroCount: 4, count: 4, spans: [], deltas: [] }],
    ['value 1 is index 0', { 1: 3 }, { zeroCount: 0, count: 3, spans: [{ offset: 0, length: 1 }], deltas: [3] }],
    [
      'gaps start new spans; deltas run across them',
      { 0: 2, 1: 1, 3: 5, 4: 7, 10: 1 },
      { zeroCount: 2, count: 16, spans: [{ offset: 0, length: 1 }, { offset: 1, length: 2 }, { offset: 5, length: 1 }], deltas: [1, 4, 2, -6] },
    ],
    ['overflow is the bucket above 2^40', { [SLOT_OVERFLOW]: 2 }, { zeroCount: 0, count: 2, spans: [{ offset: 321, length: 1 }], deltas: [2] }],
  ])('%s', (_name, slots, expected) => {
    expect(nativeBuckets(countsOf(slots))).toEqual(expected);
  });
});

describe('slotOfNativeBucket', () => {
  it('maps every bucket back to its slot, whichever way Prometheus rounded the bound', () => {
    for (let slot = 1; slot < SLOTS; slot++) {
      const upper = 2 ** ((slot - 1) / 8);
      for (const bound of [upper, upper * (1 - 2 ** -52), upper * (1 + 2 ** -52)]) expect(slotOfNativeBucket(0, bound)).toBe(slot);
    }
  });

  it('reads the zero bucket (rule 3) as slot 0', () => {
    expect(slotOfNativeBucket(3, ZERO_THRESHOLD)).toBe(0);
  });

  it('agrees with the value-to-slot function: a value lands in the bucket whose upper bound is the next edge', () => {
    for (const value of [1, 2, 3, 4, 5, 1000, 4096, 1_000_000, 123_456_789]) {
      const slot = slotOf(value);
      const index = Math.ceil(Math.log2(value) * 8 - 1e-9);
      expect(slotOfNativeBucket(0, 2 ** (index / 8))).toBe(slot);
    }
  });
});

const EXPOSITION: Exposition = {
  histograms: [
    { metric: 'latency', device: 'loop7', op: 'write', counts: countsOf({ 1: 1, 98: 40, 99: 2, 120: 9 }) },
    { metric: 'latency', device: 'sda', op: 'read', counts: countsOf({}) },
    { metric: 'size', device: 'loop7', op: 'write', counts: countsOf({ 97: 52 }) },
  ],
  droppedExemplars: [{ labels: { device: 'loop7', op: 'write' }, value: 3 }],
  unseen: [{ labels: { device: 'loop7', op: 'read' }, value: 2 }],
  uncounted: [{ labels: { reason: 'missed_start' }, value: 0 }],
  buildInfo: { version: '0.1.0', source: 'bpf' },
  startTimeSeconds: 1_795_000_000.5,
  timestampMs: 1_700_000_002_000,
};

describe('encodeProtobuf', () => {
  it('decodes with the same proto to the counts it was given, bucket for bucket', () => {
    const { histograms, families } = decodeNativeHistograms(encodeProtobuf(EXPOSITION));
    expect(families).toEqual(['bpfheat_io_latency_nanoseconds', 'bpfheat_io_size_bytes', 'bpfheat_exemplars_dropped_total', 'bpfheat_io_unseen_total', 'bpfheat_tracer_uncounted_total', 'bpfheat_build_info', 'bpfheat_start_time_seconds']);
    expect(histograms.map((h) => `${h.name}/${h.labels.device}/${h.labels.op}`)).toEqual(['bpfheat_io_latency_nanoseconds/loop7/write', 'bpfheat_io_latency_nanoseconds/sda/read', 'bpfheat_io_size_bytes/loop7/write']);
    histograms.forEach((h, k) => {
      expect(h.schema).toBe(NATIVE_SCHEMA);
      expect(h.zeroThreshold).toBe(ZERO_THRESHOLD);
      expect(h.timestampMs).toBe(EXPOSITION.timestampMs);
      expect(Array.from(h.counts)).toEqual(Array.from(EXPOSITION.histograms[k]!.counts));
      expect(h.sampleCount).toBe(nativeBuckets(EXPOSITION.histograms[k]!.counts).count);
    });
  });

  it('carries counts beyond 2^32 exactly', () => {
    const big = 2 ** 40 + 7;
    const bytes = encodeProtobuf({ ...EXPOSITION, histograms: [{ metric: 'latency', device: 'nvme0n1', op: 'read', counts: countsOf({ 0: big, 100: big }) }] });
    const family = metricFamily().toObject(metricFamily().decodeDelimited(protobuf.Reader.create(bytes)), { longs: Number });
    const histogram = (family.metric as { histogram: { zeroCount: number; sampleCount: number; positiveDelta: number[] } }[])[0]!.histogram;
    expect([histogram.zeroCount, histogram.sampleCount, histogram.positiveDelta[0]]).toEqual([big, 2 * big, big]);
  });
});

describe('encodeText', () => {
  it('gives classic buckets at every power of two that count exactly the values at or below it', () => {
    const values = [0, 1, 1, 2, 3, 4, 5, 1000, 1024, 1025, 65_536, 2 ** 40, 2 ** 40 + 1];
    const counts = new Float64Array(SLOTS);
    for (const value of values) counts[slotOf(value)]!++;
    const text = encodeText({ ...EXPOSITION, histograms: [{ metric: 'latency', device: 'sda', op: 'read', counts }] });
    const buckets = [...text.matchAll(/^bpfheat_io_latency_nanoseconds_bucket\{device="sda",op="read",le="([^"]+)"\} (\d+) 1700000002000$/gm)];
    expect(buckets.map((b) => b[1])).toEqual([...CLASSIC_BOUNDS.map(String), '+Inf']);
    buckets.forEach(([, le, count]) => expect(Number(count)).toBe(values.filter((v) => le === '+Inf' || v <= Number(le)).length));
    expect(text).toMatch(/^bpfheat_io_latency_nanoseconds_count\{device="sda",op="read"\} 13 1700000002000$/m);
    expect(text).toMatch(/^# TYPE bpfheat_io_latency_nanoseconds histogram$/m);
    expect(text).toMatch(/^bpfheat_io_unseen_total\{device="loop7",op="read"\} 2 1700000002000$/m);
    expect(text).toMatch(/^bpfheat_build_info\{version="0.1.0",source="bpf"\} 1$/m);
    expect(text).toMatch(/^bpfheat_start_time_seconds 1795000000.5 1700000002000$/m);
    expect(encodeText({ ...EXPOSITION, histograms: [], timestampMs: null })).not.toMatch(/bpfheat_start_time_seconds/);
    expect(decodeNativeHistograms(encodeProtobuf({ ...EXPOSITION, histograms: [], timestampMs: null })).families).not.toContain('bpfheat_start_time_seconds');
  });

  it('escapes label values', () => {
    const text = encodeText({ ...EXPOSITION, droppedExemplars: [{ labels: { device: 'a"b\\c\nd', op: 'read' }, value: 1 }] });
    expect(text).toContain('bpfheat_exemplars_dropped_total{device="a\\"b\\\\c\\nd",op="read"} 1');
  });
});
