import { describe, expect, it } from 'vitest';
import { partitionPoint } from './search.ts';

describe('partitionPoint', () => {
  const values = [1, 3, 3, 5, 8];
  const lowerBound = (x: number, low = 0) => partitionPoint(low, values.length, (i) => values[i]! < x);

  it.each([
    [0, 0],
    [1, 0],
    [2, 1],
    [3, 1],
    [4, 3],
    [8, 4],
    [9, 5],
  ])('the first value >= %d is at %d', (x, index) => expect(lowerBound(x)).toBe(index));

  it('searches only inside [low, high)', () => {
    expect(lowerBound(1, 2)).toBe(2);
    expect(partitionPoint(3, 3, () => true)).toBe(3);
  });
});
