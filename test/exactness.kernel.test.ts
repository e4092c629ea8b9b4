/**
 * Every completion the kernel accounts is in a column: under fio (random 4 KiB reads and writes,
 * io_uring, 8 in flight, 10 s) on the test's own loop device, bpfheat's total for that device
 * plus the completions it counted as unseen equals the delta of /sys/block/<dev>/stat, exactly,
 * in every mode, run after run, also while a second bpfheat starts and stops on the machine;
 * timed from the issue-side store, short by no more than the store's collisions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../shared/buckets.ts';
import { Tracer, type TracerMode } from '../server/tracer/tracer.ts';
import { completedIn, completedIos, createLoopDevice, diskStat, dsyncWrites, finalColumns, fioRandrw, kernelSkipReason, unseenIn, type LoopDevice } from './kernel.ts';
import { jsonl, startBpfheat, type Running } from './cli.ts';

const skip = kernelSkipReason();
const FIO_SECONDS = 10;

interface Run {
  readonly accounted: number;
  readonly total: number;
  readonly unseen: number;
  readonly churned: number;
  /** the tracer's counters, as it said them when it stopped: where a difference went */
  readonly stopped: string;
  /** store slots taken from a request in flight, on every device (the counter is not per device) */
  readonly storeCollisions: number;
}

/** Starts and stops another bpfheat, over and over, until told to stop; resolves with how many ran. */
function churn(): { stop(): Promise<number> } {
  let stopping = false;
  let current: Running | null = null;
  const done = (async () => {
    let runs = 0;
    while (!stopping) {
      current = startBpfheat(['--jsonl', '--interval', '250']);
      await current.attached;
      await current.stop();
      runs++;
    }
    return runs;
  })();
  return {
    async stop() {
      stopping = true;
      return done;
    },
  };
}

async function traceFio(loop: LoopDevice, args: readonly string[], withChurn: boolean): Promise<Run> {
  const tracer = startBpfheat(['--jsonl', '--device', loop.name, '--interval', '1000', ...args]);
  try {
    await tracer.attached;
    const before = completedIos(loop);
    const second = withChurn ? churn() : null;
    await fioRandrw(loop, FIO_SECONDS);
    const churned = (await second?.stop()) ?? 0;
    const accounted = completedIos(loop) - before;
    const result = await tracer.stop();
    const columns = jsonl(result);
    const stopped = /^bpfheat: tracing stopped \(counters over every device: unseen \d+, missedStart \d+, startFailed \d+, ringOverrun \d+, partial \d+, deviceOverflow \d+, storeCollisions \d+\)$/m.exec(result.stderr)?.[0];
    if (stopped === undefined) throw new Error(`bpfheat said no counters when it stopped: ${result.stderr}`);
    return {
      accounted,
      total: columns.reduce((sum, c) => sum + c.total, 0),
      unseen: columns.reduce((sum, c) => sum + c.unseen, 0),
      churned,
      stopped,
      storeCollisions: Number(/storeCollisions (\d+)/.exec(stopped)![1]),
    };
  } finally {
    await tracer.stop();
  }
}

describe.skipIf(skip !== null)(`exact counts under fio${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;

  beforeAll(() => {
    loop = createLoopDevice(256);
  });

  afterAll(() => loop?.remove());

  it.each([
    ['default mode, first run', [], false],
    ['default mode, second run, another bpfheat starting and stopping', [], true],
    ['--start-map, another bpfheat starting and stopping', ['--start-map'], true],
    ['--exemplars off', ['--exemplars', 'off'], false],
    ['--issue-store (every device timed as one without the kernel\'s stamp)', ['--issue-store'], false],
  ] as const)('%s: total + unseen equals the completions in /sys/block/<dev>/stat (from the store: short by no more than its collisions)', async (_name, args, withChurn) => {
    const run = await traceFio(loop, args, withChurn);
    expect(run.accounted).toBeGreaterThan(10_000);
    if (withChurn) expect(run.churned).toBeGreaterThan(0);
    const said = JSON.stringify(run);
    const uncounted = run.accounted - run.total - run.unseen;
    expect(uncounted, said).toBeGreaterThanOrEqual(0);
    // Timed from the store, a request whose slot another request in flight took (the loop
    // device's own request on the disk under it, say, at an address a multiple of 16 MiB away)
    // has no start: each such collision loses at most that one request's time.
    expect(uncounted, said).toBeLessThanOrEqual((args as readonly string[]).includes('--issue-store') ? run.storeCollisions : 0);
    expect(run.unseen).toBeLessThan(run.accounted / 100);
  }, 120_000);
});

/** /sys/block/<dev>/stat field 5: writes completed */
const WRITES_COMPLETED = 4;
const DSYNC_WRITES = 400;

interface SyncRun {
  /** reads + writes + discards + flushes completed in /sys/block/<dev>/stat, and of them writes */
  readonly accounted: number;
  readonly writes: number;
  /** completions of every op bpfheat counted, or counted as unseen */
  readonly all: number;
  readonly counted: number;
  readonly unseen: number;
  /** write completions counted with each size */
  readonly empty: number;
  readonly fourKiB: number;
  /** of every device on the machine (the counter is not per device): said, not asserted */
  readonly missedStart: number;
}

/** dsync writes on the loop device, traced in a mode: what the kernel accounted, what bpfheat counted. */
async function traceDsyncWrites(loop: LoopDevice, mode: TracerMode): Promise<SyncRun> {
  const tracer = Tracer.open(1000, mode);
  try {
    const before = diskStat(loop);
    dsyncWrites(loop, DSYNC_WRITES);
    const after = diskStat(loop);
    const columns = await finalColumns(tracer);
    const device = tracer.devicesFor(columns.flatMap((c) => c.series)).find((d) => d.name === loop.name)?.id;
    const mine = columns.flatMap((c) => c.series).filter((s) => s.device === device && s.metric === 'latency');
    const writes = columns.flatMap((c) => c.series).filter((s) => s.device === device && s.op === 'write');
    const countOf = (metric: string, slot?: number) =>
      writes.filter((s) => s.metric === metric).reduce((sum, s) => sum + s.counts.reduce((a, n, k) => a + (slot === undefined || s.slots[k] === slot ? n : 0), 0), 0);
    const sum = (counts: readonly number[]) => counts.reduce((a, b) => a + b, 0);
    return {
      accounted: completedIn(after) - completedIn(before),
      writes: after[WRITES_COMPLETED]! - before[WRITES_COMPLETED]!,
      all: sum(mine.map((s) => sum(s.counts))) + unseenIn(columns, device),
      counted: countOf('latency'),
      unseen: unseenIn(columns, device, 'write'),
      empty: countOf('size', slotOf(0)),
      fourKiB: countOf('size', slotOf(4096)),
      missedStart: tracer.counters().missedStart,
    };
  } finally {
    tracer.close();
  }
}

describe.skipIf(skip !== null)(`exact counts of synchronous writes (flush sequences)${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;

  beforeAll(() => {
    loop = createLoopDevice();
  });

  afterAll(() => loop?.remove());

  // On a loop device (a volatile write cache, no FUA) each dsync write is a flush sequence: the
  // tracepoint fires at its data and again after the flush, with no data left; the kernel accounts
  // it once. The sync adds an empty flush write after each, never issued itself: the kernel
  // accounts it as a write of size 0.
  it.each([
    ['default mode', { startMap: false, exemplars: true }],
    ['--start-map', { startMap: true, exemplars: true }],
    ['--issue-store', { startMap: false, exemplars: true, issueStore: true }],
    ['--exemplars off', { startMap: false, exemplars: false }],
  ] as const)('%s: each write counted once, with its size; counted + unseen equals /sys/block/<dev>/stat', async (_name, mode) => {
    const run = await traceDsyncWrites(loop, mode);
    const said = JSON.stringify(run);
    expect(run.writes, said).toBe(2 * DSYNC_WRITES);
    expect(run.counted + run.unseen, said).toBe(run.writes);
    expect(run.all, said).toBe(run.accounted);
    expect(run.fourKiB + run.empty, said).toBe(run.counted);
    expect(run.fourKiB + run.unseen, said).toBeGreaterThanOrEqual(DSYNC_WRITES);
    expect(run.empty + run.unseen, said).toBeGreaterThanOrEqual(DSYNC_WRITES);
  }, 60_000);
});
