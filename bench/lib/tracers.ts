/**
 * The tracers the kernel benchmarks compare, each started the way a user would and stopped
 * with Ctrl-C (SIGINT):
 *   bpfheat   the real binary, `bpfheat --jsonl`, every device, default interval (1 s): latency from
 *             the kernel's issue stamp, exemplars on (the submitting task remembered at block_io_start)
 *   bpfheat-start-map   the same with --start-map: the seed's design, an LRU start map written at issue
 *   bpfheat-no-exemplars   the same with --exemplars off: the completion program alone
 *   bpftrace  Debian's bpftrace running bench/biolatency.bt (tracepoints issue/complete)
 *   minimal   bench/minimal-tracer.ts: the least a map-based libbpf histogram does (the floor)
 *   placebo   an idle Node.js process started and stopped like bpfheat, tracing nothing: the A/A
 *             control, whose "cost" is what the method measures when there is none
 */
import { fileURLToPath } from 'node:url';
import { contextSwitches, cpuMs, startTool, type ProgramCounters, type Tool } from './system.ts';

export type TracerKind = 'bpfheat' | 'bpfheat-start-map' | 'bpfheat-no-exemplars' | 'bpftrace' | 'minimal' | 'placebo';

export const TRACER_LABELS: Record<TracerKind, string> = {
  bpfheat: 'bpfheat --jsonl',
  'bpfheat-start-map': 'bpfheat --start-map',
  'bpfheat-no-exemplars': 'bpfheat --exemplars off',
  bpftrace: 'bpftrace biolatency.bt',
  minimal: 'minimal libbpf (floor)',
  placebo: 'placebo (idle, A/A)',
};

const BIN = fileURLToPath(new URL('../../bin/bpfheat.js', import.meta.url));
export const BIOLATENCY_BT = fileURLToPath(new URL('../biolatency.bt', import.meta.url));
const MINIMAL = fileURLToPath(new URL('../minimal-tracer.ts', import.meta.url));
const PLACEBO = "process.on('SIGINT', () => process.exit(0)); setInterval(() => {}, 1 << 30); console.log('ready');";

/** A measurement starts this long after a tracer started or stopped: a tracer's first seconds are
 * not its steady state (bpfheat's Node.js compiles its column reading then: ~30 ms of CPU a second,
 * ~4 ms once warm), and a tracer's exit leaves the kernel freeing its programs and maps. */
export const SETTLE_MS = 2000;

/** Where a tracer's own CPU counts against the load (IOPS kept), a run starts this long after the
 * tracer is ready: under 32 reads in flight bpfheat --jsonl took ~30 ms of CPU a second over the
 * 5 s after its first column (its JavaScript still being compiled, the garbage of loading
 * collected) and ~10 ms after that. */
export const STEADY_MS = 5000;

/** Seconds of load before every measured run, traced or not: bpfheat's JavaScript is compiled and its
 * start-up garbage collected over the first seconds it reads columns of a load, mostly where
 * exemplars are decoded (~20 ms of CPU a second for ~4 s, then 2–5 ms; 1–2 ms with exemplars off),
 * a one-off cost that a tracer left running does not pay again. */
export const WARMUP_S = 5;

export function startTracer(kind: TracerKind): Promise<Tool> {
  switch (kind) {
    case 'bpfheat':
    case 'bpfheat-start-map':
    case 'bpfheat-no-exemplars': {
      const mode = { bpfheat: [], 'bpfheat-start-map': ['--start-map'], 'bpfheat-no-exemplars': ['--exemplars', 'off'] }[kind];
      // the first JSON line is printed once the programs are attached and the first column is read
      return startTool(kind, process.execPath, [BIN, '--jsonl', '--interval', '1000', ...mode], /^\{"seq"/m);
    }
    case 'bpftrace':
      // BEGIN runs once every probe is attached
      return startTool(kind, 'bpftrace', [BIOLATENCY_BT], /Tracing block device I\/O/);
    case 'minimal':
      return startTool(kind, process.execPath, ['--import', 'tsx', MINIMAL], /^ready$/m);
    case 'placebo':
      return startTool(kind, process.execPath, ['-e', PLACEBO], /^ready$/m);
  }
}

/** A running tracer's user + system CPU (ms) and context switches so far; a tracer that exited
 * during the measurement fails it with one line naming the tracer and the run, and its output. */
export function tracerUsage(tracer: Tool, run: string): { cpuMs: number; switches: number } {
  const exited = (): Error => new Error(`tracer ${tracer.name} exited during ${run} (code ${tracer.child.exitCode ?? tracer.child.signalCode}); its output:\n${tracer.output().trim()}`);
  if (tracer.child.exitCode !== null || tracer.child.signalCode !== null) throw exited();
  try {
    return { cpuMs: cpuMs(tracer.pid), switches: contextSwitches(tracer.pid) };
  } catch {
    throw exited();
  }
}

export type Side = 'issue' | 'complete' | 'other';

/** Which side of an I/O a program runs on, by its name (bpftool truncates names to 15 characters). */
export function sideOf(program: ProgramCounters): Side {
  if (program.name === 'empty_probe') return 'other';
  if (/insert|issue|io_start/.test(program.name)) return 'issue';
  if (/compl/.test(program.name)) return 'complete';
  return 'other';
}

export interface PerIo {
  /** completions seen: run count of the completion program(s) */
  readonly completions: number;
  readonly issueNs: number;
  readonly completeNs: number;
  readonly totalNs: number;
}

/** The round whose total is the median (of an even count, the lower of the two middle ones): its
 * sides add up to its total, where medians taken per side need not. */
export function medianRound(rounds: readonly PerIo[]): PerIo | undefined {
  const sorted = [...rounds].sort((a, b) => a.totalNs - b.totalNs);
  return sorted[(sorted.length - 1) >> 1];
}

/** ns per I/O: run time on each side divided by the completions (one per block request). */
export function perIo(programs: readonly ProgramCounters[]): PerIo {
  let issueTime = 0;
  let completeTime = 0;
  let completions = 0;
  for (const p of programs) {
    const side = sideOf(p);
    if (side === 'issue') issueTime += p.runTimeNs;
    if (side === 'complete') {
      completeTime += p.runTimeNs;
      completions += p.runCount;
    }
  }
  const per = (ns: number): number => (completions > 0 ? ns / completions : Number.NaN);
  return { completions, issueNs: per(issueTime), completeNs: per(completeTime), totalNs: per(issueTime + completeTime) };
}
