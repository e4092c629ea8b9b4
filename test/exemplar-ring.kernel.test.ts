/**
 * The exemplar ring read from its memory (server/tracer/ring.ts) over the real kernel's ring
 * buffer: more records than the ring holds (one and a half rings), read a column at a time while dd
 * writes, so the positions wrap past the ring's end. Every write is an exemplar read once, whole, or
 * a counted drop, or counted unseen. After close() the tracer reads nothing and keeps its last counts.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXEMPLAR_BYTES, EXEMPLAR_RING_BYTES } from '../shared/scheme.ts';
import type { Column } from '../shared/column.ts';
import type { Exemplar } from '../shared/exemplar.ts';
import { readableAt } from '../server/tracer/clock.ts';
import { recordSpan } from '../server/tracer/ring.ts';
import { Tracer, type TracerCounters } from '../server/tracer/tracer.ts';
import { createLoopDevice, kernelSkipReason, unseenIn, type LoopDevice } from './kernel.ts';

const skip = kernelSkipReason();
const RING_RECORDS = EXEMPLAR_RING_BYTES / recordSpan(EXEMPLAR_BYTES);
const WRITES = Math.round(RING_RECORDS * 1.5);
/** the smallest write keeps the record count with the least memory in /dev/shm */
const WRITE_BYTES = 512;

describe.skipIf(skip !== null)(`the exemplar ring read from its memory${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  const columns: Column[] = [];
  const exemplars: Exemplar[] = [];
  let deviceId: number | undefined;
  let countersAtClose: TracerCounters | undefined;
  let afterClose: { exemplars: Exemplar[]; counters: TracerCounters; takeColumn: () => unknown } | undefined;

  beforeAll(async () => {
    loop = createLoopDevice(Math.ceil((WRITES * WRITE_BYTES) / 2 ** 20) + 1, '/dev/shm');
    const tracer = Tracer.open(250);
    try {
      tracer.setExemplarThreshold(0);
      tracer.setExemplarCap(Number.MAX_SAFE_INTEGER);
      let next = tracer.firstColumn;
      const readReady = () => {
        while (readableAt(tracer.clock, next) <= process.hrtime.bigint()) columns.push(tracer.takeColumn(next++));
        exemplars.push(...tracer.takeExemplars());
      };
      const reading = setInterval(readReady, 250);
      try {
        await new Promise<void>((resolve, reject) => {
          const dd = spawn('dd', ['if=/dev/zero', `of=${loop.path}`, `bs=${WRITE_BYTES}`, `count=${WRITES}`, 'oflag=direct'], { stdio: 'ignore' });
          dd.once('error', reject);
          dd.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`dd exited with ${code}`))));
        });
      } finally {
        clearInterval(reading);
      }
      const last = tracer.currentColumn();
      while (readableAt(tracer.clock, last) > process.hrtime.bigint()) await new Promise((r) => setTimeout(r, 20));
      readReady();
      deviceId = tracer.devicesFor(columns.flatMap((c) => c.series)).find((d) => d.name === loop.name)?.id;
      expect(tracer.counters().ringOverrun).toBe(0);
      countersAtClose = tracer.counters();
    } finally {
      tracer.close();
    }
    afterClose = { exemplars: tracer.takeExemplars(), counters: tracer.counters(), takeColumn: () => tracer.takeColumn(tracer.currentColumn()) };
  }, 180_000);

  afterAll(() => loop?.remove());

  const mine = () => exemplars.filter((e) => e.device === deviceId);

  it('reads more records than the ring holds: its positions wrapped', () => {
    expect(deviceId).toBeDefined();
    expect(mine().length).toBeGreaterThan(RING_RECORDS);
  });

  it('accounts for every write: an exemplar read once, or a counted drop, or unseen', () => {
    const dropped = columns.flatMap((c) => c.droppedExemplars ?? []).filter((d) => d.device === deviceId).reduce((t, d) => t + d.count, 0);
    expect(mine().length + dropped + unseenIn(columns, deviceId)).toBe(WRITES);
    // dd writes the device front to back: every sector once
    expect(new Set(mine().map((e) => e.sector)).size).toBe(mine().length);
  });

  it('reads each record whole: the writes as dd made them', () => {
    const wrong = mine().filter((e) => e.comm !== 'dd' || e.op !== 'write' || e.bytes !== WRITE_BYTES || e.sector === null || e.sector >= WRITES);
    expect(wrong).toEqual([]);
  });

  it('reads nothing after close and keeps the counts it had, instead of touching unmapped memory', () => {
    expect(afterClose?.exemplars).toEqual([]);
    expect(countersAtClose).toBeDefined();
    expect(afterClose?.counters).toEqual(countersAtClose);
    expect(afterClose?.takeColumn).toThrow('taking a column after the tracer was closed');
  });
});
