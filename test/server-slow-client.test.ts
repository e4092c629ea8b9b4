/**
 * A client that stops reading for 30 s while 1-ms synthetic columns stream (about 185 KB/s, so
 * the kernel's socket buffers, ~4 MB on loopback, fill after 15-20 s and the server has to
 * decide what to do with the rest).
 *
 * The stated bound, checked every second while the client is stalled:
 *   - its send queue (ws bufferedAmount) <= SEND_HIGH_WATER_BYTES (256 KiB) + one column;
 *   - the server's JS heap (heapUsed) < 48 MiB, and heapUsed + arrayBuffers < 96 MiB
 *     (measured here: heapUsed 10-18 MiB, arrayBuffers 2-34 MiB, most of it garbage between GCs;
 *     the history itself holds 1,000 columns, well under 1 MiB).
 * Without the skip the queue would hold every column after the kernel buffers filled: megabytes,
 * and growing for as long as the client does not read.
 *
 * When it reads again it gets, in order: what the kernel had buffered, a `gap` for the columns the
 * history no longer holds (the client was skipped for more columns than the 1,000 = 1 s the history
 * holds: how long the kernel's buffers absorb the stream before that varies with load), then every column the history
 * holds, then live ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEND_HIGH_WATER_BYTES } from '../server/dashboard/ws.ts';
import { consecutive, Recorder, serve, sleep, wsUrl, type Served } from './server-harness.ts';

const STALL_MS = 30_000;
const HISTORY_COLUMNS = 1000;
const HEAP_USED_BOUND = 48 * 2 ** 20;
const HEAP_AND_BUFFERS_BOUND = 96 * 2 ** 20;

interface Meta {
  readonly memory: { heapUsed: number; arrayBuffers: number };
  readonly history: { columns: number; oldestSeq: number; newestSeq: number; bytes: number };
  readonly clients: { clients: number; lagging: number; maxBufferedBytes: number; skippedColumns: number; maxColumnBytes: number };
}

let served: Served;

beforeAll(async () => {
  served = await serve(['--source', 'synthetic', '--port', '0', '--interval', '1', '--history', String(HISTORY_COLUMNS)]);
});

afterAll(async () => {
  await served?.stop();
});

describe('a client that stops reading', () => {
  it('leaves the server within its memory bound for 30 s, then gets every column the history still holds', async () => {
    const meta = async (): Promise<Meta> => (await served.get('/api/meta')).body as Meta;
    const reader = await Recorder.open(wsUrl(served));
    const slow = await Recorder.open(wsUrl(served));
    await slow.until((r) => r.some((m) => m.message.type === 'live'), 20_000, 'live');
    slow.ws.pause(); // stops reading the socket: the kernel buffers fill, then the server's queue
    const stalledAt = slow.received.length;

    const samples: Meta[] = [];
    const start = Date.now();
    while (Date.now() - start < STALL_MS) {
      await sleep(1000);
      samples.push(await meta());
    }
    const beforeResume = samples[samples.length - 1]!;
    expect(slow.received.length).toBe(stalledAt); // it really read nothing

    // The bound held at every sample...
    for (const s of samples) {
      expect(s.clients.maxBufferedBytes).toBeLessThanOrEqual(SEND_HIGH_WATER_BYTES + s.clients.maxColumnBytes);
      expect(s.memory.heapUsed).toBeLessThan(HEAP_USED_BOUND);
      expect(s.memory.heapUsed + s.memory.arrayBuffers).toBeLessThan(HEAP_AND_BUFFERS_BOUND);
      expect(s.history.columns).toBeLessThanOrEqual(HISTORY_COLUMNS);
    }
    // ...and was reached: the client was skipped, not merely slow.
    const why = 'the kernel absorbed 30 s of columns: this machine\'s loopback buffers are larger than the ~4 MB this test expects';
    expect(beforeResume.clients.lagging, why).toBe(1);
    expect(beforeResume.clients.skippedColumns, why).toBeGreaterThan(HISTORY_COLUMNS);
    const peakHeap = Math.max(...samples.map((s) => s.memory.heapUsed));
    console.log(
      `slow client: peak heapUsed ${(peakHeap / 2 ** 20).toFixed(1)} MiB, ` +
        `peak heapUsed+arrayBuffers ${(Math.max(...samples.map((s) => s.memory.heapUsed + s.memory.arrayBuffers)) / 2 ** 20).toFixed(1)} MiB, ` +
        `queue ${beforeResume.clients.maxBufferedBytes} B, skipped ${beforeResume.clients.skippedColumns} columns`,
    );

    slow.ws.resume();
    // Caught up: it has a column at least as new as the reader had a moment ago.
    const target = reader.seqs().at(-1)!;
    await slow.until((r) => r.some((m) => m.message.type === 'column' && m.message.column.seq >= target), 20_000, 'catching up');
    const afterCatchUp = await meta();
    await Promise.all([slow.close(), reader.close()]);

    const after = slow.received.slice(stalledAt).map((r) => r.message);
    const gaps = after.filter((m) => m.type === 'gap');
    expect(gaps).toHaveLength(1); // it was skipped for longer than the history holds
    const gap = gaps[0]!;
    if (gap.type !== 'gap') throw new Error('unreachable');
    // Every seq from the first to the last is either received once or inside the gap.
    const seqs = slow.seqs();
    const firstAfterGap = gap.toSeq + 1;
    const beforeGap = seqs.filter((s) => s < gap.fromSeq);
    const fromHistory = seqs.filter((s) => s >= firstAfterGap);
    expect(beforeGap.length + fromHistory.length).toBe(seqs.length);
    expect(consecutive(beforeGap)).toBe(true);
    expect(beforeGap.at(-1)).toBe(gap.fromSeq - 1);
    expect(consecutive(fromHistory)).toBe(true);
    expect(fromHistory[0]).toBe(firstAfterGap);
    // The gap covers only what the history had already lost when the client read again.
    expect(firstAfterGap).toBeGreaterThanOrEqual(beforeResume.history.oldestSeq);
    expect(firstAfterGap).toBeLessThanOrEqual(afterCatchUp.history.oldestSeq);
    // From the gap on it has every column, up to one at least as new as the reader had (the
    // history may have moved past that by the time /api/meta answers on a loaded machine).
    expect(fromHistory.at(-1)).toBeGreaterThanOrEqual(target);
  });
});
