/**
 * /api/snapshot.svg against /api/columns: the same range and filter give an SVG that parses and
 * whose cells are exactly the non-empty (column, slot) counts the JSON API reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allElements, parseXml } from './xml.ts';
import { serve, type Served } from './server-harness.ts';

const INTERVAL_MS = 100;
let served: Served;
let newestEndMs: number;

interface ColumnsAnswer {
  readonly source: string;
  readonly metric: string;
  readonly unit: string;
  readonly from: number;
  readonly to: number;
  readonly devices: { id: number; name: string }[];
  readonly columns: { seq: number; startMs: number; intervalMs: number; total: number; slots: number[]; counts: number[] }[];
}

beforeAll(async () => {
  // The synthetic source pre-fills 2 minutes (1,200 columns at 100 ms): a settled past to look at.
  served = await serve(['--source', 'synthetic', '--seed', '11', '--port', '0', '--interval', String(INTERVAL_MS)]);
  const meta = (await served.get('/api/meta')).body as { history: { toMs: number; columns: number } };
  expect(meta.history.columns).toBeGreaterThan(1000);
  newestEndMs = meta.history.toMs;
});

afterAll(async () => {
  await served?.stop();
});

function cellsOf(svg: string): Map<string, number> {
  const root = parseXml(svg);
  expect(root.name).toBe('svg');
  expect(root.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
  const cells = new Map<string, number>();
  for (const e of allElements(root)) {
    if (e.name !== 'rect' || !(e.attributes.class ?? '').split(' ').includes('cell')) continue;
    const key = `${e.attributes['data-seq']}/${e.attributes['data-slot']}`;
    expect(cells.has(key), `one cell per (seq, slot): ${key}`).toBe(false);
    cells.set(key, Number(e.attributes['data-count']));
  }
  return cells;
}

describe('/api/snapshot.svg', () => {
  const cases = [
    { name: 'latency of one device and op', query: 'metric=latency&device=synth-nvme0n1&op=read' },
    // (reads and writes: a flush moves 0 bytes, and a log axis has no room for 0)
    { name: 'size of every device', query: 'metric=size&op=read,write' },
    { name: 'latency of the disk, writes and flushes, by id', query: 'device=1&op=write,flush' },
  ];
  for (const { name, query } of cases) {
    it(`draws the counts /api/columns gives for the same range: ${name}`, async () => {
      const from = newestEndMs - 90 * INTERVAL_MS - 37; // not on a column boundary: the partly covered column counts too
      const to = newestEndMs - 30 * INTERVAL_MS;
      const range = `from=${from}&to=${to}&${query}`;
      const json = await served.get(`/api/columns?${range}`);
      expect(json.status).toBe(200);
      const answer = json.body as ColumnsAnswer;
      expect(answer.columns.length).toBe(61);
      expect(answer.columns[0]!.startMs).toBeLessThanOrEqual(from);

      const svg = await served.get(`/api/snapshot.svg?${range}`);
      expect(svg.status).toBe(200);
      expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      expect(svg.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      const cells = cellsOf(svg.text);

      const expected = new Map<string, number>();
      for (const column of answer.columns) {
        column.slots.forEach((slot, k) => expected.set(`${column.seq}/${slot}`, column.counts[k]!));
        expect(column.total).toBe(column.counts.reduce((a, b) => a + b, 0));
      }
      expect(expected.size).toBeGreaterThan(100);
      expect(cells).toEqual(expected);
      expect(svg.text).toContain('SYNTHETIC');
    });
  }

  it('takes width and height, and refuses bad ones', async () => {
    const range = `from=${newestEndMs - 20 * INTERVAL_MS}&to=${newestEndMs}`;
    const root = parseXml((await served.get(`/api/snapshot.svg?${range}&width=640&height=300`)).text);
    expect([root.attributes.width, root.attributes.height]).toEqual(['640', '300']);
    const bad = await served.get(`/api/snapshot.svg?${range}&width=99999`);
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string }).error).toMatch(/width/);
  });

});

describe('/api/columns', () => {
  it('names what is wrong with a bad query', async () => {
    const cases: [string, RegExp][] = [
      ['metric=speed', /"metric" must be latency or size/],
      ['device=sdz', /unknown device "sdz"/],
      ['op=erase', /"op" must be one of/],
      ['from=abc', /"from" must be a whole number/],
      ['from=10&to=5', /"from" \(10\) must be before "to" \(5\)/],
      ['from=1&from=2', /"from" is given 2 times/],
      ['colour=red', /unknown query parameter "colour"/],
      ['width=10', /"width" must be a whole number from 200 to 8000/],
      ['step=1s', /"step" must be a whole number from 1 to 86400000/],
      ['height=300', /unknown query parameter "height"/],
    ];
    for (const [query, message] of cases) {
      const res = await served.get(`/api/columns?${query}`);
      expect(res.status, query).toBe(400);
      expect((res.body as { error: string }).error, query).toMatch(message);
    }
  });

  it('defaults to the last 15 minutes of latency of every device and op', async () => {
    const res = await served.get('/api/columns');
    const answer = res.body as ColumnsAnswer;
    expect(answer.metric).toBe('latency');
    expect(answer.unit).toBe('ns');
    expect(answer.source).toBe('synthetic');
    expect(answer.devices.map((d) => d.name)).toEqual(['synth-nvme0n1', 'synth-sda']);
    expect(answer.to - answer.from).toBe(15 * 60_000);
    expect(answer.columns.length).toBeGreaterThan(1000);
    const seqs = answer.columns.map((c) => c.seq);
    expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1)).toBe(true);
  });

  it('serves /healthz and /api/meta, and 404s unknown APIs as JSON', async () => {
    expect((await served.get('/healthz')).text).toBe('ok\n');
    const meta = (await served.get('/api/meta')).body as { source: string; intervalMs: number; history: { capacity: number } };
    expect(meta.source).toBe('synthetic');
    expect(meta.intervalMs).toBe(INTERVAL_MS);
    expect(meta.history.capacity).toBe((24 * 3600 * 1000) / INTERVAL_MS); // --history default: 24 h at the interval
    const missing = await served.get('/api/nothing');
    expect(missing.status).toBe(404);
    expect((missing.body as { error: string }).error).toMatch(/no such API/);
  });

  it('serves the client bundle, and index.html for page paths', async () => {
    const index = await served.get('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(index.text).toContain('/assets/app-test.js');
    expect((await served.get('/heatmap/some/view')).text).toBe(index.text);
    const asset = await served.get('/assets/app-test.js');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expect((await served.get('/assets/missing.js')).status).toBe(404);
  });
});
