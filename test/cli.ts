/** Runs the real bpfheat command as a child process, the way a user does. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/bpfheat.js', import.meta.url));

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  /** stdout lines so far */
  readonly lines: string[];
  /** resolves once the first stdout line arrived (the tracer is attached and reading) */
  readonly firstLine: Promise<void>;
  /** resolves once stderr said the tracer is attached (--text, --jsonl) */
  readonly attached: Promise<void>;
  /** resolves when the process ends, with its exit code, stdout and stderr */
  readonly exited: Promise<Result>;
  /** SIGINT (or the given signal), then what exited gives */
  stop(signal?: NodeJS.Signals): Promise<Result>;
}

/** A promise kept by mark(), or broken if the child exits first; its rejection is handled, so an unawaited one is harmless. */
function milestone(child: ChildProcessWithoutNullStreams, what: string, stderr: () => string): { promise: Promise<void>; mark: () => void } {
  let mark: () => void = () => {};
  const promise = new Promise<void>((resolve, reject) => {
    mark = resolve;
    child.once('exit', (code) => reject(new Error(`bpfheat exited (${code}) before ${what}: ${stderr()}`)));
  });
  promise.catch(() => {});
  return { promise, mark };
}

export function startBpfheat(args: readonly string[]): Running {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  const firstLine = milestone(child, 'printing', () => stderr);
  const attached = milestone(child, 'attaching', () => stderr);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const complete = stdout.split('\n');
    lines.splice(0, lines.length, ...complete.slice(0, -1));
    if (lines.length > 0) firstLine.mark();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (/^bpfheat: tracing attached/m.test(stderr)) attached.mark();
  });
  const exited = new Promise<Result>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    lines,
    firstLine: firstLine.promise,
    attached: attached.promise,
    exited,
    stop(signal = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs bpfheat to completion and returns what it printed. */
export async function runBpfheat(args: readonly string[], timeoutMs = 30_000): Promise<Result> {
  const running = startBpfheat(args);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
  const result = await running.exited;
  clearTimeout(timer);
  return result;
}

/** Runs bpfheat as another user (setpriv drops every privilege), as someone without sudo would. */
export async function runAs(user: string, args: readonly string[]): Promise<Result> {
  const child = spawn('setpriv', [`--reuid=${user}`, `--regid=${user === 'nobody' ? 'nogroup' : user}`, '--clear-groups', '--inh-caps=-all', process.execPath, BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: '/tmp' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** One line of `bpfheat --jsonl` (README: JSONL fields). */
export interface JsonColumn {
  readonly seq: number;
  readonly start_ms: number;
  readonly interval_ms: number;
  readonly source: string;
  readonly metric: string;
  readonly unit: string;
  readonly total: number;
  readonly buckets: [number, number | null, number][];
  /** completions the kernel accounted that the tracer did not see (README: JSONL fields) */
  readonly unseen: number;
}

/** The columns a successful --jsonl run printed. */
export function jsonl(result: Result): JsonColumn[] {
  if (result.code !== 0) throw new Error(`bpfheat exited with ${result.code}: ${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as JsonColumn);
}
