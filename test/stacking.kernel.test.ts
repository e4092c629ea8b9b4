/**
 * Stacked devices on the real kernel: a loop device on a file is stacked on the disk that holds
 * the file, and the live dashboard says so in its device table (what the page's note reads).
 * The disk is found here independently of bpfheat, by findmnt and lsblk.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackedOn } from '../server/tracer/stacking.ts';
import { createLoopDevice, directIo, kernelSkipReason, type LoopDevice } from './kernel.ts';
import { serve, sleep, type Served } from './server-harness.ts';

const skip = kernelSkipReason();

/** The whole disk under a file: the mount's source device, or its parent when that is a partition. */
function diskHolding(file: string): string {
  const source = execFileSync('findmnt', ['-n', '-o', 'SOURCE', '--target', file], { encoding: 'utf8' }).trim();
  const parent = execFileSync('lsblk', ['-n', '-d', '-o', 'PKNAME', source], { encoding: 'utf8' }).trim();
  return parent || source.replace('/dev/', '');
}

describe.skipIf(skip !== null)(`stacked devices${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let served: Served | null = null;

  beforeAll(() => {
    loop = createLoopDevice();
  });

  afterAll(async () => {
    await served?.stop();
    loop?.remove();
  });

  it('a loop device is stacked on the disk of its backing file; the disk on nothing', () => {
    const backing = execFileSync('losetup', ['-n', '-O', 'BACK-FILE', loop.path], { encoding: 'utf8' }).trim();
    const disk = diskHolding(backing);
    expect(stackedOn(loop.name)).toEqual([disk]);
    expect(stackedOn(disk)).toEqual([]);
  });

  it('the live dashboard sends the relation in its device table', async () => {
    served = await serve(['--source', 'bpf', '--port', '0', '--interval', '250']);
    const disk = diskHolding(execFileSync('losetup', ['-n', '-O', 'BACK-FILE', loop.path], { encoding: 'utf8' }).trim());
    let devices: { name: string; stackedOn?: string[] }[] = [];
    // The table grows when a column holding the device's first completion is read: a few
    // columns of 250 ms, longer on a loaded machine.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !devices.some((d) => d.name === loop.name)) {
      directIo(loop, 'write', 10);
      await sleep(100);
      devices = ((await served.get('/api/meta')).body as { devices: typeof devices }).devices;
    }
    expect(devices.find((d) => d.name === loop.name)).toEqual({ id: expect.any(Number), name: loop.name, stackedOn: [disk] });
  });
});
