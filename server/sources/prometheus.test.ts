import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { QueryAnswerError } from '../formats/prometheus-query.ts';
import { until } from '../../test/dashboard-harness.ts';
import { answerEncoding, createPrometheusReader, createPrometheusSource, describeFailure, prometheusSourceName, queryRangeParams, readingAhead } from './prometheus.ts';

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

/**
 * A query API that answers what the fleet's sum asks: each histogram's count per series, where the
 * series of host db2 begin at `db2FromMs` (a host that starts exporting later) and one series has
 * no host label; the sums, start times and whole histograms are empty.
 */
async function queryApiStub(db2FromMs: number): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const params = new URLSearchParams(body);
      const startS = Number(params.get('start'));
      const series = (labels: Record<string, string>) => ({ metric: { device: 'sda', op: 'read', ...labels }, values: [[startS, '5']] });
      const result = !params.get('query')!.startsWith('histogram_count(')
        ? []
        : [series({ instance: 'db1' }), series({}), ...(startS * 1000 >= db2FromMs ? [series({ instance: 'db2' })] : [])];
      response.setHeader('Content-Type', 'application/json');
      response.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('the fleet\'s sum read', () => {
  let stub: Server | null = null;
  afterEach(() => stub?.close());

  it('lists a host that starts exporting in a later chunk, telling the table grew once for it; a series without the host label is no host', async () => {
    const intervalMs = 1000;
    const api = await queryApiStub(720 * intervalMs);
    stub = api.server;
    let grew = 0;
    const reader = createPrometheusReader({ url: api.url, match: null, hostLabel: 'instance', hosts: [], sumHosts: true, intervalMs }, () => grew++);
    const hostsByChunk: (readonly string[])[] = [];
    const grewByChunk: number[] = [];
    await reader.read(0, 1440 * intervalMs, () => {
      hostsByChunk.push(reader.hosts());
      grewByChunk.push(grew);
    });
    expect(hostsByChunk).toEqual([['db1'], ['db1', 'db2'], ['db1', 'db2']]);
    expect(grewByChunk).toEqual([1, 2, 2]);
  });
});

describe('a host view\'s source', () => {
  it('tells its problem to its page only: the fleet\'s source has said it on stderr once already', async () => {
    const reported: (string | null)[] = [];
    const fleet = createPrometheusSource({ url: 'http://127.0.0.1:1', match: null, hostLabel: 'instance', hosts: [], sumHosts: true, intervalMs: 1000, historyMs: 60_000, report: (problem) => reported.push(problem) });
    const view = fleet.forHosts!(['db1']);
    const problems: (string | null)[] = [];
    await view.start({ column: () => {}, problem: (problem) => problems.push(problem) });
    try {
      await until(() => problems.length > 0);
      expect(problems[0]).toMatch(/^cannot reach Prometheus at http:\/\/127\.0\.0\.1:1 /);
      expect(reported).toEqual([]);
    } finally {
      await view.stop();
    }
  });
});
