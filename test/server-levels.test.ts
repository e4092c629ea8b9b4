/**
 * Levels of detail over HTTP: /api/columns and /api/snapshot.svg at a step, in JSON and packed,
 * against the same server's one-second columns.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Column } from '../shared/column.ts';
import { decodePackedColumns, packedColumnAt, PACKED_CONTENT_TYPE } from '../shared/protocol.ts';
import { rollUp } from '../shared/rollup.ts';
import { closeAll, connect, INTERVAL_MS, start, until } from './dashboard-harness.ts';
import { Recorder } from './server-harness.ts';
import { allElements, parseXml } from './xml.ts';

afterEach(closeAll);

/** Two devices, reads and writes, counts that change with the seq; every 17th seq skipped. */
function columnAt(seq: number): Column {
  return {
    seq,
    startMs: seq * INTERVAL_MS,
    intervalMs: INTERVAL_MS,
    series: [
      { metric: 'latency', device: 0, op: 'read', slots: [90 + (seq % 5), 120], counts: [1 + (seq % 7), 2] },
      { metric: 'latency', device: 1, op: 'write', slots: [100 + (seq % 3)], counts: [1 + (seq % 11)] },
      { metric: 'size', device: 0, op: 'read', slots: [97], counts: [1 + (seq % 7)] },
    ],
  };
}

const FIRST = 1_800_000_000 - 1234;
const COUNT = 3 * 3600;

async function served() {
  const harness = await start();
  harness.source.table = [{ id: 0, name: 'sda' }, { id: 1, name: 'nvme0n1' }];
  const sent: Column[] = [];
  for (let seq = FIRST; seq < FIRST + COUNT; seq++) {
    if (seq % 17 === 0) continue;
    sent.push(columnAt(seq));
    harness.dashboard.sink.column(sent[sent.length - 1]!);
  }
  return { ...harness, sent };
}

interface Answer {
  step: number;
  columns: { seq: number; startMs: number; intervalMs: number; total: number; slots: number[]; counts: number[] }[];
}

async function json(url: string): Promise<Answer> {
  const res = await fetch(url);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Answer;
}

/** The sparse histogram of slot → count summed over answer columns. */
function summed(columns: Answer['columns']): Record<number, number> {
  const out: Record<number, number> = {};
  for (const c of columns) c.slots.forEach((slot, k) => (out[slot] = (out[slot] ?? 0) + c.counts[k]!));
  return out;
}

describe('/api/columns at a step', () => {
  it('answers roll-ups whose cells are the sums of the one-second columns they cover', async () => {
    const { url } = await served();
    const from = (FIRST + 1100) * INTERVAL_MS; // on no step boundary, and after the seconds the 10,000-column history has evicted
    const to = (FIRST + COUNT - 50) * INTERVAL_MS;
    const fine = await json(`${url}/api/columns?from=${from}&to=${to}&device=sda&op=read`);
    expect(fine.step).toBe(1000);
    for (const step of [10_000, 60_000, 600_000]) {
      const coarse = await json(`${url}/api/columns?from=${from}&to=${to}&device=sda&op=read&step=${step}`);
      expect(coarse.step).toBe(step);
      for (const cell of coarse.columns) {
        expect(cell.intervalMs).toBe(step);
        expect(cell.startMs).toBe(cell.seq * step);
        // the roll-up covers all its seconds, also those outside [from, to): ask for them at 1 s
        const covered = await json(`${url}/api/columns?from=${cell.startMs}&to=${cell.startMs + step}&device=sda&op=read`);
        const sparse: Record<number, number> = {};
        cell.slots.forEach((slot, k) => (sparse[slot] = cell.counts[k]!));
        expect(sparse, `roll-up ${cell.seq} at ${step} ms`).toEqual(summed(covered.columns));
        expect(cell.total).toBe(covered.columns.reduce((n, c) => n + c.total, 0));
      }
    }
  });

  it('picks the coarsest step that gives each of `width` pixel columns its own cell, or rounds `step` down to a held one', async () => {
    const { url } = await served();
    const to = (FIRST + COUNT) * INTERVAL_MS;
    const cases: [string, number][] = [
      [`from=${to - 3 * 3600_000}&to=${to}&width=1000`, 10_000], // 10.8 s a pixel
      [`from=${to - 3 * 3600_000}&to=${to}&width=200`, 10_000], // 54 s a pixel
      [`from=${to - 3 * 3600_000}&to=${to}&width=8000`, 1000],
      [`from=${to - 600_000}&to=${to}&step=59000`, 10_000],
      [`from=${to - 600_000}&to=${to}&step=1`, 1000],
      [`from=${to - 3 * 3600_000}&to=${to}&step=86400000`, 600_000],
    ];
    for (const [query, step] of cases) expect((await json(`${url}/api/columns?${query}`)).step, query).toBe(step);
    const bad = await fetch(`${url}/api/columns?step=0`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/"step" must be a whole number from 1/);
    const format = await fetch(`${url}/api/columns?format=xml`);
    expect(((await format.json()) as { error: string }).error).toBe('"format" must be json or packed, got "xml"');
  });

  it('packed: the whole columns (every series of the named devices) in the binary form, equal to the history', async () => {
    const { url, sent } = await served();
    const from = (FIRST + 600) * INTERVAL_MS;
    const to = (FIRST + COUNT) * INTERVAL_MS;
    for (const step of [1000, 60_000]) {
      const res = await fetch(`${url}/api/columns?from=${from}&to=${to}&step=${step}&format=packed`);
      expect(res.headers.get('content-type')).toBe(PACKED_CONTENT_TYPE);
      const packed = decodePackedColumns(new Uint8Array(await res.arrayBuffer()));
      expect(packed.stepMs).toBe(step);
      expect(packed.throughSeq).toBe(sent[sent.length - 1]!.seq);
      const inRange = sent.filter((c) => c.startMs + INTERVAL_MS > from);
      const expected = step === 1000 ? inRange : rollUp(sent, step).filter((c) => c.startMs + step > from);
      expect(Array.from({ length: packed.count }, (_, i) => packedColumnAt(packed, i))).toEqual(expected);
    }
    const one = await fetch(`${url}/api/columns?from=${from}&to=${to}&device=nvme0n1&format=packed`);
    const packed = decodePackedColumns(new Uint8Array(await one.arrayBuffer()));
    expect(new Set(Array.from(packed.device))).toEqual(new Set([1]));
  });

  it('answers a narrower picture with fewer, coarser cells', async () => {
    const { url } = await served();
    const to = (FIRST + COUNT) * INTERVAL_MS;
    // 3 h are fewer than the limit at 1 s; the answer at a 1,920-pixel width is ~1,080 cells
    const wide = await json(`${url}/api/columns?from=${to - 3 * 3600_000}&to=${to}&width=1920`);
    expect(wide.step).toBe(1000);
    const narrow = await json(`${url}/api/columns?from=${to - 3 * 3600_000}&to=${to}&width=400`);
    expect(narrow.columns.length).toBe(3 * 360 + 1); // the range starts inside a 10-s step
  });
});

describe('the WebSocket backfill at a step', () => {
  it('sends the last minutes as packed roll-ups equal to the history\'s, then the columns after the newest', async () => {
    const { url, sent, dashboard } = await served();
    const newest = sent[sent.length - 1]!;
    // the default backfill: the last 900 columns (15 minutes of one-second columns)
    const fromMs = sent[sent.length - 900]!.startMs;
    for (const step of [10_000, 60_000]) {
      const client = await connect(url, {}, `?step=${step}`);
      await until(() => client.messages.some((m) => m.type === 'live'));
      expect(client.messages.map((m) => m.type)).toEqual(['hello', 'live']);
      expect(client.messages[1]).toEqual({ type: 'live', lastSeq: newest.seq });
      expect(client.packed.map((p) => p.after)).toEqual([1]); // between hello and live
      const { columns: packed } = client.packed[0]!;
      expect(packed.stepMs).toBe(step);
      expect(packed.throughSeq).toBe(newest.seq);
      const rollups = Array.from({ length: packed.count }, (_, i) => packedColumnAt(packed, i));
      expect(rollups).toEqual(rollUp(sent, step).filter((c) => c.startMs + step > fromMs));
      const answer = await fetch(`${url}/api/columns?from=${fromMs}&to=${newest.startMs + INTERVAL_MS}&step=${step}&format=packed`);
      const api = decodePackedColumns(new Uint8Array(await answer.arrayBuffer()));
      expect(rollups).toEqual(Array.from({ length: api.count }, (_, i) => packedColumnAt(api, i)));
      client.ws.close();
    }
    // the columns go on from the one after the newest the roll-ups counted
    const client = await connect(url, {}, '?step=60000');
    await until(() => client.messages.some((m) => m.type === 'live'));
    const next = columnAt(newest.seq + 1);
    dashboard.sink.column(next);
    await until(() => client.messages.length === 3);
    expect(client.messages[2]).toEqual({ type: 'column', column: next });
  });

  it('sends columns at the column step, after `after`, and says what is wrong with a bad step', async () => {
    const { url, sent } = await served();
    const newest = sent[sent.length - 1]!.seq;
    const cases: [string, number, number][] = [
      ['?step=1', 900, 0], // 1 ms rounds down to the column step
      ['?width=200', 900, 0], // ~950 s over 200 pixel columns: under 5 s a pixel, so one-second columns
      [`?step=60000&after=${newest - 6}`, sent.filter((c) => c.seq > newest - 6).length, 0], // a resume: roll-ups would count again what the client holds
    ];
    for (const [query, columns, packed] of cases) {
      const client = await connect(url, {}, query);
      await until(() => client.messages.some((m) => m.type === 'live'));
      expect(client.messages.filter((m) => m.type === 'column').length, query).toBe(columns);
      expect(client.packed.length, query).toBe(packed);
      client.ws.close();
    }
    for (const [query, error] of [
      ['?step=0', '"step" must be a whole number from 1 to 86400000, got "0"'],
      ['?width=99', '"width" must be a whole number from 200 to 8000, got "99"'],
      ['?step=1&step=2', '"step" is given 2 times; give it once'],
    ]) {
      const refused = await Recorder.refusal(`${url.replace('http', 'ws')}/ws${query}`);
      expect(refused.status, query).toBe(400);
      expect((JSON.parse(refused.body) as { error: string }).error).toBe(error);
    }
  });
});

describe('/api/meta', () => {
  it('shows every level, bounded, with what it holds', async () => {
    const { url, history } = await served();
    const meta = (await (await fetch(`${url}/api/meta`)).json()) as { history: { levels: { stepMs: number; capacity: number; columns: number; bytes: number; fromMs: number }[]; totalBytes: number } };
    expect(meta.history.levels.map((l) => [l.stepMs, l.capacity])).toEqual([
      [10_000, 17_280],
      [60_000, 10_080],
      [600_000, 4320],
    ]);
    const tenSeconds = meta.history.levels[0]!;
    expect(tenSeconds.columns).toBe(Math.floor(((FIRST + COUNT - 1) * 1000) / 10_000) - Math.floor((FIRST * 1000) / 10_000)); // all but the one still filling
    expect(tenSeconds.fromMs).toBe(Math.floor(FIRST / 10) * 10_000);
    expect(meta.history.totalBytes).toBe(history.totalBytes);
    expect(meta.history.totalBytes).toBeGreaterThan(history.bytes);
  });
});

describe('/api/snapshot.svg', () => {
  it('draws three hours at the roll-up step its plot width needs, with the roll-ups as cells', async () => {
    const { url } = await served();
    const to = (FIRST + COUNT) * INTERVAL_MS;
    const from = to - 3 * 3600_000;
    const svg = await (await fetch(`${url}/api/snapshot.svg?from=${from}&to=${to}&width=800&device=sda&op=read`)).text();
    const seqs = new Set<number>();
    for (const e of allElements(parseXml(svg))) if (e.name === 'rect' && (e.attributes.class ?? '').split(' ').includes('cell')) seqs.add(Number(e.attributes['data-seq']));
    // an 800-px picture has a ~600-px plot: 18 s a pixel, so 10-s roll-ups
    const rollups = await json(`${url}/api/columns?from=${from}&to=${to}&device=sda&op=read&step=10000`);
    expect([...seqs].sort((a, b) => a - b)).toEqual(rollups.columns.map((c) => c.seq));
  });
});
