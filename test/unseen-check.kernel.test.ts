/**
 * The check for unseen completions compares what each CPU saw with the kernel's own counters of
 * the device on that CPU, and keeps what the counter must read next: once the kernel has counted
 * the completion, that is the counter itself. So on a device that completed writes before tracing
 * began, the sum over the CPUs of the expected write counts equals the writes completed in
 * /sys/block/<dev>/stat as soon as every CPU that completed one has completed one while traced. A
 * check that read no counter (a wrong address reads 0) would sum only the writes it saw, which fall
 * short by those made before.
 */
import { cpus } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DEVICES } from '../shared/scheme.ts';
import { lookupElem } from '../server/tracer/libbpf.ts';
import { possibleCpuCount, Tracer } from '../server/tracer/tracer.ts';
import { createLoopDevice, diskStat, directIo, finalColumns, kernelSkipReason, type LoopDevice } from './kernel.ts';

const skip = kernelSkipReason();
const WRITES_BEFORE = 100;
const WRITES_A_TRY = 50;
const TRIES = 20;
/** struct device_on_cpu in bpf/bpfheat.bpf.c: counters, expected[read, write, discard], padding */
const ENTRY_BYTES = 64;
const EXPECTED_WRITES_OFFSET = 16;

/** The writes each CPU expects the device's counter to read next, summed. */
function expectedWrites(tracer: Tracer, device: number): bigint {
  const key = new Uint8Array(4);
  const value = new Uint8Array(ENTRY_BYTES);
  const views = new DataView(value.buffer);
  let sum = 0n;
  for (let cpu = 0; cpu < possibleCpuCount(); cpu++) {
    new DataView(key.buffer).setUint32(0, cpu * MAX_DEVICES + device, true);
    expect(lookupElem(tracer.devicesOnCpusFd, key, value)).toBe(true);
    sum += views.getBigUint64(EXPECTED_WRITES_OFFSET, true);
  }
  return sum;
}

describe.skipIf(skip !== null)(`the check for unseen completions against the kernel's counters${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let tracer: Tracer;

  beforeAll(() => {
    // on a file in memory, a loop device completes a request on the CPU that submitted it; on a
    // disk, on the CPU that takes the disk's interrupts, so a CPU that completed its writes before
    // (the device's counters hold every write since it was made, other tests' too) might never again
    loop = createLoopDevice(64, '/dev/shm');
    directIo(loop, 'write', WRITES_BEFORE);
    tracer = Tracer.open(1000);
  });

  afterAll(() => {
    tracer?.close();
    loop?.remove();
  });

  it("expects, summed over the CPUs, the device's writes the kernel completed, those before tracing included", async () => {
    directIo(loop, 'write', WRITES_A_TRY);
    const columns = await finalColumns(tracer);
    const device = tracer.devicesFor(columns.flatMap((c) => c.series)).find((d) => d.name === loop.name);
    expect(device, 'the loop device has an index').toBeDefined();
    const kernelWrites = () => BigInt(diskStat(loop)[4]!);
    // a CPU that completed writes before tracing and none since is not in the sum yet: write again,
    // from each CPU in turn
    const online = cpus().length;
    for (let tries = 1; tries < TRIES && expectedWrites(tracer, device!.id) !== kernelWrites(); tries++) directIo(loop, 'write', WRITES_A_TRY, tries % online);
    expect(kernelWrites()).toBeGreaterThanOrEqual(WRITES_BEFORE + WRITES_A_TRY);
    expect(expectedWrites(tracer, device!.id)).toBe(kernelWrites());
  }, 120_000);
});
