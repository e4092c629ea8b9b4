import { describe, expect, it } from 'vitest';
import { counts, sparse } from '../../test/slot-counts.ts';
import { labelKey, targetKey } from './prometheus-query.ts';
import { countSeriesOf, differencedSums, hostMatcher, irregularSteps, metricSelector, NO_PRESENCE, parseCountMatrix, parseSumMatrix, parseSumMatrixText, startChanges, type CountSeries, type FloatSeries, type HistogramAt, type SumSeries } from './prometheus-sums.ts';

const LATENCY = 'bpfheat_io_latency_nanoseconds';

/** A histogram_count series of host h (device sda, op read) with a count per step (null: absent). */
function countSeries(host: string, values: (number | null)[]): CountSeries {
  const labels = { __name__: LATENCY, instance: host, device: 'sda', op: 'read' };
  return { key: labelKey(labels), target: targetKey(labels), values: new Map(values.flatMap((v, k) => (v === null ? [] : [[(k + 1) * 1000, v] as const]))) };
}

function startSeries(host: string, values: (number | null)[]): FloatSeries {
  return { labels: { instance: host }, values: new Map(values.flatMap((v, k) => (v === null ? [] : [[(k + 1) * 1000, v] as const]))) };
}

const KEY_A = `__name__=${LATENCY},device=sda,instance=a,op=read`;
const STEPS = [1000, 2000, 3000, 4000, 5000];

/** KEY_A's whole histogram at some steps (slot: count), as histogramAt hands it. */
function histogramsOfA(byTime: Record<number, Record<number, number>>): HistogramAt {
  return (key, timeMs) => (key === KEY_A && byTime[timeMs] ? counts(byTime[timeMs]) : undefined);
}

describe('irregularSteps', () => {
  it.each([
    ['counts that only grow: none', [countSeries('a', [1, 2, 2, 5, 9])], [startSeries('a', [7, 7, 7, 7, 7])], {}, []],
    ['a series new after the first step: none (counted from 0 by the sums too)', [countSeries('a', [null, null, 3, 4, 4])], [], {}, []],
    ['a count that drops', [countSeries('a', [5, 6, 2, 3, 3])], [], {}, [[3000, [], []]]],
    ['a series that vanishes, and comes back: both steps, the return continuing from its last step', [countSeries('a', [5, 6, null, null, 8])], [], {}, [[3000, [], []], [5000, [], [[KEY_A, 2000]]]]],
    [
      'a restart whose counts grew: the start gauge changes a step before the series moves, the move is counted from 0',
      [countSeries('a', [5, 6, 6, 9, 10])],
      [startSeries('a', [7, 7, 8, 8, 8])],
      {},
      [[4000, [KEY_A], []]],
    ],
    ['a restart whose series moves at the same step as the gauge', [countSeries('a', [5, 6, 8, 9, 10])], [startSeries('a', [7, 7, 8, 8, 8])], {}, [[3000, [KEY_A], []]]],
    ['another host\'s restart does not touch this one', [countSeries('a', [5, 6, 8, 9, 10])], [startSeries('a', [7, 7, 7, 7, 7]), startSeries('b', [1, 1, 2, 2, 2])], {}, []],
    [
      'a series gone while its exporter restarted, back with more than before: counted from 0, not from the old process\'s value',
      [countSeries('a', [2, null, null, 3, 4])],
      [startSeries('a', [7, null, null, 8, 8])],
      {},
      [[2000, [], []], [4000, [KEY_A], []]],
    ],
    [
      'a series gone and back with no restart in between: continuing from its last step',
      [countSeries('a', [2, null, null, 3, 4])],
      [startSeries('a', [7, null, null, 7, 7])],
      {},
      [[2000, [], []], [4000, [], [[KEY_A, 1000]]]],
    ],
    [
      'a restart whose first total equals the old one, in other buckets: the histograms tell it is new where the gauge changes',
      [countSeries('a', [5, 5, 5, 7, 7])],
      [startSeries('a', [7, 7, 8, 8, 8])],
      { 2000: { 100: 5 }, 3000: { 110: 5 } },
      [[3000, [KEY_A], []]],
    ],
    [
      'a restart whose series repeats the old histogram where the gauge changes: its next move is the new process\'s first value',
      [countSeries('a', [5, 5, 5, 7, 7])],
      [startSeries('a', [7, 7, 8, 8, 8])],
      { 2000: { 100: 5 }, 3000: { 100: 5 } },
      [[4000, [KEY_A], []]],
    ],
  ] as const)('%s', (_name, counts, starts, histograms, wanted) => {
    const { irregular } = irregularSteps(NO_PRESENCE, STEPS, counts, starts, histogramsOfA(histograms));
    expect(irregular.map((step) => [step.timeMs, [...step.restarted], [...step.resumed]])).toEqual(wanted);
  });

  it('carries what it knows from one read to the next: a drop across the boundary, and a restart awaited across it', () => {
    const first = irregularSteps(NO_PRESENCE, [1000, 2000], [countSeries('a', [5, 5])], [startSeries('a', [7, 8])]);
    expect(first.irregular).toEqual([]);
    const second = irregularSteps(first.presence, [3000, 4000], [countSeries('a', [null, null, 5, 9])], [startSeries('a', [null, null, 8, 8])]);
    expect(second.irregular.map((step) => [step.timeMs, [...step.restarted]])).toEqual([[4000, [KEY_A]]]);
    const third = irregularSteps(second.presence, [5000], [countSeries('a', [null, null, null, null, 2])], []);
    expect(third.irregular.map((step) => step.timeMs)).toEqual([5000]);
  });

  it('remembers which process a series\' last value came from across reads that do not hold the series (an outage longer than the lookback)', () => {
    const first = irregularSteps(NO_PRESENCE, [1000, 2000], [countSeries('a', [1, 2])], [startSeries('a', [7, 7])]);
    const gone = irregularSteps(first.presence, [3000], [], [startSeries('a', [null, null, 8])]);
    const back = irregularSteps(gone.presence, [4000, 5000], [countSeries('a', [null, null, null, 3, 4])], [startSeries('a', [null, null, null, 8, 8])]);
    expect(back.irregular.map((step) => [step.timeMs, [...step.restarted], [...step.resumed]])).toEqual([[4000, [KEY_A], []]]);
  });
});

describe('startChanges', () => {
  it('names the steps where an exporter\'s start time differs from the one it had before, across reads', () => {
    const first = irregularSteps(NO_PRESENCE, [1000, 2000], [], [startSeries('a', [7, 7]), startSeries('b', [1, 1])]);
    expect(startChanges(first.presence, [3000, 4000, 5000], [startSeries('a', [null, null, 8, 8, 9]), startSeries('b', [null, null, 1, null, 1])])).toEqual([3000, 5000]);
  });
});

describe('differencedSums', () => {
  const sum = (values: [number, Record<number, number>][]): SumSeries => ({ metric: 'latency', device: 'sda', op: 'read', values: new Map(values.map(([t, c]) => [t, counts(c)])) });

  it('differences each step against the one before, the first against the sums handed in, and leaves out skipped and empty steps', () => {
    const before = new Map([['latency/sda/read', counts({ 4: 1 })]]);
    const { steps, last } = differencedSums([sum([[1000, { 4: 3 }], [2000, { 4: 3 }], [3000, { 4: 9, 6: 1 }], [4000, { 4: 10, 6: 1 }]])], [1000, 2000, 3000, 4000], new Set([3000]), before);
    expect(steps.map((s) => [s.timeMs, sparse(s.counts)])).toEqual([[1000, { 4: 2 }], [4000, { 4: 1 }]]);
    expect(sparse(last.get('latency/sda/read')!)).toEqual({ 4: 10, 6: 1 });
  });

  it.each([
    ['a bucket of one cell dropped (a restart whose total grew): the whole step', [sum([[1000, { 4: 5 }], [2000, { 4: 3, 6: 9 }], [3000, { 4: 3, 6: 10 }]]), { ...sum([[1000, { 4: 1 }], [2000, { 4: 2 }]]), op: 'write' as const }], [2000], [[3000, { 6: 1 }]]],
    ['every bucket grew or stayed: none', [sum([[1000, { 4: 5 }], [2000, { 4: 5, 6: 9 }]])], [], [[2000, { 6: 9 }]]],
  ])('leaves out a step where a difference has a negative bucket, for every cell, and names it as inexact: %s', (_name, sums, inexact, wanted) => {
    const { steps, inexact: found } = differencedSums(sums, [1000, 2000, 3000], new Set(), new Map());
    expect([...found]).toEqual(inexact);
    expect(steps.filter((s) => s.timeMs > 1000).map((s) => [s.timeMs, sparse(s.counts)])).toEqual(wanted);
  });

  it('counts a cell with no sum before from 0', () => {
    const { steps } = differencedSums([sum([[2000, { 9: 4 }]])], [1000, 2000], new Set(), new Map());
    expect(steps.map((s) => [s.timeMs, sparse(s.counts)])).toEqual([[2000, { 9: 4 }]]);
  });
});

describe('selectors and answers', () => {
  it('chooses one metric within --match and exactly the --host values, escaped', () => {
    expect(metricSelector('latency', '{job="db"}', 'instance', ['db1:9100', 'db.2'])).toBe(`{__name__="${LATENCY}",job="db",instance=~"db1:9100|db\\\\.2"}`);
    expect(metricSelector('bpfheat_start_time_seconds', null, 'instance', [])).toBe('{__name__="bpfheat_start_time_seconds"}');
    expect(hostMatcher('host', ['a|b'])).toBe('host=~"a\\\\|b"');
  });

  it.each([
    ['latency', '{job="db",device="sda",op!="write"}', `{__name__="${LATENCY}",job="db",device="sda",op!="write"}`],
    ['bpfheat_start_time_seconds', '{job="db",device="sda",op!="write"}', '{__name__="bpfheat_start_time_seconds",job="db"}'],
    ['bpfheat_start_time_seconds', '{device=~"nvme.*"}', '{__name__="bpfheat_start_time_seconds"}'],
  ] as const)('the %s selector within --match %s: a device or op matcher chooses histograms, not exporters', (metric, match, selector) => {
    expect(metricSelector(metric, match, 'instance', [])).toBe(selector);
  });

  it('keys histogram_count series with the histogram\'s name again, as the histograms read raw are keyed', () => {
    const answer = { status: 'success', data: { resultType: 'matrix', result: [{ metric: { instance: 'a', device: 'sda', op: 'read' }, values: [[1, '5'], [2, '7']] }] } };
    const fromCounts = parseCountMatrix(answer, 'latency');
    const histogram = { key: labelKey({ __name__: LATENCY, instance: 'a', device: 'sda', op: 'read' }), target: targetKey({ instance: 'a' }), metric: 'latency' as const, host: 'a', device: 'sda', op: 'read' as const };
    const fromHistograms = countSeriesOf([{ ...histogram, samples: [{ timeMs: 1000, counts: counts({ 4: 2, 9: 3 }) }, { timeMs: 2000, counts: counts({ 4: 2, 9: 5 }) }] }]);
    expect(fromCounts).toEqual(fromHistograms);
    expect([...fromCounts[0]!.values]).toEqual([[1000, 5], [2000, 7]]);
  });

  it.each([
    ['as Prometheus writes it', (answer: unknown) => JSON.stringify(answer)],
    ['indented (read in full)', (answer: unknown) => JSON.stringify(answer, null, 1)],
  ])('reads a sum by (device, op) answer, which has no metric name, %s: as parseSumMatrix reads it', (_name, write) => {
    const histogram = (count: string) => ({ count, sum: '0', buckets: [[0, '1024', '1104.6086344253606', count], [3, '-0.5', '0.5', '1']] });
    const answer = { status: 'success', data: { resultType: 'matrix', result: [{ metric: { device: 'sda', op: 'write' }, histograms: [[1, histogram('4')], [2, histogram('6')]] }] } };
    const read = parseSumMatrixText(write(answer), 'size');
    expect(read).toEqual(parseSumMatrix(answer, 'size'));
    expect(read.map((s) => [s.metric, s.device, s.op, [...s.values.keys()]])).toEqual([['size', 'sda', 'write', [1000, 2000]]]);
  });
});
