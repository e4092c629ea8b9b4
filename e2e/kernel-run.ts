/**
 * What a spec on the real kernel makes — a loop device, a server tracing it, children doing I/O,
 * a renamed copy of dd — and removes after each run, passed or failed, so nothing is left behind.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoopDevice } from '../test/kernel.ts';
import type { RunningServer } from './server.ts';

export class KernelRun {
  loop: LoopDevice | null = null;
  server: RunningServer | null = null;
  readonly running = new Set<ChildProcess>();
  private dir: string | null = null;

  /** A copy of dd under another name, so that its I/O is told apart from everyone else's by its comm. */
  renamedDd(name: string): string {
    this.dir = mkdtempSync(join(tmpdir(), 'bpfheat-e2e-'));
    const program = join(this.dir, name);
    copyFileSync('/usr/bin/dd', program);
    chmodSync(program, 0o755);
    return program;
  }

  async cleanUp(): Promise<void> {
    for (const child of this.running) child.kill('SIGKILL');
    this.running.clear();
    await this.server?.stop();
    this.server = null;
    this.loop?.remove();
    this.loop = null;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
