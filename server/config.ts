/**
 * Command-line configuration, parsed and checked once at start. Every flag is in FLAGS,
 * which also writes --help, so the help text cannot drift from the parser.
 */
import { METRICS, OPS, type Metric, type Op } from '../shared/scheme.ts';
import { UsageError } from './errors.ts';

export type OutputMode = 'dashboard' | 'text' | 'jsonl';
export type SourceChoice = 'bpf' | 'synthetic';

export interface Config {
  readonly mode: OutputMode;
  readonly source: SourceChoice;
  readonly seed: number;
  readonly intervalMs: number;
  readonly durationS: number | null;
  readonly devices: readonly string[];
  readonly ops: readonly Op[];
  readonly metric: Metric;
  readonly milliseconds: boolean;
  readonly port: number;
  readonly listen: string;
  readonly token: string | null;
  readonly historyColumns: number | null;
  readonly selfStats: boolean;
  readonly thresholdNs: number | null;
  readonly exemplarRate: number;
  readonly byProcess: boolean;
  readonly help: boolean;
}

const DEFAULTS: Config = {
  mode: 'dashboard',
  source: 'bpf',
  seed: 1,
  intervalMs: 1000,
  durationS: null,
  devices: [],
  ops: [],
  metric: 'latency',
  milliseconds: false,
  port: 7070,
  listen: '127.0.0.1',
  token: null,
  historyColumns: null,
  selfStats: false,
  thresholdNs: null,
  exemplarRate: 200,
  byProcess: false,
  help: false,
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };

interface Flag {
  readonly names: readonly string[];
  readonly value?: string;
  readonly help: string;
  readonly apply: (config: Mutable<Config>, value: string) => void;
}

function positiveInteger(flag: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new UsageError(`${flag} needs a whole number from 1 to ${max}, got "${value}"`);
  }
  return Number(value);
}

function oneOf<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === value);
  if (!found) throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  return found;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "86400" (columns) or "24h", "90m", "30s", "2d" (a span, turned into columns at the interval). */
function historySpan(value: string): { columns: number } | { seconds: number } {
  const span = /^(\d+)([smhd])$/.exec(value);
  if (span) return { seconds: Number(span[1]) * DURATION_UNITS[span[2]!]! };
  return { columns: positiveInteger('--history', value, 10_000_000) };
}

export const FLAGS: readonly Flag[] = [
  { names: ['--text'], help: 'print each interval as a histogram (bitehist layout) instead of serving the dashboard', apply: (c) => setMode(c, 'text') },
  { names: ['--jsonl'], help: 'print one JSON column per line instead of serving the dashboard', apply: (c) => setMode(c, 'jsonl') },
  { names: ['--interval'], value: 'MS', help: 'column width in milliseconds (default 1000)', apply: (c, v) => (c.intervalMs = positiveInteger('--interval', v, 3_600_000)) },
  { names: ['--duration'], value: 'S', help: 'stop after S seconds (default: run until Ctrl-C)', apply: (c, v) => (c.durationS = positiveInteger('--duration', v)) },
  { names: ['--device'], value: 'NAME', help: 'only this block device, e.g. sda, nvme0n1, loop3 (repeatable)', apply: (c, v) => c.devices.push(deviceName(v)) },
  { names: ['--op'], value: 'OP', help: `only this operation: ${OPS.join('|')} (repeatable)`, apply: (c, v) => c.ops.push(oneOf('--op', v, OPS)) },
  { names: ['--metric'], value: 'M', help: 'latency (ns) or size (bytes) (default latency)', apply: (c, v) => (c.metric = oneOf('--metric', v, METRICS)) },
  { names: ['-m', '--milliseconds'], help: 'with --text: latency in milliseconds instead of microseconds', apply: (c) => (c.milliseconds = true) },
  { names: ['--source'], value: 'KIND', help: 'bpf (trace this machine, default) or synthetic (seeded demo data, no root needed)', apply: (c, v) => (c.source = oneOf('--source', v, ['bpf', 'synthetic'] as const)) },
  { names: ['--seed'], value: 'N', help: 'seed of the synthetic source (default 1)', apply: (c, v) => (c.seed = positiveInteger('--seed', v)) },
  { names: ['--port'], value: 'PORT', help: 'dashboard port (default 7070; 0: any free port, the URL printed says which)', apply: (c, v) => (c.port = v === '0' ? 0 : positiveInteger('--port', v, 65535)) },
  { names: ['--listen'], value: 'ADDR', help: 'dashboard address (default 127.0.0.1; any other address requires a token)', apply: (c, v) => (c.listen = v) },
  { names: ['--token'], value: 'TOKEN', help: 'access token for a non-loopback --listen (default: generated and printed)', apply: (c, v) => (c.token = token(v)) },
  { names: ['--history'], value: 'SPAN', help: 'history kept in memory: a column count or a span like 30m, 24h (default 24h)', apply: (c, v) => (c.historyColumns = encodeHistory(v)) },
  { names: ['--self-stats'], help: "measure the tracer's own BPF run time (kernel.bpf_stats_enabled) and report it", apply: (c) => (c.selfStats = true) },
  { names: ['--threshold'], value: 'NS', help: 'record exemplar I/Os slower than NS nanoseconds (default: adaptive, the recent p99)', apply: (c, v) => (c.thresholdNs = threshold(v)) },
  { names: ['--exemplar-rate'], value: 'N', help: 'at most N exemplars per second, the rest counted as dropped (default 200)', apply: (c, v) => (c.exemplarRate = positiveInteger('--exemplar-rate', v, 100_000)) },
  { names: ['--by-process'], help: 'with --text: one histogram per process (bitesize layout), from the exemplars', apply: (c) => (c.byProcess = true) },
  { names: ['-h', '--help'], help: 'show this help', apply: (c) => (c.help = true) },
];

// --history is resolved against --interval after all flags are read: negative = seconds.
function encodeHistory(value: string): number {
  const span = historySpan(value);
  return 'columns' in span ? span.columns : -span.seconds;
}

function threshold(value: string): number | null {
  if (value === 'adaptive') return null;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`--threshold needs nanoseconds (a whole number, 0 for every I/O) or "adaptive", got "${value}"`);
  return Number(value);
}

function setMode(config: Mutable<Config>, mode: OutputMode): void {
  if (config.mode !== 'dashboard' && config.mode !== mode) throw new UsageError('--text and --jsonl cannot be used together');
  config.mode = mode;
}

function deviceName(value: string): string {
  if (!/^[A-Za-z0-9._!-]{1,64}$/.test(value)) throw new UsageError(`--device needs a block device name like sda or loop3, got "${value}"`);
  return value;
}

function token(value: string): string {
  if (!/^[A-Za-z0-9._~-]{16,256}$/.test(value)) throw new UsageError('--token needs 16 to 256 URL-safe characters (letters, digits, . _ ~ -)');
  return value;
}

export function parseArgs(argv: readonly string[]): Config {
  const config: Mutable<Config> = { ...DEFAULTS, devices: [], ops: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const flag = FLAGS.find((f) => f.names.includes(name));
    if (!flag) throw new UsageError(`unknown option "${arg}"`);
    let value = '';
    if (flag.value) {
      if (eq > 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new UsageError(`${name} needs a value (${flag.value})`);
    } else if (eq > 0) {
      throw new UsageError(`${name} takes no value`);
    }
    flag.apply(config, value);
  }
  if (config.historyColumns !== null && config.historyColumns < 0) {
    config.historyColumns = Math.max(1, Math.ceil((-config.historyColumns * 1000) / config.intervalMs));
  }
  return config;
}

/** Columns of history: --history, or 24 hours at the column interval. */
export function historyColumns(config: Config): number {
  return config.historyColumns ?? Math.ceil((24 * 3600 * 1000) / config.intervalMs);
}

export function helpText(): string {
  const rows = FLAGS.map((f) => {
    const left = `  ${f.names.join(', ')}${f.value ? ` ${f.value}` : ''}`;
    return `${left.padEnd(26)} ${f.help}`;
  });
  return [
    'bpfheat — live block-I/O latency heat map, built on eBPF',
    '',
    'usage: bpfheat [options]            serve the dashboard on http://127.0.0.1:7070/',
    '       bpfheat --text [options]     print a histogram per interval',
    '       bpfheat --jsonl [options]    print one JSON column per line',
    '',
    'options:',
    ...rows,
    '',
    'examples:',
    '  sudo bpfheat                                    dashboard tracing every block device',
    '  sudo bpfheat --text -m --device nvme0n1         millisecond histograms of one disk',
    '  sudo bpfheat --jsonl --op write --duration 10   ten seconds of write-latency columns',
    '  bpfheat --source synthetic                      the dashboard on demo data, no root needed',
    '',
    'Tracing needs root (CAP_BPF + CAP_PERFMON), a kernel with BTF (/sys/kernel/btf/vmlinux), clang and libbpf (npm run setup).',
  ].join('\n');
}
