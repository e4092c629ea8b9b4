import { describe, expect, it, vi } from 'vitest';
import { decodePackedColumns, encodePackedColumns, packedColumnAt, type PackedColumns } from '../../shared/protocol.ts';
import { CHUNK_COLUMNS, HistoryLoader, httpFetchColumns, serveColumns, workerFetchColumns, type ColumnsChannel, type ColumnsReply, type ColumnsRequest, type ColumnsServerPort } from './history.ts';

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
    // a page narrowed to some hosts asks their dashboard (server/dashboard/hostViews.ts)
    await httpFetchColumns({ search: '?host=db1%2Cdb2&span=60' }, async (url) => {
      urls.push(String(url));
      return new Response(encodePackedColumns([], 10_000, 700));
    })(10_000, 0, 9, new AbortController().signal);
    expect(urls[1]).toBe('/api/columns?step=10000&from=0&to=100000&format=packed&host=db1%2Cdb2');
    const refused = httpFetchColumns({ search: '' }, async () => new Response(JSON.stringify({ error: 'the range holds too much' }), { status: 400 }));
    await expect(refused(1000, 0, 9, new AbortController().signal)).rejects.toThrow('history request failed (400): the range holds too much');
    const garbled = httpFetchColumns({ search: '' }, async () => new Response(new Uint8Array(50)));
    await expect(garbled(1000, 0, 9, new AbortController().signal)).rejects.toThrow(/packed columns/);
  });
});

describe('workerFetchColumns over a message channel to serveColumns', () => {
  /** The page's end and the worker's end of a real MessageChannel; the worker's fetch answers `reply`. */
  function channel(reply: (url: string, signal: AbortSignal) => Promise<Response>) {
    const { port1, port2 } = new MessageChannel();
    const urls: string[] = [];
    serveColumns(port2 as unknown as ColumnsServerPort, async (url, init) => {
      urls.push(String(url));
      return reply(String(url), init!.signal!);
    });
    port2.start();
    port1.start();
    const fetchColumns = workerFetchColumns(port1 as unknown as ColumnsChannel, { search: '?token=abc' });
    return { fetchColumns, urls, close: () => port1.close() };
  }

  it('hands over the columns the worker fetched and decoded, and says why a request failed', async () => {
    const columns = [5, 6, 9].map((seq) => ({ seq, startMs: seq * 1000, intervalMs: 1000, series: [{ metric: 'latency' as const, device: 0, op: 'read' as const, slots: [3, 90], counts: [seq, 1] }] }));
    const { fetchColumns, urls, close } = channel(async (url) =>
      url.includes('step=1000') ? new Response(encodePackedColumns(columns, 1000, 9)) : new Response(JSON.stringify({ error: 'no such step' }), { status: 400 }),
    );
    const packed = await fetchColumns(1000, 0, 9, new AbortController().signal);
    expect(Array.from({ length: packed.count }, (_, i) => packedColumnAt(packed, i))).toEqual(columns);
    expect(packed.throughSeq).toBe(9);
    await expect(fetchColumns(7000, 0, 9, new AbortController().signal)).rejects.toThrow('history request failed (400): no such step');
    expect(urls).toEqual(['/api/columns?step=1000&from=0&to=10000&format=packed&token=abc', '/api/columns?step=7000&from=0&to=70000&format=packed&token=abc']);
    close();
  });

  it('gives a request up in the worker too when its signal aborts', async () => {
    let workerSignal: AbortSignal | null = null;
    const { fetchColumns, close } = channel(
      (_url, signal) =>
        new Promise((_resolve, reject) => {
          workerSignal = signal;
          signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    );
    const controller = new AbortController();
    const request = fetchColumns(1000, 0, 9, controller.signal);
    await vi.waitFor(() => expect(workerSignal).not.toBeNull());
    controller.abort(new Error('the view moved on'));
    await expect(request).rejects.toThrow('the view moved on');
    await vi.waitFor(() => expect(workerSignal!.aborted).toBe(true));
    close();
  });

  /** A worker's end that records what the page sends and answers requests with `packed` when `answering`. */
  function recordingWorker(answering: boolean) {
    const { port1, port2 } = new MessageChannel();
    const seen: ColumnsRequest[] = [];
    port2.addEventListener('message', (event: MessageEvent<ColumnsRequest>) => {
      seen.push(event.data);
      if (answering && !('abort' in event.data)) port2.postMessage({ id: event.data.id, packed: answer(1000, [event.data.fromSeq]) } satisfies ColumnsReply);
    });
    port2.start();
    port1.start();
    return { port: port1, seen, close: () => port1.close() };
  }

  it('fetches in the page once the worker fails, what waited on it included, and says so once', async () => {
    const { port, close } = recordingWorker(false);
    const urls: string[] = [];
    const fallback = httpFetchColumns({ search: '' }, async (url) => {
      urls.push(String(url));
      return new Response(encodePackedColumns([{ seq: 3, startMs: 3000, intervalMs: 1000, series: [] }], 1000, 3));
    });
    const warnings: string[] = [];
    const fetchColumns = workerFetchColumns(port as unknown as ColumnsChannel, { search: '' }, { fallback, warn: (message) => warnings.push(message) });
    const waitingOnWorker = fetchColumns(1000, 0, 9, new AbortController().signal);
    port.dispatchEvent(new Event('error'));
    expect((await waitingOnWorker).seq[0]).toBe(3);
    const packed = await fetchColumns(1000, 10, 19, new AbortController().signal);
    expect([packed.count, packed.seq[0]]).toEqual([1, 3]);
    expect(urls).toEqual(['/api/columns?step=1000&from=0&to=10000&format=packed', '/api/columns?step=1000&from=10000&to=20000&format=packed']);
    port.dispatchEvent(new Event('messageerror'));
    expect(warnings).toEqual(['the history worker failed (it did not load): history is fetched in the page from now on']);
    close();
  });

  it('gives a request up when the worker does not answer in time', async () => {
    const { port, seen, close } = recordingWorker(false);
    const fetchColumns = workerFetchColumns(port as unknown as ColumnsChannel, { search: '' }, { timeoutMs: 50 });
    await expect(fetchColumns(1000, 0, 9, new AbortController().signal)).rejects.toThrow('the history worker did not answer in 0.05 s');
    await vi.waitFor(() => expect(seen).toContainEqual({ id: 0, abort: true }));
    close();
  });

  it('lets go of the signal once answered: aborting it later sends the worker nothing', async () => {
    const { port, seen, close } = recordingWorker(true);
    const fetchColumns = workerFetchColumns(port as unknown as ColumnsChannel, { search: '' });
    const controller = new AbortController();
    expect((await fetchColumns(1000, 4, 9, controller.signal)).seq[0]).toBe(4);
    controller.abort();
    await flush();
    expect(seen).toEqual([{ id: 0, search: '', stepMs: 1000, fromSeq: 4, toSeq: 9 }]);
    close();
  });
});
