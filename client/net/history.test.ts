import { describe, expect, it } from 'vitest';
import type { Column } from '../../shared/column.ts';
import { CHUNK_COLUMNS, HistoryLoader } from './history.ts';

function deferred() {
  const calls: { fromSeq: number; toSeq: number; resolve: (columns: Column[]) => void }[] = [];
  const fetchColumns = (fromSeq: number, toSeq: number) => new Promise<Column[]>((resolve) => calls.push({ fromSeq, toSeq, resolve }));
  return { calls, fetchColumns };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('HistoryLoader', () => {
  it('asks for whole chunks, newest first, one at a time, each once', async () => {
    const { calls, fetchColumns } = deferred();
    const received: number[] = [];
    const loader = new HistoryLoader(fetchColumns, (columns) => received.push(...columns.map((c) => c.seq)), () => undefined);
    loader.request([[CHUNK_COLUMNS * 3 + 10, CHUNK_COLUMNS * 4 + 5]]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ fromSeq: CHUNK_COLUMNS * 4, toSeq: CHUNK_COLUMNS * 5 - 1 });
    loader.request([[CHUNK_COLUMNS * 4, CHUNK_COLUMNS * 4]]);
    expect(calls).toHaveLength(1);
    calls[0]!.resolve([{ seq: CHUNK_COLUMNS * 4, startMs: 0, intervalMs: 1000, series: [] }]);
    await flush();
    expect(received).toEqual([CHUNK_COLUMNS * 4]);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({ fromSeq: CHUNK_COLUMNS * 3 });
    calls[1]!.resolve([]);
    await flush();
    expect(loader.busy).toBe(false);
  });

  it('forgets what it asked for when the server changes', async () => {
    const { calls, fetchColumns } = deferred();
    const loader = new HistoryLoader(fetchColumns, () => undefined, () => undefined);
    loader.request([[5, 6]]);
    calls[0]!.resolve([]);
    await flush();
    loader.request([[5, 6]]);
    expect(calls).toHaveLength(1);
    loader.forget();
    loader.request([[5, 6]]);
    expect(calls).toHaveLength(2);
  });
});
