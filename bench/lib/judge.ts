/**
 * Judging a target from a few noisy runs: a confidence interval of the median from order
 * statistics (no assumption about the runs' distribution), and a verdict that says "undecided"
 * when the interval spans the target or an A/A control shows the method itself is biased.
 */

export interface Interval {
  readonly low: number;
  readonly high: number;
  /** the interval's actual coverage (order statistics give only certain levels) */
  readonly confidence: number;
}

/** P(X ≤ m) for X ~ Binomial(n, 1/2). */
function halfBinomialCdf(n: number, m: number): number {
  let term = 0.5 ** n; // C(n, 0) / 2^n
  let sum = 0;
  for (let i = 0; i <= m; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum;
}

/**
 * The narrowest interval [x(j), x(n+1−j)] of the sorted values that holds the median with at least
 * the given confidence (it does with probability 1 − 2·P(Binomial(n, ½) ≤ j − 1)), or null when
 * even the whole range [min, max] does not: too few values.
 */
export function medianInterval(values: readonly number[], confidence = 0.95): Interval | null {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  let best: Interval | null = null;
  for (let j = 1; 2 * j <= n + 1; j++) {
    const coverage = 1 - 2 * halfBinomialCdf(n, j - 1);
    if (coverage < confidence) break;
    best = { low: sorted[j - 1]!, high: sorted[n - j]!, confidence: coverage };
  }
  return best;
}

export type Verdict = 'met' | 'missed' | 'undecided';

export interface KeptJudgement {
  readonly verdict: Verdict;
  /** why, in words (for the summary line) */
  readonly why: string;
}

const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;

/**
 * A traced/untraced ratio judged against a lower bound: met when the whole confidence interval of
 * its median is at or above the target, missed when it is all below, and undecided when it spans
 * the target, when there are too few runs for an interval, or when the control (an idle process
 * measured the same way, which should keep 100%) is further than controlTolerance from 100%.
 */
export function judgeKept(interval: Interval | null, controlMedian: number, target: number, controlTolerance: number): KeptJudgement {
  if (!(Math.abs(controlMedian - 1) <= controlTolerance)) {
    return { verdict: 'undecided', why: `the control kept ${percent(controlMedian)}, not within ±${percent(controlTolerance)} of 100%: the method cannot resolve the target in this run` };
  }
  if (interval === null) return { verdict: 'undecided', why: 'too few rounds for a confidence interval of the median' };
  const range = `${Math.round(interval.confidence * 100)}% interval of the median ${percent(interval.low)}–${percent(interval.high)}`;
  if (interval.low >= target) return { verdict: 'met', why: `${range} ≥ ${percent(target)}` };
  if (interval.high < target) return { verdict: 'missed', why: `${range} < ${percent(target)}` };
  return { verdict: 'undecided', why: `${range} spans ${percent(target)}` };
}
