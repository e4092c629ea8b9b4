/**
 * Command-line configuration, parsed and checked once at start. Every flag is in FLAGS,
 * which also writes --help, so the help text cannot drift from the parser.
 */
import { METRICS, OPS, type Metric, type Op } from '../../shared/scheme.ts';
import { UsageError, UserError } from '../base/errors.ts';
import { describeFsError } from '../formats/recording.ts';
import { IMPORT_FORMATS, TIME_UNITS, type ImportFormat, type TimeUnit } from '../formats/trace.ts';
import { TEXT_BUCKETS, type TextBuckets } from './textHistogram.ts';
import { matchProblem } from '../formats/prometheus-query.ts';

export type OutputMode = 'dashboard' | 'exporter' | 'text' | 'jsonl';
export type SourceChoice = 'bpf' | 'synthetic' | 'replay' | 'import' | 'prometheus';

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
  /** --text rows: one per bucket, or one per power of two (--log2) */
  readonly buckets: TextBuckets;
  readonly port: number;
  readonly listen: string;
  /** --token: on the command line, where every local user can read it (ps) */
  readonly token: string | null;
  /** --token-file: the token is read from this file at start */
  readonly tokenFile: string | null;
  readonly historyColumns: number | null;
  readonly selfStats: boolean;
  /** null: the stream's own default */
  readonly maxClients: number | null;
  readonly thresholdNs: number | null;
  readonly exemplarRate: number;
  /** false (--exemplars off, --threshold off): no program runs before completion */
  readonly exemplars: boolean;
  /** --start-map: time requests with an issue program and a start map instead of the kernel's stamps */
  readonly startMap: boolean;
  /** --issue-store: time every device from the issue-side store, as devices without the kernel's stamp */
  readonly issueStore: boolean;
  readonly byProcess: boolean;
  /** --record: append everything the source produces to this file */
  readonly record: string | null;
  /** the file of --replay or --import (source 'replay' or 'import') */
  readonly inputFile: string | null;
  /** --strict: refuse a recording damaged in the middle instead of replaying what is before the damage */
  readonly strict: boolean;
  /** --speed: null for the source's default (replay 1, import 0) */
  readonly speed: number | null;
  readonly importFormat: ImportFormat | null;
  readonly timeUnit: TimeUnit | null;
  readonly latencyUnit: TimeUnit | null;
  readonly timeColumn: string | null;
  readonly latencyColumn: string | null;
  readonly timeBaseMs: number;
  /** --source prometheus: the server, the series selector, the host label and the hosts shown */
  readonly prometheus: string | null;
  readonly match: string | null;
  readonly hostLabel: string;
  readonly hosts: readonly string[];
  /** --sum-hosts: Prometheus sums the hosts; no host apart */
  readonly sumHosts: boolean;
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
  buckets: 'fine',
  port: 7070,
  listen: '127.0.0.1',
  token: null,
  tokenFile: null,
  historyColumns: null,
  selfStats: false,
  maxClients: null,
  thresholdNs: null,
  exemplarRate: 200,
  exemplars: true,
  startMap: false,
  issueStore: false,
  byProcess: false,
  record: null,
  inputFile: null,
  strict: false,
  speed: null,
  importFormat: null,
  timeUnit: null,
  latencyUnit: null,
  timeColumn: null,
  latencyColumn: null,
  timeBaseMs: 0,
  prometheus: null,
  match: null,
  hostLabel: 'instance',
  hosts: [],
  sumHosts: false,
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
  { names: ['--exporter'], help: 'headless: serve only /metrics (for Prometheus) and /healthz, no page; same --listen/--token rules', apply: (c) => setMode(c, 'exporter') },
  { names: ['--interval'], value: 'MS', help: 'column width in milliseconds (default 1000)', apply: (c, v) => (c.intervalMs = positiveInteger('--interval', v, 3_600_000)) },
  { names: ['--duration'], value: 'S', help: 'stop after S seconds (default: run until Ctrl-C)', apply: (c, v) => (c.durationS = positiveInteger('--duration', v)) },
  { names: ['--device'], value: 'NAME', help: 'only this block device, e.g. sda, nvme0n1, loop3 (repeatable)', apply: (c, v) => c.devices.push(deviceName(v)) },
  { names: ['--op'], value: 'OP', help: `only this operation: ${OPS.join('|')} (repeatable)`, apply: (c, v) => c.ops.push(oneOf('--op', v, OPS)) },
  { names: ['--metric'], value: 'M', help: 'latency (ns) or size (bytes) (default latency)', apply: (c, v) => (c.metric = oneOf('--metric', v, METRICS)) },
  { names: ['-m', '--milliseconds'], help: 'with --text: latency in milliseconds instead of microseconds', apply: (c) => (c.milliseconds = true) },
  { names: ['--buckets'], value: 'B', help: 'with --text: fine (a row per 9 % bucket, default) or log2 (a row per power of two, as biolatency prints)', apply: (c, v) => (c.buckets = oneOf('--buckets', v, TEXT_BUCKETS)) },
  { names: ['--log2'], help: 'with --text: the same as --buckets log2', apply: (c) => (c.buckets = 'log2') },
  { names: ['--source'], value: 'KIND', help: 'bpf (trace this machine, default), synthetic (seeded demo data, no root needed) or prometheus (read hosts back from --prometheus)', apply: (c, v) => (c.source = oneOf('--source', v, ['bpf', 'synthetic', 'prometheus'] as const)) },
  { names: ['--prometheus'], value: 'URL', help: 'with --source prometheus: the Prometheus server, e.g. http://localhost:9090', apply: (c, v) => (c.prometheus = prometheusUrl(v)) },
  { names: ['--match'], value: 'SEL', help: 'with --source prometheus: a series selector choosing the hosts, e.g. {job="db"} (default: every bpfheat)', apply: (c, v) => (c.match = seriesSelector(v)) },
  { names: ['--host'], value: 'NAME', help: 'with --source prometheus: only this host, a value of the host label (repeatable; default: all, summed)', apply: (c, v) => c.hosts.push(labelValue('--host', v)) },
  { names: ['--sum-hosts'], help: 'with --source prometheus: only the hosts\' sum, summed by Prometheus and still exact (a tenth of the reading for ten hosts): --text and --jsonl write one device per name, the page has no host filter', apply: (c) => (c.sumHosts = true) },
  { names: ['--host-label'], value: 'LABEL', help: 'with --source prometheus: the label that names hosts (default instance)', apply: (c, v) => (c.hostLabel = labelName(v)) },
  { names: ['--seed'], value: 'N', help: 'seed of the synthetic source (default 1)', apply: (c, v) => (c.seed = positiveInteger('--seed', v)) },
  { names: ['--port'], value: 'PORT', help: 'dashboard port (default 7070; 0: any free port, the URL printed says which)', apply: (c, v) => (c.port = v === '0' ? 0 : positiveInteger('--port', v, 65535)) },
  { names: ['--listen'], value: 'ADDR', help: 'dashboard address (default 127.0.0.1; any other address requires a token)', apply: (c, v) => (c.listen = v) },
  { names: ['--token-file'], value: 'FILE', help: 'read the access token from FILE (or set BPFHEAT_TOKEN); required for a non-loopback --listen (default: generated and printed)', apply: (c, v) => (c.tokenFile = fileName('--token-file', v)) },
  { names: ['--token'], value: 'TOKEN', help: 'the access token on the command line, where other local users can read it: prefer --token-file', apply: (c, v) => (c.token = token(v, '--token')) },
  { names: ['--history'], value: 'SPAN', help: 'columns kept in memory: a count or a span like 30m, 24h (default 24h); roll-ups reach further: 10 s for 48h, 1 min for 7d, 10 min for 30d, or as long as SPAN', apply: (c, v) => (c.historyColumns = encodeHistory(v)) },
  { names: ['--max-clients'], value: 'N', help: 'most dashboard clients at once (default 256; each may queue up to 256 KiB)', apply: (c, v) => (c.maxClients = positiveInteger('--max-clients', v, 100_000)) },
  { names: ['--self-stats'], help: "measure the tracer's own BPF run time (kernel.bpf_stats_enabled) and report it", apply: (c) => (c.selfStats = true) },
  { names: ['--threshold'], value: 'NS', help: 'record exemplar I/Os slower than NS nanoseconds (default: adaptive, the recent p99; off: as --exemplars off)', apply: (c, v) => setThreshold(c, v) },
  { names: ['--exemplars'], value: 'on|off', help: 'off: no exemplars, and nothing runs when a request is queued or issued (default on)', apply: (c, v) => (c.exemplars = oneOf('--exemplars', v, ['on', 'off'] as const) === 'on') },
  { names: ['--start-map'], help: "time each request from an issue-side start map (the classic design) instead of the kernel's own issue time stamp", apply: (c) => (c.startMap = true) },
  { names: ['--issue-store'], help: "time every device from the issue-side store, as for devices without the kernel's issue time stamp (one program more at issue)", apply: (c) => (c.issueStore = true) },
  { names: ['--exemplar-rate'], value: 'N', help: 'at most N exemplars per second of each latency bucket, applied per column (never below one), the rest counted as dropped (default 200)', apply: (c, v) => (c.exemplarRate = positiveInteger('--exemplar-rate', v, 100_000)) },
  { names: ['--by-process'], help: 'with --text: one histogram per process (bitesize layout), from the exemplars', apply: (c) => (c.byProcess = true) },
  { names: ['--record'], value: 'FILE', help: 'also append every column and exemplar to FILE, a recording (a new file; see README)', apply: (c, v) => (c.record = fileName('--record', v)) },
  { names: ['--replay'], value: 'FILE', help: 'show a recording (- for stdin) instead of tracing (no root needed), with its own timestamps and interval', apply: (c, v) => setInput(c, 'replay', v) },
  { names: ['--strict'], help: 'with --replay: refuse a recording damaged in the middle (default: replay what is before the damage, with a note)', apply: (c) => (c.strict = true) },
  { names: ['--speed'], value: 'N', help: 'with --replay/--import: N times the recorded pace; 0: all at once (default: replay 1, import 0)', apply: (c, v) => (c.speed = speed(v)) },
  { names: ['--import'], value: 'FILE', help: 'build columns from an event trace (- for stdin): "time latency" text (trace2heatmap.pl) or CSV with a header', apply: (c, v) => setInput(c, 'import', v) },
  { names: ['--import-format'], value: 'F', help: 'text or csv (default: csv for *.csv or a first line with a comma, else text)', apply: (c, v) => (c.importFormat = oneOf('--import-format', v, IMPORT_FORMATS)) },
  { names: ['--time-unit', '--unitstime'], value: 'U', help: 'unit of the trace\'s times: s, ms, us, ns (default s, or a CSV header\'s suffix like time_ms)', apply: (c, v) => (c.timeUnit = oneOf('--time-unit', v, TIME_UNITS)) },
  { names: ['--latency-unit', '--unitslatency'], value: 'U', help: 'unit of its latencies: s, ms, us, ns (default us, or a suffix like latency_us)', apply: (c, v) => (c.latencyUnit = oneOf('--latency-unit', v, TIME_UNITS)) },
  { names: ['--time-column'], value: 'NAME', help: 'the CSV column of times (default: the first named time, timestamp or ts)', apply: (c, v) => (c.timeColumn = columnName('--time-column', v)) },
  { names: ['--latency-column'], value: 'NAME', help: 'the CSV column of latencies (default: the first named latency, lat or duration)', apply: (c, v) => (c.latencyColumn = columnName('--latency-column', v)) },
  { names: ['--time-base'], value: 'MS', help: 'unix ms that time 0 of the trace stands for (default 0: its times are unix time)', apply: (c, v) => (c.timeBaseMs = wholeNumber('--time-base', v)) },
  { names: ['-h', '--help'], help: 'show this help', apply: (c) => (c.help = true) },
];

function fileName(flag: string, value: string, stdin = false): string {
  if (value === '' || (value.startsWith('-') && !(stdin && value === '-'))) throw new UsageError(`${flag} needs a file name${stdin ? ' (or - for standard input)' : ''}, got "${value}"`);
  return value;
}

function setInput(config: Mutable<Config>, kind: 'replay' | 'import', value: string): void {
  if (config.inputFile !== null) throw new UsageError('--replay and --import each name the one source: use one of them, once');
  config.source = kind;
  config.inputFile = fileName(`--${kind}`, value, true);
}

function prometheusUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--prometheus needs the address of a Prometheus server, like http://localhost:9090, got "${value.slice(0, 80)}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--prometheus needs an http:// or https:// address, got "${value.slice(0, 80)}"`);
  return value;
}

function seriesSelector(value: string): string {
  const problem = matchProblem(value);
  if (problem) throw new UsageError(problem);
  return value.trim();
}

function labelName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(value)) throw new UsageError(`--host-label needs a Prometheus label name like instance or host, got "${value.slice(0, 80)}"`);
  return value;
}

function labelValue(flag: string, value: string): string {
  if (value === '' || value.length > 256) throw new UsageError(`${flag} needs a host as Prometheus labels it (e.g. db1:7070), got "${value.slice(0, 80)}"`);
  return value;
}

function speed(value: string): number {
  if (!/^\d{1,7}(\.\d{1,6})?$/.test(value) || Number(value) > 1_000_000) throw new UsageError(`--speed needs a number from 0 (all at once) to 1000000, like 1, 10 or 0.5, got "${value}"`);
  return Number(value);
}

function wholeNumber(flag: string, value: string): number {
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`${flag} needs a whole number of ms (unix time), got "${value}"`);
  return Number(value);
}

function columnName(flag: string, value: string): string {
  if (value.trim() === '' || value.length > 200) throw new UsageError(`${flag} needs the name of a column in the CSV header`);
  return value;
}

/** Flags that only mean something with another one, checked once every flag is read. */
function checkCombinations(config: Config, given: ReadonlySet<string>): void {
  const input = given.has('--replay') ? '--replay' : given.has('--import') ? '--import' : null;
  if (input && given.has('--source')) throw new UsageError(`--source and ${input} both choose the source: use one`);
  if (config.source === 'replay' && given.has('--interval')) {
    throw new UsageError('--interval cannot be used with --replay: a recording keeps the interval it was recorded at');
  }
  if (given.has('--token') && given.has('--token-file')) throw new UsageError('--token and --token-file both give the token: use --token-file');
  for (const flag of ['--buckets', '--log2']) {
    if (given.has(flag) && config.mode !== 'text') throw new UsageError(`${flag} chooses the rows of --text: use it with --text`);
  }
  if (given.has('--strict') && config.source !== 'replay') throw new UsageError('--strict is about a recording: use it with --replay FILE');
  if (given.has('--speed') && !input) throw new UsageError('--speed paces --replay or --import: use it with one of them');
  if (config.issueStore && (config.startMap || !config.exemplars)) throw new UsageError('--issue-store times requests from the store that exemplars fill: drop --start-map and --exemplars off / --threshold off');
  if (config.byProcess && !config.exemplars) throw new UsageError('--by-process is built from exemplars: drop --exemplars off / --threshold off');
  if (config.source === 'prometheus' && config.prometheus === null) throw new UsageError('--source prometheus needs --prometheus URL, the Prometheus server to read');
  for (const flag of ['--prometheus', '--match', '--host', '--host-label', '--sum-hosts']) {
    if (given.has(flag) && config.source !== 'prometheus') throw new UsageError(`${flag} is for reading hosts back from Prometheus: use it with --source prometheus`);
  }
  for (const flag of ['--import-format', '--time-unit', '--latency-unit', '--time-column', '--latency-column', '--time-base']) {
    if (given.has(flag) && config.source !== 'import') throw new UsageError(`${flag} describes the file of --import: use it with --import FILE`);
  }
}

// --history is resolved against --interval after all flags are read: negative = seconds.
function encodeHistory(value: string): number {
  const span = historySpan(value);
  return 'columns' in span ? span.columns : -span.seconds;
}

function setThreshold(config: Mutable<Config>, value: string): void {
  if (value === 'off') config.exemplars = false;
  else config.thresholdNs = threshold(value);
}

function threshold(value: string): number | null {
  if (value === 'adaptive') return null;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`--threshold needs nanoseconds (a whole number, 0 for every I/O), "adaptive" or "off", got "${value}"`);
  return Number(value);
}

function setMode(config: Mutable<Config>, mode: OutputMode): void {
  if (config.mode !== 'dashboard' && config.mode !== mode) throw new UsageError('--text, --jsonl and --exporter each choose the output: use one');
  config.mode = mode;
}

function deviceName(value: string): string {
  if (!/^[A-Za-z0-9._!-]{1,64}$/.test(value)) throw new UsageError(`--device needs a block device name like sda or loop3, got "${value}"`);
  return value;
}

const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;
const TOKEN_RULE = '16 to 256 URL-safe characters (letters, digits, . _ ~ -)';

function token(value: string, where: string): string {
  if (!TOKEN_PATTERN.test(value)) throw new UsageError(`${where} needs ${TOKEN_RULE}`);
  return value;
}

/** What reading the token needs from outside: the environment and the file system. */
export interface TokenInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** the file's text and its permission bits; throws as fs does */
  readonly readFile: (path: string) => { readonly text: string; readonly mode: number };
}

/**
 * The access token and the warnings about how it was given: --token-file, else --token (which
 * other users can read in ps), else BPFHEAT_TOKEN; null when none is given.
 */
export function resolveToken(config: Config, input: TokenInput): { readonly token: string | null; readonly warnings: readonly string[] } {
  if (config.tokenFile !== null) {
    let file: { text: string; mode: number };
    try {
      file = input.readFile(config.tokenFile);
    } catch (error) {
      throw new UserError(`cannot read the token file ${config.tokenFile} (--token-file): ${describeFsError(error)}`);
    }
    const text = file.text.replace(/\r?\n$/, '');
    if (!TOKEN_PATTERN.test(text)) throw new UserError(`the token file ${config.tokenFile} must hold one line of ${TOKEN_RULE}, and nothing else`);
    const warnings = (file.mode & 0o044) !== 0 ? [`warning: the token file ${config.tokenFile} can be read by other users (mode ${(file.mode & 0o777).toString(8)}): chmod 600 ${config.tokenFile}`] : [];
    return { token: text, warnings };
  }
  if (config.token !== null) {
    return { token: config.token, warnings: ['warning: --token puts the token on the command line, where every local user can read it (ps, /proc/PID/cmdline): use --token-file FILE or BPFHEAT_TOKEN instead'] };
  }
  const fromEnv = input.env.BPFHEAT_TOKEN;
  if (fromEnv === undefined || fromEnv === '') return { token: null, warnings: [] };
  if (!TOKEN_PATTERN.test(fromEnv)) throw new UserError(`BPFHEAT_TOKEN needs ${TOKEN_RULE}`);
  return { token: fromEnv, warnings: [] };
}

export function parseArgs(argv: readonly string[]): Config {
  const config: Mutable<Config> = { ...DEFAULTS, devices: [], ops: [], hosts: [] };
  const given = new Set<string>();
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
    given.add(flag.names.find((n) => n.startsWith('--')) ?? name);
  }
  checkCombinations(config, given);
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
    '       bpfheat --exporter [options] serve /metrics for Prometheus only (no page)',
    '       bpfheat snapshot (--replay FILE | --import FILE) [--from MS --to MS] -o out.svg',
    '                                    write the heat map as an SVG file (bpfheat snapshot --help)',
    '',
    'options:',
    ...rows,
    '',
    'examples:',
    '  sudo bpfheat                                    dashboard tracing every block device',
    '  sudo bpfheat --text -m --device nvme0n1         millisecond histograms of one disk',
    '  sudo bpfheat --text --log2                      power-of-two rows, as biolatency prints them',
    '  sudo bpfheat --jsonl --op write --duration 10   ten seconds of write-latency columns',
    '  bpfheat --source synthetic                      the dashboard on demo data, no root needed',
    '  sudo bpfheat --record today.bpfheat.jsonl       trace, and keep everything in a recording',
    '  bpfheat --replay today.bpfheat.jsonl --speed 0  browse that recording, no root needed',
    '  sudo bpfheat --exporter --listen 0.0.0.0 --token $TOKEN   a host for Prometheus to scrape (bearer token)',
    '  bpfheat --import out.lat_us --unitstime us      a trace2heatmap.pl input (times and latencies in us)',
    '  bpfheat --import io.csv --latency-column lat_ms   CSV with a header; the unit from the name',
    '  bpfheat --source prometheus --prometheus http://prom:9090 --match \'{job="db"}\' --interval 60000 --history 7d',
    '                                                  a week of the db fleet, summed, in one-minute columns',
    '',
    'Tracing needs root (CAP_BPF + CAP_PERFMON), a kernel with BTF (/sys/kernel/btf/vmlinux), clang and libbpf (npm run setup).',
  ].join('\n');
}
