/**
 * An I/O burst against a low exemplar rate cap, through the running dashboard: the kernel drops
 * what is over the cap and counts every drop, so /api/exemplars accounts for each request, while
 * the server keeps only a bounded store and a bounded heap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../shared/buckets.ts';
import { createLoopDevice, directIo, kernelSkipReason, unseenAllowed, type LoopDevice } from './kernel.ts';
import { serve, sleep, type Served } from './server-harness.ts';

const skip = kernelSkipReason();
const WRITES = 3000;
const RATE = 8; // exemplars per second of each latency bucket: 2 per 250-ms column
const HEAP_BOUND = 64 * 2 ** 20;

interface Answer {
  readonly matched: number;
  readonly dropped: number;
  readonly exemplars: { comm: string; timeMs: number; latencyNs: number }[];
}

interface Meta {
  readonly memory: { heapUsed: number };
  readonly exemplars: { held: number; capacity: number; capture: { thresholdNs: number | null; perBucketPerSecond: number } | null };
}

describe.skipIf(skip !== null)(`an I/O burst against the exemplar rate cap${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let served: Served;
  let answer: Answer;
  let meta: Meta;
  let columns: number;
  /** writes the kernel accounted while no program saw them (about one in 10,000): no exemplar, no drop */
  let unseen: number;

  beforeAll(async () => {
    loop = createLoopDevice();
    served = await serve(['--port', '0', '--interval', '250', '--threshold', '0', '--exemplar-rate', String(RATE)]);
    const fromMs = Date.now() - 1000;
    directIo(loop, 'write', WRITES);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const response = await served.get(`/api/exemplars?from=${fromMs}&device=${loop.name}&op=write&limit=10000`);
      const written = await served.get(`/api/columns?from=${fromMs}&device=${loop.name}&op=write`);
      if (response.status === 200 && written.status === 200) {
        answer = response.body as Answer;
        unseen = (written.body as { columns: { unseen?: number }[] }).columns.reduce((sum, c) => sum + (c.unseen ?? 0), 0);
        if (answer.matched + answer.dropped + unseen >= WRITES) break;
      }
      if (Date.now() > deadline) throw new Error(`the server never accounted for ${WRITES} writes: ${response.text}`);
      await sleep(200);
    }
    const span = (await served.get(`/api/columns?from=${fromMs}`)).body as { columns: unknown[] };
    columns = span.columns.length;
    meta = (await served.get('/api/meta')).body as Meta;
  }, 120_000);

  afterAll(async () => {
    await served?.stop();
    loop?.remove();
  });

  it('drops what is over the cap and counts each drop: captured plus dropped is every write the tracer saw', () => {
    expect(answer.dropped).toBeGreaterThan(0);
    expect(answer.matched + answer.dropped + unseen).toBe(WRITES);
    expect(unseen).toBeLessThan(unseenAllowed(WRITES));
    expect(answer.exemplars.every((e) => e.comm === 'dd')).toBe(true);
  });

  it('keeps at most the cap per latency bucket and column', () => {
    const perCell = new Map<string, number>();
    for (const e of answer.exemplars) {
      const cell = `${Math.floor(e.timeMs / 250)}:${slotOf(e.latencyNs)}`;
      perCell.set(cell, (perCell.get(cell) ?? 0) + 1);
    }
    expect(answer.exemplars).toHaveLength(answer.matched);
    expect(Math.max(...perCell.values())).toBeLessThanOrEqual(Math.ceil((RATE * 250) / 1000));
    expect(perCell.size).toBeLessThanOrEqual(columns * 323);
  });

  it('keeps the server within its bounds', () => {
    expect(meta.exemplars.capture).toEqual({ thresholdNs: 0, perBucketPerSecond: RATE });
    expect(meta.exemplars.held).toBeLessThanOrEqual(meta.exemplars.capacity);
    expect(meta.memory.heapUsed).toBeLessThan(HEAP_BOUND);
  });
});
