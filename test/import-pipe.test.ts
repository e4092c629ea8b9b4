/**
 * 600 MiB through a pipe into `bpfheat --import -`, the real command, fed by this process with
 * backpressure (before: a crash past 512 MiB, "Cannot create a string longer than 0x1fffffe8" with
 * a stack trace, at 1.2 GB RSS). Stated bound: the importing process's peak RSS (VmHWM) stays
 * under PEAK_RSS_BOUND, as the columns built are few (600) however long the input is.
 *   - 600 MiB of CSV (3 million wide rows, one second of trace per MiB) imports completely;
 *   - 600 MiB without a line end ends at 16 MiB with one line naming the problem, exit 1 (the
 *     same for --replay -, which reads through the same line reader).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES } from '../server/sources/lines.ts';
import { BIN, fakeClientDir } from './server-harness.ts';

const PIPE_BYTES = 600 * 2 ** 20;
const BLOCK_BYTES = 2 ** 20;
const PEAK_RSS_BOUND = 160 * 2 ** 20;
const START_MS = 1_764_076_800_000;

/** One MiB of CSV rows, all within second `second` of the trace; the rest of the block is a comment. */
function csvBlock(second: number): Buffer {
  const filler = 'x'.repeat(150);
  let text = '';
  for (let k = 0; text.length < BLOCK_BYTES - 400; k++) {
    text += `${START_MS + second * 1000 + (k % 1000)},${50 + ((k * 37) % 5000)},postgres,${4000 + (k % 50)},${k * 8},${filler}\n`;
  }
  const header = second === 0 ? 'time,latency,comm,pid,sector,query\n' : '';
  return Buffer.from(`${header}${text}#${'.'.repeat(BLOCK_BYTES - header.length - text.length - 2)}\n`);
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** the process's peak resident set, from /proc/PID/status before it exited */
  readonly peakRssBytes: number;
  readonly bytesWritten: number;
}

/** Runs bpfheat ARGS with `blocks` blocks piped into its stdin; once `done` matches stdout, reads its peak RSS and stops it. */
function importPipe(args: readonly string[], block: (i: number) => Buffer, done: RegExp): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, BPFHEAT_CLIENT_DIR: fakeClientDir() } });
  let stdout = '';
  let stderr = '';
  let peakRssBytes = 0;
  let bytesWritten = 0;
  const readPeak = (): void => {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    peakRssBytes = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) * 1024;
  };
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    if (done.test(stdout) && peakRssBytes === 0) {
      readPeak();
      child.kill('SIGINT');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin.on('error', () => {
    // the importer may stop reading (a refused input): what it says on stderr is what counts
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('close', () => resolve()));
  void exit.then(() => (exited = true));
  const feed = async (): Promise<void> => {
    for (let i = 0; bytesWritten < PIPE_BYTES && !exited; i++) {
      const chunk = block(i);
      bytesWritten += chunk.length;
      if (!child.stdin.write(chunk)) await Promise.race([new Promise<void>((resolve) => child.stdin.once('drain', () => resolve())), exit]);
    }
    if (!exited) child.stdin.end();
  };
  void feed();
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, peakRssBytes, bytesWritten })));
}

describe('a 600 MiB pipe into --import - (and --replay -)', () => {
  it('imports 3 million CSV rows within the memory bound', async () => {
    const run = await importPipe(['--import', '-', '--import-format', 'csv', '--time-unit', 'ms', '--port', '0'], csvBlock, /^bpfheat: dashboard on http/m);
    console.log(`600 MiB CSV pipe: peak RSS ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MiB (bound ${PEAK_RSS_BOUND / 2 ** 20}); ${run.stderr.trim()}`);
    expect(run.bytesWritten).toBeGreaterThanOrEqual(PIPE_BYTES);
    const imported = /^bpfheat: imported ([\d,]+) events from stdin \(csv, columns "time" and "latency"; time in ms, latency in us\) into 600 columns of 1000 ms/m.exec(run.stderr);
    expect(imported, run.stderr).not.toBeNull();
    expect(Number(imported![1]!.replaceAll(',', ''))).toBeGreaterThan(3_000_000);
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(run.peakRssBytes).toBeGreaterThan(0);
    expect(run.peakRssBytes).toBeLessThan(PEAK_RSS_BOUND);
  }, 600_000);

  it.each(['--import', '--replay'])('%s - without a line end: one line naming the problem at 16 MiB, exit 1, no stack', async (flag) => {
    const run = await importPipe([flag, '-', '--jsonl'], () => Buffer.alloc(BLOCK_BYTES, '7'), /never/);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`bpfheat: standard input line 1 is longer than ${MAX_LINE_BYTES / 2 ** 20} MiB (${flag}): it is not a trace or a recording; is it the right file?\n`);
    expect(run.bytesWritten).toBeLessThan(PIPE_BYTES);
  }, 120_000);
});
