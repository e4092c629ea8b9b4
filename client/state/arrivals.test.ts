import { describe, expect, it } from 'vitest';
import { decodePackedColumns, encodePackedColumns, type PackedColumns } from '../../shared/protocol.ts';
import { CHUNK_ROLLUPS } from '../net/history.ts';
import { HistoryArrivals } from './arrivals.ts';

const STEP_MS = 60_000;
const SLICE = 300;

/** A column fetcher whose requests the test answers (or fails) one by one. */
function fakeServer() {
  const calls: { fromSeq: number; resolve: (packed: PackedColumns) => void; reject: (error: Error) => void }[] = [];
  const fetchColumns = (_stepMs: number, fromSeq: number) => new Promise<PackedColumns>((resolve, reject) => calls.push({ fromSeq, resolve, reject }));
  return { calls, fetchColumns };
}

/** `count` roll-ups from `fromSeq` on, as the server packs them. */
const rollups = (fromSeq: number, count: number): PackedColumns =>
  decodePackedColumns(encodePackedColumns(Array.from({ length: count }, (_, i) => ({ seq: fromSeq + i, startMs: (fromSeq + i) * STEP_MS, intervalMs: STEP_MS, series: [] })), STEP_MS, null));

const flush = () => new Promise((r) => setTimeout(r, 0));

/** The page's side: what it added, a slice a frame, and how many frames it drew. */
function page() {
  const server = fakeServer();
  let changes = 0;
  const arrivals = new HistoryArrivals(server.fetchColumns, () => changes++);
  const added: [number, number][] = [];
  const frame = () => arrivals.addSlice(SLICE, (packed, from, to) => added.push([packed.seq[from]!, packed.seq[to - 1]!]));
  /** frames until nothing is left to add */
  const addAll = () => {
    while (arrivals.answersLeft > 0) frame();
  };
  return { server, arrivals, added, frame, addAll, changes: () => changes };
}

/** A 7-d view of 1-min roll-ups spanning two chunks: the newer is asked for first. */
const twoChunks: [number, number][] = [[CHUNK_ROLLUPS * 3 - 100, CHUNK_ROLLUPS * 3 + 500]];
const NEWER = CHUNK_ROLLUPS * 3;
const OLDER = CHUNK_ROLLUPS * 2;

describe('HistoryArrivals: when history is added in full (the version the colour scale is taken anew at)', () => {
  it('moves once the last chunk comes back empty (older than the server history) after the one before was added', async () => {
    const { server, arrivals, added, frame, addAll } = page();
    arrivals.request(STEP_MS, CHUNK_ROLLUPS, twoChunks);
    expect(server.calls.map((c) => c.fromSeq)).toEqual([NEWER]);
    server.calls[0]!.resolve(rollups(NEWER, 700));
    await flush();
    addAll();
    expect(added).toEqual([
      [NEWER, NEWER + 299],
      [NEWER + 300, NEWER + 599],
      [NEWER + 600, NEWER + 699],
    ]);
    // the older chunk is still asked for: not in full yet
    expect(server.calls.map((c) => c.fromSeq)).toEqual([NEWER, OLDER]);
    expect(arrivals.version).toBe(0);
    server.calls[1]!.resolve(rollups(OLDER, 0));
    await flush();
    expect(frame()).toBe(0);
    expect(arrivals.version).toBe(1);
    expect(arrivals.loading).toBe(false);
    // and stays: nothing more was added
    frame();
    expect(arrivals.version).toBe(1);
  });

  it('moves when the last request fails, with no frame adding anything', async () => {
    const { server, arrivals, addAll, changes } = page();
    arrivals.request(STEP_MS, CHUNK_ROLLUPS, twoChunks);
    server.calls[0]!.resolve(rollups(NEWER, 400));
    await flush();
    addAll();
    expect(arrivals.version).toBe(0);
    const before = changes();
    server.calls[1]!.reject(new Error('history request failed (500): boom'));
    await flush();
    expect(arrivals.version).toBe(1);
    expect(arrivals.lastError).toBe('history request failed (500): boom');
    // the page is told, so that it draws the frame that takes the new scale
    expect(changes()).toBe(before + 1);
  });

  it('moves with the last slice of the last answer, not before, when that answer holds columns', async () => {
    const { server, arrivals, frame } = page();
    arrivals.request(STEP_MS, CHUNK_ROLLUPS, twoChunks);
    server.calls[0]!.resolve(rollups(NEWER, 200));
    await flush();
    frame();
    expect(arrivals.version).toBe(0);
    server.calls[1]!.resolve(rollups(OLDER + CHUNK_ROLLUPS - 400, 400));
    await flush();
    expect(frame()).toBe(SLICE);
    expect(arrivals.version).toBe(0);
    expect(frame()).toBe(100);
    expect(arrivals.version).toBe(1);
  });

  it('moves again for each later load that adds something, and not for one that adds nothing', async () => {
    const { server, arrivals, addAll } = page();
    arrivals.request(STEP_MS, CHUNK_ROLLUPS, [[5, 5]]);
    server.calls[0]!.resolve(rollups(0, 10));
    await flush();
    addAll();
    expect(arrivals.version).toBe(1);
    arrivals.request(STEP_MS, CHUNK_ROLLUPS, [[CHUNK_ROLLUPS + 5, CHUNK_ROLLUPS + 5]]);
    server.calls[1]!.resolve(rollups(CHUNK_ROLLUPS, 0));
    await flush();
    addAll();
    expect(arrivals.version).toBe(1);
    arrivals.request(STEP_MS, CHUNK_ROLLUPS, [[CHUNK_ROLLUPS * 5, CHUNK_ROLLUPS * 5]]);
    server.calls[2]!.reject(new Error('offline'));
    await flush();
    expect(arrivals.version).toBe(1);
    // the backfill the server sends is an answer like any other
    arrivals.arrived(rollups(CHUNK_ROLLUPS * 6, 3));
    addAll();
    expect(arrivals.version).toBe(2);
  });

  it('forgets what arrived from a server that is gone, and what it had added: no version moves for it', async () => {
    const { server, arrivals, frame, added } = page();
    arrivals.request(STEP_MS, CHUNK_ROLLUPS, [[5, 5]]);
    server.calls[0]!.resolve(rollups(0, 400));
    await flush();
    // a slice of the answer added, the rest not yet
    expect(frame()).toBe(SLICE);
    arrivals.forget();
    expect(arrivals.loading).toBe(false);
    expect(frame()).toBe(0);
    expect(added).toEqual([[0, SLICE - 1]]);
    expect(arrivals.version, 'nothing of the new server added').toBe(0);
  });
});
