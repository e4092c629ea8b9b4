/**
 * The dashboard gives up root once it listens, and attaches the issue program for devices without
 * the kernel's issue stamp only when one turns up: on this kernel (6.18) a process that gave up root
 * may still attach a program it loaded as root, and the program then runs at every issue.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopDevice, directIo, kernelSkipReason, type LoopDevice } from './kernel.ts';

const skip = kernelSkipReason();
const CHILD = fileURLToPath(new URL('./attach-after-drop.ts', import.meta.url));
const WRITES = 50;

describe.skipIf(skip !== null)(`attaching after giving up root${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let first: { uid: number; user: string; attached: boolean | string; programs: string[] };
  let second: { runs: number };

  beforeAll(async () => {
    loop = createLoopDevice();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    first = JSON.parse((await lines.next()).value as string);
    directIo(loop, 'write', WRITES);
    child.stdin.write('done\n');
    second = JSON.parse((await lines.next()).value as string);
    child.stdin.end();
  }, 60_000);

  afterAll(() => loop?.remove());

  it('attaches time_rq_issue as nobody', () => {
    expect(first.uid).toBe(65534);
    expect(first.attached).toBe(true);
    expect(first.programs).toContain('time_rq_issue');
  });

  it('runs it at every issue after that', () => {
    expect(second.runs).toBeGreaterThanOrEqual(WRITES);
  });
});
