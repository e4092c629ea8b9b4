/**
 * Binary search over anything indexed and ordered: the first index in [low, high) at which
 * `isBefore` is false, for a predicate that holds on a prefix of the range and not after it
 * (high when it holds everywhere).
 */
export function partitionPoint(low: number, high: number, isBefore: (index: number) => boolean): number {
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (isBefore(mid)) low = mid + 1;
    else high = mid;
  }
  return low;
}
