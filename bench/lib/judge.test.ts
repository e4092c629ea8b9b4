import { describe, expect, it } from 'vitest';
import { judgeKept, medianInterval } from './judge.ts';

const upTo = (n: number): number[] => Array.from({ length: n }, (_, k) => k + 1);

describe('medianInterval', () => {
  it.each([
    { name: '5 values: even [min, max] holds the median with only 93.75%', values: upTo(5), want: null },
    { name: '6 values: [min, max], 96.9%', values: upTo(6), want: { low: 1, high: 6, confidence: 1 - 2 / 64 } },
    { name: '10 values: [x(2), x(9)], 97.9%', values: upTo(10), want: { low: 2, high: 9, confidence: 1 - 22 / 1024 } },
    { name: '20 values: [x(6), x(15)]', values: upTo(20), want: { low: 6, high: 15, confidence: 1 - (2 * 21700) / 2 ** 20 } },
    { name: 'unsorted input is sorted first', values: [9, 1, 10, 2, 8, 3, 7, 4, 6, 5], want: { low: 2, high: 9, confidence: 1 - 22 / 1024 } },
    { name: 'no values', values: [], want: null },
  ])('$name', ({ values, want }) => {
    const got = medianInterval(values);
    if (want === null) expect(got).toBeNull();
    else expect(got).toEqual({ ...want, confidence: expect.closeTo(want.confidence, 12) });
  });

  it('a lower confidence narrows the interval once [x(3), x(8)] reaches it (89.1%)', () => {
    expect(medianInterval(upTo(10), 0.9)).toMatchObject({ low: 2, high: 9 });
    expect(medianInterval(upTo(10), 0.85)).toMatchObject({ low: 3, high: 8 });
  });
});

describe('judgeKept', () => {
  const interval = (low: number, high: number) => ({ low, high, confidence: 0.98 });
  it.each([
    { name: 'the whole interval at or above the target', interval: interval(0.97, 1.01), control: 1.0, want: 'met' },
    { name: 'the whole interval below it', interval: interval(0.9, 0.969), control: 0.99, want: 'missed' },
    { name: 'an interval spanning it', interval: interval(0.96, 1.02), control: 1.0, want: 'undecided' },
    { name: 'a control 2.1% off: biased method', interval: interval(0.98, 1.0), control: 1.021, want: 'undecided' },
    { name: 'a control 1.9% off: still resolved', interval: interval(0.98, 1.0), control: 0.981, want: 'met' },
    { name: 'traced beating untraced by a biased method', interval: interval(1.1, 1.3), control: 1.18, want: 'undecided' },
    { name: 'too few rounds', interval: null, control: 1.0, want: 'undecided' },
    { name: 'no control measured', interval: interval(0.98, 1.0), control: Number.NaN, want: 'undecided' },
  ])('$name: $want', ({ interval, control, want }) => {
    const judged = judgeKept(interval, control, 0.97, 0.02);
    expect(judged.verdict).toBe(want);
    expect(judged.why).not.toBe('');
  });
});
