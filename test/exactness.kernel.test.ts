/**
 * Every completion the kernel accounts is in a column: under fio (random 4 KiB reads and writes,
 * io_uring, 8 in flight, 10 s) on the test's own loop device, bpfheat's total for that device
 * plus the completions it counted as unseen equals the delta of /sys/block/<dev>/stat, exactly,
 * in every mode, run after run, also while a second bpfheat starts and stops on the machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completedIos, createLoopDevice, fioRandrw, kernelSkipReason, type LoopDevice } from './kernel.ts';
import { jsonl, startBpfheat, type Running } from './cli.ts';

const skip = kernelSkipReason();
const FIO_SECONDS = 10;

interface Run {
  readonly accounted: number;
  readonly total: number;
  readonly unseen: number;
  readonly churned: number;
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
    const columns = jsonl(await tracer.stop());
    return {
      accounted,
      total: columns.reduce((sum, c) => sum + c.total, 0),
      unseen: columns.reduce((sum, c) => sum + c.unseen, 0),
      churned,
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
  ] as const)('%s: total + unseen equals the completions in /sys/block/<dev>/stat', async (_name, args, withChurn) => {
    const run = await traceFio(loop, args, withChurn);
    expect(run.accounted).toBeGreaterThan(10_000);
    if (withChurn) expect(run.churned).toBeGreaterThan(0);
    expect(run.total + run.unseen, JSON.stringify(run)).toBe(run.accounted);
    expect(run.unseen).toBeLessThan(run.accounted / 100);
  }, 120_000);
});
