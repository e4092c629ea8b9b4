import { describe, expect, it } from 'vitest';
import { medianRound, type PerIo } from './tracers.ts';

const round = (issueNs: number, completeNs: number): PerIo => ({ completions: 1000, issueNs, completeNs, totalNs: issueNs + completeNs });

describe('medianRound', () => {
  it.each([
    { name: 'one round', rounds: [round(100, 200)], want: round(100, 200) },
    { name: 'the middle of three by total, not the middle of each side', rounds: [round(50, 400), round(200, 100), round(120, 260)], want: round(120, 260) },
    { name: 'of an even count, the lower of the two middle ones', rounds: [round(10, 10), round(40, 40), round(20, 20), round(30, 30)], want: round(20, 20) },
    { name: 'no rounds', rounds: [], want: undefined },
  ])('$name', ({ rounds, want }) => {
    const got = medianRound(rounds);
    expect(got).toEqual(want);
    if (got) expect(got.issueNs + got.completeNs).toBe(got.totalNs);
  });
});
