import { describe, expect, it } from 'vitest';
import { answerEncoding, readingAhead } from './prometheus.ts';

describe('answerEncoding', () => {
  it.each([
    ['http://127.0.0.1:9090', 'identity'],
    ['http://127.8.0.3:9090/prometheus', 'identity'],
    ['http://localhost:9090', 'identity'],
    ['http://[::1]:9090', 'identity'],
    ['http://prometheus:9090', 'gzip'],
    ['https://10.0.0.7', 'gzip'],
    ['http://127.0.0.1.example.com:9090', 'gzip'],
    ['http://[2001:db8::1]:9090', 'gzip'],
  ])('%s: %s (answers compressed only across a network)', (url, encoding) => {
    expect(answerEncoding(url)).toBe(encoding);
  });
});

describe('readingAhead', () => {
  it('has each read started once, inFlight chunks before its turn, and hands each its own answer', async () => {
    const startedBefore: number[][] = [];
    const started: number[] = [];
    const read = readingAhead(5, 2, async (k) => {
      started.push(k);
      return k * 10;
    });
    const answers: number[] = [];
    for (let k = 0; k < 5; k++) {
      answers.push(await read(k));
      startedBefore.push([...started]);
    }
    expect(answers).toEqual([0, 10, 20, 30, 40]);
    expect(startedBefore).toEqual([[0, 1], [0, 1, 2], [0, 1, 2, 3], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]);
  });

  it('reports a failed read ahead only when its turn comes', async () => {
    const read = readingAhead(2, 2, (k) => (k === 1 ? Promise.reject(new Error('chunk 1 failed')) : Promise.resolve(k)));
    expect(await read(0)).toBe(0);
    await expect(read(1)).rejects.toThrow('chunk 1 failed');
  });
});
