/**
 * Column arithmetic between the kernel's monotonic clock and wall-clock time, in BigInt ns
 * (monotonic ns pass 2^53 after 104 days of uptime). The kernel bins a completion into
 * column (mono + phase) / interval; phase is chosen so that every column starts at a
 * wall-clock multiple of the interval, which makes seq = startMs / intervalMs.
 */
export interface ColumnClock {
  readonly intervalNs: bigint;
  readonly phaseNs: bigint;
  /** wall-clock ns minus monotonic ns, fixed at start so columns stay contiguous */
  readonly offsetNs: bigint;
}

export function makeClock(intervalMs: number, monotonicNs: bigint, wallNs: bigint): ColumnClock {
  const intervalNs = BigInt(intervalMs) * 1_000_000n;
  const offsetNs = wallNs - monotonicNs;
  const phaseNs = ((offsetNs % intervalNs) + intervalNs) % intervalNs;
  return { intervalNs, phaseNs, offsetNs };
}

/** The kernel's column number for a monotonic time. */
export function columnAt(clock: ColumnClock, monotonicNs: bigint): bigint {
  return (monotonicNs + clock.phaseNs) / clock.intervalNs;
}

/** Monotonic time at which a column begins. */
export function columnStartMonotonic(clock: ColumnClock, column: bigint): bigint {
  return column * clock.intervalNs - clock.phaseNs;
}

export function columnStartMs(clock: ColumnClock, column: bigint): number {
  return Number((columnStartMonotonic(clock, column) + clock.offsetNs) / 1_000_000n);
}

/**
 * A column is read only once the clock is a full column past its end, so a completion
 * stamped inside it has long finished counting, whatever Node's own delays.
 */
export function readableAt(clock: ColumnClock, column: bigint): bigint {
  return columnStartMonotonic(clock, column + 2n);
}
