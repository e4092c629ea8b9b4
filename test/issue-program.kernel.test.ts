/**
 * The issue-time program for devices without the kernel's stamp is attached only on demand: the
 * default mode opens with one block_io_start program and the completion program, attaches
 * time_rq_issue when asked, and still counts every request of a stamped device exactly with it
 * attached (it returns at once for them). Modes that cannot use it attach nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readableAt } from '../server/tracer/clock.ts';
import { Tracer, type TracerMode } from '../server/tracer/tracer.ts';
import { createLoopDevice, directIo, kernelSkipReason, unseenIn, type LoopDevice } from './kernel.ts';

const skip = kernelSkipReason();
const WRITES = 300;

/**
 * The programs the tracer attached at open, then after asking for the issue program, and the
 * writes it counted on the loop device: in a latency bucket, or as unseen (a completion the kernel
 * ran no program for, rare, more likely while other tracers attach: counted, never lost).
 */
async function traceWith(
  loop: LoopDevice,
  mode: TracerMode,
): Promise<{ atOpen: string[]; asked: boolean; after: string[]; counted: number; askedAfterDetach: boolean; afterDetach: string[] }> {
  const tracer = Tracer.open(1000, mode);
  try {
    const atOpen = tracer.programs.map((p) => p.name);
    const asked = tracer.timeUnstampedDevices();
    const after = tracer.programs.map((p) => p.name);
    directIo(loop, 'write', WRITES);
    const last = tracer.currentColumn();
    while (readableAt(tracer.clock, last) > process.hrtime.bigint()) await new Promise((r) => setTimeout(r, 20));
    const columns = [];
    for (let column = tracer.firstColumn; column <= last; column++) columns.push(tracer.takeColumn(column));
    const device = tracer.devicesFor(columns.flatMap((c) => c.series)).find((d) => d.name === loop.name);
    const timed = columns
      .flatMap((c) => c.series)
      .filter((s) => s.device === device?.id && s.metric === 'latency' && s.op === 'write')
      .reduce((total, s) => total + s.counts.reduce((a, b) => a + b, 0), 0);
    const unseen = unseenIn(columns, device?.id, 'write');
    tracer.detach();
    const askedAfterDetach = tracer.timeUnstampedDevices();
    return { atOpen, asked, after, counted: timed + unseen, askedAfterDetach, afterDetach: tracer.programs.map((p) => p.name) };
  } finally {
    tracer.close();
  }
}

describe.skipIf(skip !== null)(`the issue program on demand${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let byDefault: Awaited<ReturnType<typeof traceWith>>;
  let exemplarsOff: Awaited<ReturnType<typeof traceWith>>;
  let startMap: Awaited<ReturnType<typeof traceWith>>;

  beforeAll(async () => {
    loop = createLoopDevice();
    byDefault = await traceWith(loop, { startMap: false, exemplars: true });
    exemplarsOff = await traceWith(loop, { startMap: false, exemplars: false });
    startMap = await traceWith(loop, { startMap: true, exemplars: true });
  }, 120_000);

  afterAll(() => loop?.remove());

  it('opens the default mode with no program at issue, and attaches time_rq_issue when asked', () => {
    expect(byDefault.atOpen).toEqual(['store_io_start', 'block_rq_complete']);
    expect(byDefault.asked).toBe(true);
    expect(byDefault.after).toEqual(['store_io_start', 'block_rq_complete', 'time_rq_issue']);
  });

  it('attaches nothing once detached (the last columns are final), and lists no program then', () => {
    expect(byDefault.askedAfterDetach).toBe(false);
    expect(byDefault.afterDetach).toEqual([]);
  });

  it('still counts every write of a stamped device, each timed', () => {
    expect(byDefault.counted).toBe(WRITES);
  });

  it('attaches nothing with exemplars off (it would have no store to time from), nor with the start map (already timed at issue)', () => {
    expect(exemplarsOff.asked).toBe(false);
    expect(exemplarsOff.after).toEqual(['block_rq_complete']);
    expect(startMap.asked).toBe(true);
    expect(startMap.after).toEqual(['start_rq_insert', 'start_rq_issue', 'block_rq_complete']);
    expect(exemplarsOff.counted).toBe(WRITES);
    expect(startMap.counted).toBe(WRITES);
  });
});
