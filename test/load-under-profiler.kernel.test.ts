/**
 * bpfheat loads under a CPU profiler: `node --cpu-prof` sends SIGPROF about every millisecond, and
 * the verifier gives up with EAGAIN when a signal is pending, more often than libbpf retries. The
 * load blocks SIGPROF for its duration (server/tracer/libbpf.ts loadObject) and unblocks it after.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tracer } from '../server/tracer/tracer.ts';
import { BIN, type Result } from './cli.ts';
import { kernelSkipReason } from './kernel.ts';
import { tempDir } from './temp-dirs.ts';

const skip = kernelSkipReason();
const SIGPROF = 27;

function runProfiled(profileDir: string): Promise<Result> {
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, BIN, '--jsonl', '--duration', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** The signals blocked on the calling thread, from the kernel's view of it. */
function blockedSignals(): bigint {
  const mask = /^SigBlk:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))?.[1];
  return BigInt(`0x${mask ?? '0'}`);
}

describe.skipIf(skip !== null)(`loading under a CPU profiler${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const profileDir = tempDir('bpfheat-cpu-prof-');

  it('bpfheat --jsonl under node --cpu-prof attaches, prints columns and writes its profiles', async () => {
    const result = await runProfiled(profileDir);
    expect(result.stderr).toMatch(/^bpfheat: tracing attached/m);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(1);
    // one profile per thread that ran JavaScript (tsx's loader thread has its own)
    expect(readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile')).length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('leaves SIGPROF unblocked once the object is loaded', () => {
    const before = blockedSignals();
    const tracer = Tracer.open(1000);
    try {
      expect(blockedSignals()).toBe(before);
      expect(blockedSignals() & (1n << BigInt(SIGPROF - 1))).toBe(0n);
    } finally {
      tracer.close();
    }
  });
});
