/**
 * The live source's stop path over the real kernel: the last, partial column and its exemplars are
 * delivered, and the dashboard's /metrics or /api/meta, which may ask for selfStats() between
 * source.stop() and the server's close, gets the counters kept at stop instead of reading the
 * unmapped maps (which would end the process with SIGSEGV).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column, DeviceInfo } from '../shared/column.ts';
import type { Exemplar } from '../shared/exemplar.ts';
import type { SelfStats } from '../shared/protocol.ts';
import { createBpfSource } from '../server/sources/bpf.ts';
import { DEFAULT_MODE } from '../server/tracer/tracer.ts';
import { createLoopDevice, kernelSkipReason, type LoopDevice } from './kernel.ts';

const skip = kernelSkipReason();
const WRITES = 100;

describe.skipIf(skip !== null)(`the bpf source after stop${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  const columns: Column[] = [];
  const exemplars: Exemplar[] = [];
  let devices: readonly DeviceInfo[] = [];
  let afterStop: (SelfStats | null)[] = [];

  beforeAll(async () => {
    loop = createLoopDevice(16);
    const source = createBpfSource({ intervalMs: 250, selfStats: true, thresholdNs: 0, exemplarRate: 1_000_000, mode: DEFAULT_MODE, sayOnStderr: false });
    try {
      await source.start({
        column: (column) => columns.push(column),
        devices: (known) => (devices = known),
        exemplars: (batch) => exemplars.push(...batch),
      });
      const dd = spawnSync('dd', ['if=/dev/zero', `of=${loop.path}`, 'bs=4096', `count=${WRITES}`, 'oflag=direct'], { stdio: 'ignore' });
      expect(dd.status).toBe(0);
    } finally {
      await source.stop();
    }
    afterStop = [source.selfStats!(), source.selfStats!()];
  }, 60_000);

  afterAll(() => loop?.remove());

  it("delivers every write's exemplar, the last partial column's too", () => {
    const id = devices.find((d) => d.name === loop.name)?.id;
    expect(id).toBeDefined();
    const mine = exemplars.filter((e) => e.device === id);
    expect(mine.filter((e) => e.comm === 'dd' && e.op === 'write')).toHaveLength(WRITES);
    expect(columns.length).toBeGreaterThan(0);
  });

  it('answers selfStats() after stop with the counters kept at stop, the same each time', () => {
    expect(afterStop[0]).toEqual(afterStop[1]);
    expect(afterStop[0]?.programs).toEqual([]);
    expect(afterStop[0]?.ringOverrun).toBe(0);
    expect(Number.isInteger(afterStop[0]?.unseen)).toBe(true);
  });
});
