import { describe, expect, it } from 'vitest';
import { MAX_SLICES } from '../../shared/scheme.ts';
import { sliceCount } from './tracer.ts';

describe('sliceCount: one slice of counters per possible CPU', () => {
  it.each([
    ['0', 1],
    ['0-1\n', 2],
    ['0-3,8-11', 12],
    ['0-255', MAX_SLICES],
    ['', 1],
  ])('/sys/devices/system/cpu/possible %j gives %i', (possible, slices) => {
    expect(sliceCount(possible)).toBe(slices);
  });
});
