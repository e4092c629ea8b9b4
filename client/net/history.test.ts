import { describe, expect, it } from 'vitest';
import { decodePackedColumns, encodePackedColumns, type PackedColumns } from '../../shared/protocol.ts';
import { CHUNK_COLUMNS, HistoryLoader, httpFetchColumns } from './history.ts';

function deferred() {
  const calls: { stepMs: number; fromSeq: number; toSeq: number; resolve: (packed: PackedColumns) => void }[] = [];
  const fetchColumns = (stepMs: number, fromSeq: number, toSeq: number) => new Promise<PackedColumns>((resolve) => calls.push({ stepMs, fromSeq, toSeq, resolve }));
  return { calls, fetchColumns };
}

const answer = (stepMs: number, seqs: number[]): PackedColumns =>
  decodePackedColumns(encodePackedColumns(seqs.map((seq) => ({ seq, startMs: seq * stepMs, intervalMs: stepMs, series: [] })), stepMs, null));

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('HistoryLoader', () => {
  it('asks for whole chunks of a step, newest first, one at a time, each once', async () => {
    const { calls, fetchColumns } = deferred();
    const received: number[] = [];
    const loader = new HistoryLoader(fetchColumns, (packed) => received.push(...packed.seq), () => undefined);
    loader.request(1000, CHUNK_COLUMNS, [[CHUNK_COLUMNS * 3 + 10, CHUNK_COLUMNS * 4 + 5]]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ stepMs: 1000, fromSeq: CHUNK_COLUMNS * 4, toSeq: CHUNK_COLUMNS * 5 - 1 });
    loader.request(1000, CHUNK_COLUMNS, [[CHUNK_COLUMNS * 4, CHUNK_COLUMNS * 4]]);
    // the same seqs at another step are another chunk
    loader.request(60_000, CHUNK_COLUMNS, [[CHUNK_COLUMNS * 4, CHUNK_COLUMNS * 4]]);
    expect(calls).toHaveLength(1);
    calls[0]!.resolve(answer(1000, [CHUNK_COLUMNS * 4]));
    await flush();
    expect(received).toEqual([CHUNK_COLUMNS * 4]);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({ stepMs: 60_000, fromSeq: CHUNK_COLUMNS * 4 });
    calls[1]!.resolve(answer(60_000, []));
    await flush();
    expect(calls[2]).toMatchObject({ stepMs: 1000, fromSeq: CHUNK_COLUMNS * 3 });
    calls[2]!.resolve(answer(1000, []));
    await flush();
    expect(loader.busy).toBe(false);
  });

  it('forgets what it asked for when the server changes', async () => {
    const { calls, fetchColumns } = deferred();
    const loader = new HistoryLoader(fetchColumns, () => undefined, () => undefined);
    loader.request(1000, CHUNK_COLUMNS, [[5, 6]]);
    calls[0]!.resolve(answer(1000, []));
    await flush();
    loader.request(1000, CHUNK_COLUMNS, [[5, 6]]);
    expect(calls).toHaveLength(1);
    loader.forget();
    loader.request(1000, CHUNK_COLUMNS, [[5, 6]]);
    expect(calls).toHaveLength(2);
  });
});

describe('httpFetchColumns', () => {
  it('asks /api/columns for the packed columns of the chunk, with the page token, and names a refusal', async () => {
    const urls: string[] = [];
    const ok = httpFetchColumns({ search: '?token=abc&span=60' }, async (url) => {
      urls.push(String(url));
      return new Response(encodePackedColumns([{ seq: 7, startMs: 70_000, intervalMs: 10_000, series: [] }], 10_000, 700));
    });
    const packed = await ok(10_000, 0, 9, new AbortController().signal);
    expect(urls).toEqual(['/api/columns?step=10000&from=0&to=100000&format=packed&token=abc']);
    expect([packed.count, packed.seq[0], packed.throughSeq]).toEqual([1, 7, 700]);
    const refused = httpFetchColumns({ search: '' }, async () => new Response(JSON.stringify({ error: 'the range holds too much' }), { status: 400 }));
    await expect(refused(1000, 0, 9, new AbortController().signal)).rejects.toThrow('history request failed (400): the range holds too much');
    const garbled = httpFetchColumns({ search: '' }, async () => new Response(new Uint8Array(50)));
    await expect(garbled(1000, 0, 9, new AbortController().signal)).rejects.toThrow(/packed columns/);
  });
});
