/**
 * Exemplars name the process that issued each I/O: dd, copied to a program with a
 * distinctive name, writes to the test's own loop device with a threshold of 0, so every
 * one of its requests is either an exemplar or counted as dropped.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../shared/buckets.ts';
import type { Column } from '../shared/column.ts';
import type { Exemplar } from '../shared/exemplar.ts';
import { readableAt } from '../server/tracer/clock.ts';
import { Tracer } from '../server/tracer/tracer.ts';
import { createLoopDevice, kernelSkipReason, unseenIn, type LoopDevice } from './kernel.ts';
import { startBpfheat } from './cli.ts';
import { tempDir } from './temp-dirs.ts';

const skip = kernelSkipReason();
const PROGRAM = 'bpfheat-probe';

function run(program: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(child.pid!) : reject(new Error(`${program} exited with ${code}`))));
  });
}

interface Traced {
  readonly columns: Column[];
  readonly exemplars: Exemplar[];
  readonly deviceId: number;
  readonly pid: number;
}

/** Traces one run of the renamed dd with the given exemplar cap per latency bucket and column. */
async function trace(loop: LoopDevice, program: string, writes: number, capPerBucket: number): Promise<Traced> {
  // nothing reads columns while dd runs: 1-s columns give the ring (8 columns) room for a slow machine
  const tracer = Tracer.open(1000);
  try {
    tracer.setExemplarThreshold(0);
    tracer.setExemplarCap(capPerBucket);
    const pid = await run(program, ['if=/dev/zero', `of=${loop.path}`, 'bs=4096', `count=${writes}`, 'oflag=direct']);
    const last = tracer.currentColumn();
    while (readableAt(tracer.clock, last) > process.hrtime.bigint()) await new Promise((r) => setTimeout(r, 20));
    const columns: Column[] = [];
    for (let column = tracer.firstColumn; column <= last; column++) columns.push(tracer.takeColumn(column));
    const exemplars = tracer.takeExemplars();
    const device = tracer.devicesFor(columns.flatMap((c) => c.series)).find((d) => d.name === loop.name);
    if (!device) throw new Error(`the tracer never saw ${loop.name}`);
    if (tracer.counters().ringOverrun > 0) throw new Error('the ring of columns overran: the test read too late');
    return { columns, exemplars, deviceId: device.id, pid };
  } finally {
    tracer.close();
  }
}

const dropsOn = (traced: Traced) =>
  traced.columns.flatMap((c) => c.droppedExemplars ?? []).filter((d) => d.device === traced.deviceId).reduce((t, d) => t + d.count, 0);

/** completions the kernel accounted while no program saw them: neither an exemplar nor a drop */
const unseenOn = (traced: Traced) => unseenIn(traced.columns, traced.deviceId);

describe.skipIf(skip !== null)(`exemplars on a loop device${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let program: string;
  let generous: Traced;
  let capped: Traced;
  let scheduled: Traced;

  beforeAll(async () => {
    loop = createLoopDevice();
    program = join(tempDir('bpfheat-exemplar-'), PROGRAM);
    copyFileSync('/usr/bin/dd', program);
    chmodSync(program, 0o755);
    generous = await trace(loop, program, 400, 100_000);
    capped = await trace(loop, program, 2000, 5);
    // with an I/O scheduler the request is inserted, then dispatched later, possibly by a kworker
    writeFileSync(`/sys/block/${loop.name}/queue/scheduler`, 'mq-deadline');
    scheduled = await trace(loop, program, 400, 100_000);
  }, 120_000);

  afterAll(() => {
    loop?.remove();
  });

  it('names the issuing program and its pid', () => {
    const mine = generous.exemplars.filter((e) => e.device === generous.deviceId);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.comm === PROGRAM && e.pid === generous.pid)).toBe(true);
    expect(mine.every((e) => e.op === 'write' && e.bytes === 4096 && e.latencyNs > 0)).toBe(true);
  });

  it('names the submitting program behind an I/O scheduler too', () => {
    const mine = scheduled.exemplars.filter((e) => e.device === scheduled.deviceId);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.comm === PROGRAM && e.pid === scheduled.pid)).toBe(true);
    expect(mine.length + dropsOn(scheduled) + unseenOn(scheduled)).toBe(400);
  });

  it('accounts for every request: exemplars plus dropped (plus unseen) equals the I/Os sent', () => {
    const mine = generous.exemplars.filter((e) => e.device === generous.deviceId).length;
    expect(mine + dropsOn(generous) + unseenOn(generous)).toBe(400);
  });

  it('carries each request’s own sector, in the order dd wrote them', () => {
    const sectors = generous.exemplars.filter((e) => e.device === generous.deviceId).map((e) => e.sector ?? -1);
    expect(sectors).toEqual([...sectors].sort((a, b) => a - b));
    expect(new Set(sectors).size).toBe(sectors.length);
    expect(sectors.every((s) => s >= 0 && s % 8 === 0 && s < 400 * 8)).toBe(true);
  });

  it('drops beyond the rate cap, and counts every drop', () => {
    const mine = capped.exemplars.filter((e) => e.device === capped.deviceId).length;
    const drops = dropsOn(capped);
    expect(drops).toBeGreaterThan(0);
    expect(mine + drops + unseenOn(capped)).toBe(2000);
  });

  it('caps each latency bucket of a column apart, and drops only from buckets that reached the cap', () => {
    // the cap is per bucket and column over every device: count every exemplar of the machine
    const cell = (seq: number, slot: number) => `${seq}:${slot}`;
    const kept = new Map<string, number>();
    for (const e of capped.exemplars) {
      const key = cell(Math.floor(e.timeMs / 1000), slotOf(e.latencyNs));
      kept.set(key, (kept.get(key) ?? 0) + 1);
    }
    expect(Math.max(...kept.values())).toBeLessThanOrEqual(5);
    const fullCells = capped.columns.flatMap((c) => (c.droppedExemplars ?? []).map((d) => cell(c.seq, d.slot!)));
    expect(fullCells.length).toBeGreaterThan(0);
    expect(fullCells.map((key) => [key, kept.get(key)])).toEqual(fullCells.map((key) => [key, 5]));
  });

  it('stamps the program’s exemplars inside the columns that counted them', () => {
    const first = generous.columns[0]!.startMs;
    const end = generous.columns.at(-1)!.startMs + 1000;
    expect(generous.exemplars.filter((e) => e.device === generous.deviceId).filter((e) => !(e.timeMs >= first && e.timeMs < end)).map((e) => [e.timeMs, first, end])).toEqual([]);
  });

  it('prints a bitesize histogram for the program with --text --by-process', async () => {
    const tracing = startBpfheat(['--text', '--by-process', '--device', loop.name, '--interval', '250', '--exemplar-rate', '100000']);
    await tracing.firstLine;
    const pid = await run(program, ['if=/dev/zero', `of=${loop.path}`, 'bs=4096', 'count=120', 'oflag=direct']);
    const { code, stdout } = await tracing.stop();
    expect(code).toBe(0);
    const blocks = stdout.split('\nPID: ').slice(1);
    const mine = blocks.filter((b) => b.startsWith(`${pid}    CMD: ${PROGRAM}\n`));
    expect(mine.length).toBeGreaterThan(0);
    const counted = mine.flatMap((b) => [...b.matchAll(/ : (\d+) +\|/g)].map((m) => Number(m[1]))).reduce((a, b) => a + b, 0);
    expect(counted).toBe(120);
    // Each interval: a heading with the device and its total, then whether its histograms hold every I/O.
    const intervals = [...stdout.matchAll(/^\d\d:\d\d:\d\d {2}device (\S+) {2}total (\d+) I\/Os? in 250 ms\n(.*)$/gm)];
    expect(intervals.length).toBeGreaterThan(0);
    expect(intervals.filter((m) => m[1] !== loop.name)).toEqual([]);
    expect(intervals.reduce((sum, m) => sum + Number(m[2]), 0)).toBe(120);
    // every I/O is an exemplar here: each busy interval says so, with its count
    expect(intervals.filter((m) => m[2] !== '0').map((m) => m[3])).toEqual(intervals.filter((m) => m[2] !== '0').map((m) => `every I/O shown (${m[2]})`));
  }, 60_000);
});
