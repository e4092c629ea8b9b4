import { describe, expect, it } from 'vitest';
import { importDeviceName } from './import.ts';

describe('importDeviceName', () => {
  it.each([
    ['/tmp/out.lat_us', 'out.lat_us'],
    ['my trace (1).txt', 'my_trace_1_.txt'],
  ])('%s -> %s', (path, name) => {
    expect(importDeviceName(path)).toBe(name);
  });
});
