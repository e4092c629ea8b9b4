/**
 * The tracers the kernel benchmarks compare, each started the way a user would and stopped
 * with Ctrl-C (SIGINT):
 *   bpfheat   the real binary, `bpfheat --jsonl`, every device, default interval (1 s): latency from
 *             the kernel's issue stamp, exemplars on (the submitting task remembered at block_io_start)
 *   bpfheat-start-map   the same with --start-map: the seed's design, an LRU start map written at issue
 *   bpfheat-no-exemplars   the same with --exemplars off: the completion program alone
 *   bpftrace  Debian's bpftrace running bench/biolatency.bt (tracepoints issue/complete)
 *   minimal   bench/minimal-tracer.ts: the least a map-based libbpf histogram does (the floor)
 */
import { fileURLToPath } from 'node:url';
import { startTool, type ProgramCounters, type Tool } from './system.ts';

export type TracerKind = 'bpfheat' | 'bpfheat-start-map' | 'bpfheat-no-exemplars' | 'bpftrace' | 'minimal';

export const TRACER_LABELS: Record<TracerKind, string> = {
  bpfheat: 'bpfheat --jsonl',
  'bpfheat-start-map': 'bpfheat --start-map',
  'bpfheat-no-exemplars': 'bpfheat --exemplars off',
  bpftrace: 'bpftrace biolatency.bt',
  minimal: 'minimal libbpf (floor)',
};

const BIN = fileURLToPath(new URL('../../bin/bpfheat.js', import.meta.url));
export const BIOLATENCY_BT = fileURLToPath(new URL('../biolatency.bt', import.meta.url));
const MINIMAL = fileURLToPath(new URL('../minimal-tracer.ts', import.meta.url));

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
