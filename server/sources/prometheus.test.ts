import { describe, expect, it } from 'vitest';
import { QueryAnswerError } from '../formats/prometheus-query.ts';
import { answerEncoding, describeFailure, prometheusSourceName, queryRangeParams, readingAhead } from './prometheus.ts';

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

describe('queryRangeParams', () => {
  it.each([
    [1000, '1'],
    [500, '0.5'],
    [1500, '1.5'],
    [60_000, '60'],
  ])('a %i-ms step is sent as %s seconds, a plain number (Prometheus cannot parse a duration like "0.5s")', (stepMs, step) => {
    const params = queryRangeParams('up', 1_500, 4_500, stepMs);
    expect(Object.fromEntries(params)).toEqual({ query: 'up', start: '1.5', end: '4.5', step });
  });
});

describe('describeFailure', () => {
  const url = 'http://prometheus:9090';
  it.each([
    [
      'a Prometheus older than histogram_count, reading a sum',
      new QueryAnswerError('1:1: parse error: unknown function with name "histogram_count"'),
      'Prometheus at http://prometheus:9090 has no histogram_count (1:1: parse error: unknown function with name "histogram_count"): the hosts\' sum (the dashboard\'s, and --sum-hosts) needs Prometheus 2.40 or later with --enable-feature=native-histograms; --text and --jsonl read hosts apart without it',
    ],
    ['another refusal', new QueryAnswerError('invalid parameter "step"'), 'Prometheus at http://prometheus:9090 refused the query: invalid parameter "step"'],
    [
      'no answer at all',
      new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.7:9090') }),
      'cannot reach Prometheus at http://prometheus:9090 (connect ECONNREFUSED 10.0.0.7:9090): is it running, and is --prometheus its address?',
    ],
  ])('%s: one line naming the cause and the fix', (_name, error, line) => {
    expect(describeFailure(error, url)).toBe(line);
  });
});

describe('prometheusSourceName', () => {
  it.each([
    [{ url: 'http://prometheus:9090/', hosts: [], sumHosts: false }, 'Prometheus http://prometheus:9090'],
    [{ url: 'http://prometheus:9090', hosts: ['db1', 'db2'], sumHosts: true }, 'Prometheus http://prometheus:9090, hosts summed'],
    [{ url: 'http://prometheus:9090', hosts: ['db1'], sumHosts: true }, 'db1'],
  ])('%j: %s (the page and bpfheat snapshot say the same)', (options, name) => {
    expect(prometheusSourceName(options)).toBe(name);
  });
});
