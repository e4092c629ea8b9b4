/**
 * The machine side of the kernel benchmarks: a loop device, its I/O scheduler, sysctls, tracefs,
 * fio, child processes and what /proc says about them (CPU time, memory, BPF program counters).
 * Everything that changes the machine registers its undo with cleanup.ts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createLoopDevice, type LoopDevice } from '../../test/kernel.ts';
import { onCleanup } from './cleanup.ts';

/** Why the kernel benchmarks cannot run here, or null when they can. */
export function kernelBenchProblem(needs: readonly string[]): string | null {
  if (process.getuid?.() !== 0) return 'needs root (BPF, loop devices, sysctl): run it with sudo';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'needs a kernel with BTF (/sys/kernel/btf/vmlinux)';
  for (const tool of needs) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool} (apt-get install ${tool})`;
    }
  }
  return null;
}

// ---------------------------------------------------------------- machine state

export function readSysctl(name: string): string {
  return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim();
}

function writeSysctl(name: string, value: string): void {
  writeFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, value);
}

/** Sets a sysctl until cleanup, which restores the value it had. */
export function setSysctl(name: string, value: string): void {
  const before = readSysctl(name);
  if (before === value) return;
  writeSysctl(name, value);
  onCleanup(`restore ${name}=${before}`, () => writeSysctl(name, before));
}

/** bpftrace's tracepoint probes need tracefs; mount it (until cleanup) when it is not. */
export function ensureTracefs(): void {
  if (existsSync('/sys/kernel/tracing/events/block')) return;
  execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
  onCleanup('unmount /sys/kernel/tracing', () => {
    try {
      execFileSync('umount', ['/sys/kernel/tracing'], { stdio: 'ignore' });
    } catch {
      // busy (someone else started using it meanwhile): leave it mounted
    }
  });
}

/** A loop device on a sparse file in a new directory under `under`, removed at cleanup. Reads of a
 * hole never reach the disk under it; under /dev/shm (tmpfs) no read waits on the VM's disk either. */
export function loopDevice(sizeMiB: number, under: string = tmpdir()): LoopDevice {
  const device = createLoopDevice(sizeMiB, under);
  onCleanup(`remove ${device.path}`, () => device.remove());
  return device;
}

/** What a loop device reads from, as the kernel has it: its file, that file's filesystem type, and
 * whether the loop driver reads the file with direct I/O (/sys/block/loopN/loop/dio). */
export function loopBacking(device: LoopDevice): string {
  // one line per mount at that point; the last is the one on top, which the file is on
  const filesystem = execFileSync('findmnt', ['--noheadings', '--output', 'FSTYPE', '--target', device.file], { encoding: 'utf8' }).trim().split('\n').at(-1);
  const dio = readFileSync(`/sys/block/${device.name}/loop/dio`, 'utf8').trim() === '1' ? 'on' : 'off';
  return `sparse file ${device.file} on ${filesystem}, direct I/O ${dio}`;
}

export function scheduler(device: LoopDevice): string {
  const text = readFileSync(`/sys/block/${device.name}/queue/scheduler`, 'utf8');
  return /\[([^\]]+)\]/.exec(text)?.[1] ?? text.trim();
}

/**
 * Sets the device's I/O scheduler until cleanup. A loop device keeps its queue (and scheduler)
 * after `losetup -d`, so the next user of /dev/loopN would inherit it: cleanup puts back the one
 * it had.
 */
export function setScheduler(device: LoopDevice, name: string): void {
  const before = scheduler(device);
  if (before === name) return;
  writeFileSync(`/sys/block/${device.name}/queue/scheduler`, name);
  onCleanup(`restore ${device.name} scheduler ${before}`, () => {
    if (existsSync(`/sys/block/${device.name}/queue/scheduler`)) writeFileSync(`/sys/block/${device.name}/queue/scheduler`, before);
  });
}

export function schedulerAvailable(device: LoopDevice, name: string): boolean {
  return readFileSync(`/sys/block/${device.name}/queue/scheduler`, 'utf8').replace(/[[\]]/g, ' ').split(/\s+/).includes(name);
}

// ---------------------------------------------------------------- fio

/**
 * The fio jobs of the kernel benchmarks, 4 KiB random direct reads on a loop device:
 *   psync  one at a time: each I/O is one wake-up of the loop device's worker and one of fio, so
 *          its rate follows the machine's wake-up latency (BPF cost counts per I/O, whatever the rate)
 *   uring  32 in flight through io_uring, on a memory-backed device: fio and the worker keep the
 *          CPUs busy, so the rate follows the CPU time an I/O takes, a tracer's included
 */
export const FIO_JOBS = {
  psync: ['--ioengine=psync', '--rw=randread', '--bs=4k', '--direct=1', '--iodepth=1', '--numjobs=1', '--time_based', '--ramp_time=500ms'],
  uring: ['--ioengine=io_uring', '--rw=randread', '--bs=4k', '--direct=1', '--iodepth=32', '--numjobs=1', '--time_based', '--ramp_time=500ms'],
} as const satisfies Record<string, readonly string[]>;
export type FioJob = keyof typeof FIO_JOBS;

/** Where each load's loop device keeps its file: psync's rate is wake-ups whatever the backing, and
 * uring's must not wait on the VM's disk (/dev/shm is a tmpfs). */
export const LOAD_BACKING: Record<FioJob, string> = { uring: '/dev/shm', psync: tmpdir() };

export function fioJobText(runtimeS: number, load: FioJob): string {
  return `fio ${FIO_JOBS[load].join(' ')} --runtime=${runtimeS}`;
}

export interface FioResult {
  readonly iops: number;
  /** reads completed in the measured runtime (after the ramp) */
  readonly ios: number;
  readonly runtimeMs: number;
  readonly meanLatencyNs: number;
  readonly p99LatencyNs: number;
  /** fio's own context switches in the job */
  readonly contextSwitches: number;
}

export async function runFio(devicePath: string, runtimeS: number, load: FioJob): Promise<FioResult> {
  const args = ['--name=bench', `--filename=${devicePath}`, ...FIO_JOBS[load], `--runtime=${runtimeS}`, '--output-format=json'];
  const child = spawn('fio', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = onCleanup(`stop fio ${child.pid}`, () => killChild(child));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  await forget();
  if (code !== 0) throw new Error(`fio exited with ${code}: ${stderr.trim().slice(0, 400)}`);
  const job = (JSON.parse(stdout.slice(stdout.indexOf('{'))) as { jobs: FioJson[] }).jobs[0]!;
  return {
    iops: job.read.iops,
    ios: job.read.total_ios,
    runtimeMs: job.read.runtime,
    meanLatencyNs: job.read.clat_ns.mean,
    p99LatencyNs: job.read.clat_ns.percentile?.['99.000000'] ?? Number.NaN,
    contextSwitches: job.ctx,
  };
}

interface FioJson {
  ctx: number;
  read: { iops: number; total_ios: number; runtime: number; clat_ns: { mean: number; percentile?: Record<string, number> } };
}

// ---------------------------------------------------------------- processes

export interface Tool {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** everything it printed so far (the start and the end, when it printed a lot) */
  output(): string;
  /** writes a line to its stdin (started with stdin: true) */
  send(line: string): void;
  /** SIGINT, then SIGKILL after a grace period; resolves once it has exited */
  stop(): Promise<void>;
}

function killChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

/**
 * Starts a long-running tool and resolves once `ready` matches what it printed (stdout or
 * stderr), or rejects with its output when it exits first or takes longer than timeoutMs.
 */
export async function startTool(
  name: string,
  command: string,
  args: readonly string[],
  ready: RegExp,
  { timeoutMs = 30_000, stdin = false }: { timeoutMs?: number; stdin?: boolean } = {},
): Promise<Tool> {
  const child = spawn(command, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  let text = '';
  const keep = (chunk: string): void => {
    // keep the start (readiness, errors) and the end; a tracer may print for a long time
    text = text.length > 64_000 ? text.slice(0, 16_000) + text.slice(-16_000) + chunk : text + chunk;
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const forget = onCleanup(`stop ${name} (pid ${child.pid})`, () => killChild(child));
  const tool: Tool = {
    name,
    pid: child.pid!,
    child,
    output: () => text,
    send: (line) => void child.stdin?.write(`${line}\n`),
    stop: async () => {
      await forget();
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not get ready within ${timeoutMs / 1000} s`), timeoutMs);
    const check = (): void => {
      if (ready.test(text)) done();
    };
    const onExit = (code: number | null): void => fail(`exited (${code}) before it was ready`);
    function done(): void {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.stderr!.off('data', check);
      child.off('exit', onExit);
      resolve();
    }
    function fail(why: string): void {
      clearTimeout(timer);
      child.off('exit', onExit);
      void forget();
      reject(new Error(`${name} ${why}:\n${text.trim().slice(0, 2000)}`));
    }
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', onExit);
    check();
  });
  return tool;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU time of a process (and its threads) so far, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Context switches of a process so far, all its threads summed (voluntary ones are its wake-ups). */
export function contextSwitches(pid: number): number {
  let total = 0;
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/task/${thread}/status`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s*(\d+)$/gm)) total += Number(m[1]);
  }
  return total;
}

/** Resident memory of a process, in bytes. */
export function rssBytes(pid: number): number {
  const kib = /^VmRSS:\s*(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kib ? Number(kib) * 1024 : Number.NaN;
}

// ---------------------------------------------------------------- BPF program counters

export interface ProgramCounters {
  readonly id: number;
  readonly name: string;
  readonly runTimeNs: number;
  readonly runCount: number;
}

const programNames = new Map<number, string>();

function programName(id: number): string {
  let name = programNames.get(id);
  if (name === undefined) {
    try {
      name = (JSON.parse(execFileSync('bpftool', ['prog', 'show', 'id', String(id), '-j'], { encoding: 'utf8' })) as { name?: string }).name ?? `prog ${id}`;
    } catch {
      name = `prog ${id}`;
    }
    programNames.set(id, name);
  }
  return name;
}

/**
 * The kernel's run time and run count of every BPF program a process holds open, read from
 * /proc/PID/fdinfo: exactly that process's programs, whoever else traces the same events.
 * The counters only move while kernel.bpf_stats_enabled is 1.
 */
export function programsOf(pid: number): ProgramCounters[] {
  const programs = new Map<number, ProgramCounters>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target !== 'anon_inode:bpf-prog') continue;
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s*(\\d+)$`, 'm').exec(info)?.[1] ?? Number.NaN);
    const id = field('prog_id');
    if (!Number.isFinite(id) || programs.has(id)) continue;
    programs.set(id, { id, name: programName(id), runTimeNs: field('run_time_ns'), runCount: field('run_cnt') });
  }
  return [...programs.values()].sort((a, b) => a.id - b.id);
}

/** What each program did between two readings. */
export function programDeltas(before: readonly ProgramCounters[], after: readonly ProgramCounters[]): ProgramCounters[] {
  return after.map((p) => {
    const b = before.find((q) => q.id === p.id);
    return { ...p, runTimeNs: p.runTimeNs - (b?.runTimeNs ?? 0), runCount: p.runCount - (b?.runCount ?? 0) };
  });
}
