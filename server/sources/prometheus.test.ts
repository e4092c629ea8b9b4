import { describe, expect, it } from 'vitest';
import { isLoopback } from './prometheus.ts';

describe('isLoopback', () => {
  it.each([
    ['http://127.0.0.1:9090', true],
    ['http://127.8.0.3:9090', true],
    ['http://localhost:9090', true],
    ['http://[::1]:9090', true],
    ['http://prometheus:9090', false],
    ['http://10.0.0.7:9090', false],
    ['http://127.0.0.1.example.com:9090', false],
  ])('%s: %s (answers compressed only across a network)', (url, loopback) => {
    expect(isLoopback(new URL(url).hostname)).toBe(loopback);
  });
});
