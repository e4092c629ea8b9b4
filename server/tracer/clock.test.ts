import { describe, expect, it } from 'vitest';
import { columnAt, columnStartMonotonic, columnStartMs, makeClock, readableAt } from './clock.ts';

describe('column clock', () => {
  // monotonic 5,000.3 s after boot when the wall clock read 1,700,000,000,123 ms
  const clock = makeClock(1000, 5_000_300_000_000n, 1_700_000_000_123n * 1_000_000n);

  it('aligns column starts to wall-clock multiples of the interval', () => {
    const column = columnAt(clock, 5_000_300_000_000n);
    expect(columnStartMs(clock, column)).toBe(1_700_000_000_000);
    expect(columnStartMs(clock, column + 1n)).toBe(1_700_000_001_000);
  });

  it('puts a time in the column that contains it, edges included', () => {
    const column = columnAt(clock, 5_000_300_000_000n);
    const start = columnStartMonotonic(clock, column);
    expect(start).toBe(5_000_300_000_000n - 123_000_000n);
    expect(columnAt(clock, start)).toBe(column);
    expect(columnAt(clock, start - 1n)).toBe(column - 1n);
    expect(columnAt(clock, start + clock.intervalNs - 1n)).toBe(column);
  });

  it('makes a column readable one full column after it ends', () => {
    const column = columnAt(clock, 5_000_300_000_000n);
    expect(readableAt(clock, column) - columnStartMonotonic(clock, column)).toBe(2n * clock.intervalNs);
  });

  it('keeps exact arithmetic past 2^53 ns of uptime', () => {
    const late = makeClock(250, 2n ** 60n + 17n, 1_800_000_000_000n * 1_000_000n);
    const column = columnAt(late, 2n ** 60n + 17n);
    expect(columnStartMs(late, column) % 250).toBe(0);
    expect(columnStartMs(late, column)).toBe(1_800_000_000_000);
  });
});
