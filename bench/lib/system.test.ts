import { afterAll, describe, expect, it } from 'vitest';
import { kernelSkipReason } from '../../test/kernel.ts';
import { cleanupAll } from './cleanup.ts';
import { loopBacking, loopDevice } from './system.ts';

const skip = kernelSkipReason();

describe.skipIf(skip !== null)(`a benchmark's loop device says what it reads from${skip ? ` (skipped: ${skip})` : ''}`, () => {
  afterAll(() => cleanupAll());

  it('names its file, the file system under it and the loop driver’s direct I/O', () => {
    const device = loopDevice(16, '/dev/shm');
    expect(loopBacking(device)).toBe(`sparse file ${device.file} on tmpfs, direct I/O on`);
  });
});
