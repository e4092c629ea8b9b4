import { describe, expect, it } from 'vitest';
import { bracketedOrder, bracketedRatios, type Run } from './bracketed.ts';

const runs = (text: string): Run<string>[] =>
  text.split(' ').map((pair) => {
    const [config, value] = pair.split('=');
    return { config: config!, value: Number(value) };
  });

describe('bracketedRatios', () => {
  it.each([
    { name: 'a run between two references: over their mean', seq: 'u=100 a=90 u=80', want: { a: [1] } },
    { name: 'drift cancels where a ratio of medians would not', seq: 'u=100 a=95 u=100 b=40 u=40 a=38 u=40', want: { a: [0.95, 0.95], b: [0.5714285714285714] } },
    { name: 'one reference neighbour at an end', seq: 'a=50 u=100 b=200', want: { a: [0.5], b: [2] } },
    { name: 'a run with no reference beside it is left out', seq: 'u=100 a=90 b=80 u=100', want: { a: [0.9], b: [0.8] } },
    { name: 'no reference at all', seq: 'a=1 b=2', want: {} },
  ])('$name', ({ seq, want }) => {
    expect(Object.fromEntries(bracketedRatios(runs(seq), 'u'))).toEqual(want);
  });
});

describe('bracketedOrder', () => {
  it.each([
    { configs: ['a', 'b', 'c'], rounds: 2, want: 'u a u b u c u b u c u a u' },
    { configs: ['a'], rounds: 3, want: 'u a u a u a u' },
    { configs: ['a', 'b'], rounds: 0, want: 'u' },
  ])('$configs × $rounds rounds', ({ configs, rounds, want }) => {
    expect(bracketedOrder(configs, 'u', rounds).join(' ')).toBe(want);
  });
});
