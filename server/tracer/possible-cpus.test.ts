import { describe, expect, it } from 'vitest';
import { possibleCpuCount } from './tracer.ts';

describe('possibleCpuCount: the CPU numbers the kernel may use, from /sys/devices/system/cpu/possible', () => {
  it.each([
    ['0', 1],
    ['0-1\n', 2],
    ['0-3,8-11', 12],
    ['0-255', 256],
    ['', 1],
    ['garbage', 1],
  ])('%j gives %i', (possible, cpus) => {
    expect(possibleCpuCount(possible)).toBe(cpus);
  });
});
