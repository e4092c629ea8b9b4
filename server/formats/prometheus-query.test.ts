import { describe, expect, it } from 'vitest';
import { counts, sparse } from '../../test/slot-counts.ts';
import { classicBucketSelector, countsOfHistogram, CumulativeDiffer, histogramSelector, matchProblem, parseMatrix, QueryAnswerError, stepCounts, type SeriesSamples } from './prometheus-query.ts';

describe('stepCounts', () => {
  it.each([
    ['first sample: counted from 0', null, { 5: 3 }, { 5: 3 }],
    ['difference per slot', { 5: 3, 9: 1 }, { 5: 7, 9: 1, 12: 2 }, { 5: 4, 12: 2 }],
    ['no change: empty', { 5: 3 }, { 5: 3 }, {}],
    ['a drop in one slot is a restart: the new value', { 5: 3, 9: 4 }, { 5: 10, 9: 1 }, { 5: 10, 9: 1 }],
    ['a restart to fewer slots', { 5: 3, 9: 4 }, { 9: 2 }, { 9: 2 }],
  ])('%s', (_name, previous, current, expected) => {
    expect(sparse(stepCounts(previous ? counts(previous) : null, counts(current)))).toEqual(expected);
  });
});

function series(key: string, host: string, samples: [number, Record<number, number>][]): SeriesSamples {
  return { key, target: host, metric: 'latency', host, device: 'sda', op: 'read', samples: samples.map(([timeMs, c]) => ({ timeMs, counts: counts(c) })) };
}

describe('CumulativeDiffer', () => {
  it('takes the samples up to the baseline as the start, and counts each later step once, across reads', () => {
    const differ = new CumulativeDiffer();
    const first = differ.steps([series('a', 'h1', [[1000, { 4: 10 }], [2000, { 4: 12 }], [3000, { 4: 12 }]])], 1000);
    expect(first.map((s) => [s.timeMs, sparse(s.counts)])).toEqual([[2000, { 4: 2 }]]);
    const second = differ.steps([series('a', 'h1', [[4000, { 4: 15, 6: 1 }]])], 3000);
    expect(second.map((s) => [s.timeMs, sparse(s.counts)])).toEqual([[4000, { 4: 3, 6: 1 }]]);
  });

  it('hands back a series\' last differenced histogram at the step it was read at, and none at another', () => {
    const differ = new CumulativeDiffer();
    const a = series('a', 'h1', [[1000, { 4: 10 }], [2000, { 4: 12 }]]);
    differ.steps([a], 1000);
    expect(sparse(differ.lastAt(a.key, 2000)!)).toEqual({ 4: 12 });
    expect(differ.lastAt(a.key, 1000)).toBeUndefined();
    expect(differ.lastAt('no such series', 2000)).toBeUndefined();
  });

  it('counts a series that appears after the baseline from 0, and a restart from its new value', () => {
    const differ = new CumulativeDiffer();
    const steps = differ.steps([series('b', 'h2', [[2000, { 7: 5 }], [3000, { 7: 8 }], [4000, { 7: 2 }]])], 1000);
    expect(steps.map((s) => [s.timeMs, sparse(s.counts)])).toEqual([[2000, { 7: 5 }], [3000, { 7: 3 }], [4000, { 7: 2 }]]);
  });

  it('counts a series from 0 at a step its exporter restarted at, though no count dropped', () => {
    const differ = new CumulativeDiffer();
    const steps = differ.steps([series('c', 'h3', [[1000, { 7: 1 }], [2000, { 7: 5, 8: 3 }], [3000, { 7: 6, 8: 3 }]])], 1000, new Map([[2000, new Set(['c'])]]));
    expect(steps.map((s) => [s.timeMs, sparse(s.counts)])).toEqual([[2000, { 7: 5, 8: 3 }], [3000, { 7: 1 }]]);
  });

  it('keeps a series apart from another with the same host, device and op (another job): each is differenced alone', () => {
    const differ = new CumulativeDiffer();
    const steps = differ.steps([series('job=x', 'h1', [[1000, { 3: 100 }], [2000, { 3: 101 }]]), series('job=y', 'h1', [[1000, { 3: 5 }], [2000, { 3: 7 }]])], 1000);
    expect(steps.map((s) => sparse(s.counts))).toEqual([{ 3: 1 }, { 3: 2 }]);
  });
});

describe('parseMatrix', () => {
  const answer = (result: unknown[]) => ({ status: 'success', data: { resultType: 'matrix', result } });

  it('reads native histograms per series, their slots from the bucket bounds and the zero bucket', () => {
    const parsed = parseMatrix(
      answer([
        {
          metric: { __name__: 'bpfheat_io_latency_nanoseconds', instance: 'db1:7070', job: 'db', device: 'sda', op: 'write' },
          histograms: [[1700000001, { count: '6', sum: '9', buckets: [[3, '-0.5', '0.5', '2'], [0, '0.9170040432046712', '1', '1'], [0, '1024', '1116.6799182492239', '3']] }]],
        },
      ]),
      'instance',
    );
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ metric: 'latency', host: 'db1:7070', device: 'sda', op: 'write' });
    expect(parsed[0]!.samples[0]!.timeMs).toBe(1_700_000_001_000);
    expect(sparse(parsed[0]!.samples[0]!.counts)).toEqual({ 0: 2, 1: 1, 82: 3 });
  });

  it('leaves out series that are not native histograms of ours', () => {
    expect(parseMatrix(answer([{ metric: { __name__: 'bpfheat_io_size_bytes' }, values: [[1, '3']] }, { metric: { __name__: 'up' }, histograms: [] }]), 'instance')).toEqual([]);
  });

  it.each([
    ['an error answer', { status: 'error', error: 'parse error: unexpected }' }, /parse error/],
    ['not JSON of the API', [1, 2], /not a query API answer/],
    ['an instant vector', { status: 'success', data: { resultType: 'vector', result: [] } }, /matrix/],
    ['a bucket that is not a 4-tuple', answer([{ metric: { __name__: 'bpfheat_io_size_bytes' }, histograms: [[1, { buckets: [[0, '1']] }]] }]), /rule, lower, upper, count/],
  ])('refuses %s with a clear message', (_name, value, message) => {
    expect(() => parseMatrix(value, 'instance')).toThrow(QueryAnswerError);
    expect(() => parseMatrix(value, 'instance')).toThrow(message);
  });

  it('sums buckets that land on one slot (a bucket past the overflow edge)', () => {
    expect(sparse(countsOfHistogram({ buckets: [[0, '1', '2', '1'], [0, String(2 ** 41), String(2 ** 41.125), '4'], [0, String(2 ** 42), String(2 ** 42.125), '5']] }))[322]).toBe(9);
  });
});

describe('selectors', () => {
  it.each([
    [null, '{__name__=~"bpfheat_io_latency_nanoseconds|bpfheat_io_size_bytes"}'],
    ['{job="db"}', '{__name__=~"bpfheat_io_latency_nanoseconds|bpfheat_io_size_bytes",job="db"}'],
    [' { job="db", instance=~"db.*" } ', '{__name__=~"bpfheat_io_latency_nanoseconds|bpfheat_io_size_bytes",job="db",instance=~"db.*"}'],
    ['{job = \'d,b\', path=~`a"}`,}', '{__name__=~"bpfheat_io_latency_nanoseconds|bpfheat_io_size_bytes",job=\'d,b\',path=~`a"}`}'],
    ['{zone!="a\\"b", device!~"loop.*"}', '{__name__=~"bpfheat_io_latency_nanoseconds|bpfheat_io_size_bytes",zone!="a\\"b",device!~"loop.*"}'],
    ['{}', '{__name__=~"bpfheat_io_latency_nanoseconds|bpfheat_io_size_bytes"}'],
  ])('histogramSelector(%j)', (match, expected) => {
    expect(histogramSelector(match)).toBe(expected);
  });

  it('classicBucketSelector names the _bucket series a Prometheus without native histograms stores', () => {
    expect(classicBucketSelector('{job="db"}')).toBe('{__name__=~"bpfheat_io_latency_nanoseconds_bucket|bpfheat_io_size_bytes_bucket",job="db"}');
  });

  it.each([
    ['job="db"', /in braces/],
    ['up{job="db"}', /in braces/],
    ['{__name__="x"}', /not metrics/],
    ['{job="db" instance="a"}', /in braces/],
    ['{job=db}', /in braces/],
    ['{job="db"', /in braces/],
  ])('matchProblem(%j)', (match, message) => {
    expect(matchProblem(match)).toMatch(message);
  });

  it.each(['{job="db"}', '{}', '{ job="db", instance=~"db.*", }', "{job='db'}"])('matchProblem(%j): none', (match) => {
    expect(matchProblem(match)).toBeNull();
  });
});
