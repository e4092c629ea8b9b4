/**
 * `bpfheat snapshot`: the dashboard's SVG export without a browser or a server, for reports and
 * CI pipelines.
 *
 *   bpfheat snapshot (--replay FILE | --import FILE [import flags] | --source prometheus --prometheus URL [--match SEL] [--host NAME]...)
 *                    [--from MS] [--to MS]
 *                    [--metric M] [--device NAME]... [--op OP]... [--width PX] [--height PX] -o out.svg
 *
 * The picture is the one GET /api/snapshot.svg answers for the same data and range: the flags
 * become that endpoint's query, the columns go through a History as the server's do, and the
 * query is read by the server's own parseRangeQuery, so defaults (the last 15 minutes of the
 * data), limits and the view are the server's. renderHeatmapSvg draws it.
 */
import { writeFileSync } from 'node:fs';
import type { Column } from '../../shared/column.ts';
import { renderHeatmapSvg } from '../../shared/svg.ts';
import { snapshotView } from '../../shared/view.ts';
import { FLAGS, parseArgs, type Config } from './config.ts';
import { UsageError, UserError } from '../base/errors.ts';
import { History, defaultLevels } from '../dashboard/history.ts';
import { SNAPSHOT_PARAMS, parseRangeQuery, snapshotColumns } from '../dashboard/http.ts';
import { DEFAULT_BACKFILL_MS } from '../dashboard/ws.ts';
import { describeFsError } from '../formats/recording.ts';
import type { FiniteSource } from '../sources/replay.ts';

/** The flags of bpfheat's main table that choose and read the data; everything else is refused. */
const DATA_FLAGS = ['--replay', '--strict', '--source', '--prometheus', '--match', '--host', '--host-label', '--sum-hosts', '--import', '--import-format', '--time-unit', '--unitstime', '--latency-unit', '--unitslatency', '--time-column', '--latency-column', '--time-base', '--interval', '--metric', '--device', '--op'];

interface SnapshotFlag {
  readonly names: readonly string[];
  readonly value: string;
  readonly help: string;
  /** the /api/snapshot.svg query parameter it becomes, or null */
  readonly param: string | null;
}

const SNAPSHOT_FLAGS: readonly SnapshotFlag[] = [
  { names: ['--from'], value: 'MS', help: 'start of the picture, unix ms (default: 15 minutes before --to)', param: 'from' },
  { names: ['--to'], value: 'MS', help: 'end of the picture, unix ms, exclusive (default: the end of the last column)', param: 'to' },
  { names: ['--width'], value: 'PX', help: 'width in CSS pixels, 200-8000 (default 1200)', param: 'width' },
  { names: ['--height'], value: 'PX', help: 'height in CSS pixels, 150-8000 (default 600)', param: 'height' },
  { names: ['--step'], value: 'MS', help: 'cell width in ms, rounded down to a held level (default: the coarsest giving each pixel its own cell)', param: 'step' },
  { names: ['-o', '--output'], value: 'FILE', help: 'write the SVG here (- for stdout)', param: null },
];

export interface SnapshotArgs {
  /** the data flags, read by bpfheat's own parseArgs (null with --help) */
  readonly config: Config | null;
  /** the /api/snapshot.svg query these flags stand for */
  readonly query: URLSearchParams;
  readonly output: string | null;
  readonly help: boolean;
}

/** Splits the command line: the snapshot's own flags, and the data flags bpfheat's table reads. */
export function parseSnapshotArgs(argv: readonly string[]): SnapshotArgs {
  const dataArgs: string[] = [];
  const query = new URLSearchParams();
  let output: string | null = null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const takeValue = (what: string): string => {
      if (eq > 0) return arg.slice(eq + 1);
      if (i + 1 < argv.length) return argv[++i]!;
      throw new UsageError(`${name} needs a value (${what})`);
    };
    if (name === '-h' || name === '--help') {
      help = true;
      continue;
    }
    const own = SNAPSHOT_FLAGS.find((f) => f.names.includes(name));
    if (own) {
      const value = takeValue(own.value);
      if (own.param === null) {
        if (output !== null) throw new UsageError(`${name} is given twice: one output file`);
        if (value === '') throw new UsageError(`${name} needs a file name`);
        output = value;
        continue;
      }
      if (query.has(own.param)) throw new UsageError(`${name} is given twice`);
      if (!/^\d{1,16}$/.test(value)) throw new UsageError(`${name} needs a whole number (${own.value}), got "${value}"`);
      query.set(own.param, value);
      continue;
    }
    const flag = FLAGS.find((f) => f.names.includes(name));
    if (!flag) throw new UsageError(`unknown option "${arg}" for bpfheat snapshot`);
    if (!DATA_FLAGS.includes(name)) throw new UsageError(`${name} is not an option of bpfheat snapshot, which draws a recording (--replay), a trace (--import) or Prometheus's hosts (--source prometheus) into a file`);
    dataArgs.push(arg);
    if (flag.value && eq < 0) {
      if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value (${flag.value})`);
      dataArgs.push(argv[++i]!);
    }
  }
  if (help) return { config: null, query, output, help };
  const config = parseArgs(dataArgs);
  if (config.source !== 'replay' && config.source !== 'import' && config.source !== 'prometheus') {
    throw new UsageError('bpfheat snapshot draws a recording, a trace or hosts in Prometheus: give --replay FILE, --import FILE or --source prometheus --prometheus URL');
  }
  if (output === null) throw new UsageError('bpfheat snapshot needs -o FILE (or -o - for stdout)');
  if (config.metric !== 'latency') query.set('metric', config.metric);
  for (const device of config.devices) query.append('device', device);
  for (const op of config.ops) query.append('op', op);
  return { config, query, output, help };
}

/** Errors of the server's query parser speak of query parameters; here they were flags. */
function asFlags(message: string): string {
  return message.replace(/"(from|to|metric|device|op|width|height|step)"/g, '--$1');
}

/**
 * The SVG /api/snapshot.svg answers for these columns and this query, computed as the server
 * does: the columns pass through a History as their wire messages, the query through the
 * server's parseRangeQuery.
 */
export function snapshotSvg(source: Pick<FiniteSource, 'kind' | 'host' | 'intervalMs' | 'devices'>, columns: readonly Column[], query: URLSearchParams): string {
  const history = new History(Math.max(1, columns.length), defaultLevels(source.intervalMs, columns.length));
  for (const column of columns) history.record(column);
  try {
    const q = parseRangeQuery(query, SNAPSHOT_PARAMS, source.devices(), history, source.intervalMs);
    const view = snapshotView({
      fromMs: q.fromMs,
      toMs: q.toMs,
      filter: { metric: q.metric, devices: q.devices, ops: q.ops },
      host: source.host,
      source: source.kind,
      devices: source.devices(),
      ...(q.widthCss ? { widthCss: q.widthCss } : {}),
      ...(q.heightCss ? { heightCss: q.heightCss } : {}),
    });
    return renderHeatmapSvg(snapshotColumns(history, source.intervalMs, q, view), view);
  } catch (error) {
    throw new UsageError(asFlags(error instanceof Error ? error.message : String(error)));
  }
}

export function snapshotHelp(): string {
  const rows = SNAPSHOT_FLAGS.map((f) => `${`  ${f.names.join(', ')} ${f.value}`.padEnd(26)} ${f.help}`);
  return [
    'bpfheat snapshot — the heat map of a recording or a trace as a standalone SVG file',
    '',
    'usage: bpfheat snapshot (--replay FILE | --import FILE [import options] | --source prometheus --prometheus URL [--match SEL] [--host NAME]... --interval MS)',
    '                        [--from MS] [--to MS] -o out.svg',
    '',
    'options:',
    ...rows,
    '  --metric, --device, --op   what to show, as for bpfheat (see bpfheat --help)',
    '  --import-format, --time-unit, --latency-unit, --time-column, --latency-column, --time-base, --interval',
    '                             how to read an --import file, as for bpfheat',
    '',
    'The file is the one the dashboard exports and GET /api/snapshot.svg returns for the same range.',
    '',
    'examples:',
    '  bpfheat snapshot --replay examples/demo.bpfheat.jsonl -o demo.svg',
    '  bpfheat snapshot --import out.lat_us --unitstime us --from 1795613235000 --to 1795613295000 -o io.svg',
    '  bpfheat snapshot --source prometheus --prometheus http://prom:9090 --match \'{job="db"}\' --interval 60000 --from 1795526400000 --to 1795612800000 -o fleet.svg',
  ].join('\n');
}

export async function runSnapshot(argv: readonly string[]): Promise<void> {
  const args = parseSnapshotArgs(argv);
  if (args.help) {
    process.stdout.write(`${snapshotHelp()}\n`);
    return;
  }
  const config = args.config!;
  let source: Pick<FiniteSource, 'kind' | 'host' | 'intervalMs' | 'devices'>;
  let columns: readonly Column[];
  if (config.source === 'prometheus') {
    const { prometheusSourceName, readPrometheusRange } = await import('../sources/prometheus.ts');
    // without --to: up to the step that every host's scrape has reached; without --from: the server's default, 15 minutes
    const toMs = Number(args.query.get('to') ?? Math.floor((Date.now() - 2 * config.intervalMs) / config.intervalMs) * config.intervalMs);
    const fromMs = Number(args.query.get('from') ?? toMs - DEFAULT_BACKFILL_MS);
    if (!(fromMs < toMs)) throw new UsageError(`--from (${fromMs}) must be before --to (${toMs})`);
    const options = { url: config.prometheus!, match: config.match, hostLabel: config.hostLabel, hosts: config.hosts, sumHosts: config.sumHosts, intervalMs: config.intervalMs };
    const read = await readPrometheusRange(options, fromMs, toMs);
    columns = read.columns;
    source = { kind: 'prometheus', host: prometheusSourceName(options), intervalMs: config.intervalMs, devices: () => read.devices };
  } else if (config.source === 'replay') {
    const { createReplaySource } = await import('../sources/replay.ts');
    const replay = await createReplaySource({ path: config.inputFile!, speed: 0, strict: config.strict });
    [source, columns] = [replay, replay.columns()];
  } else {
    const { createImportSource } = await import('../sources/import.ts');
    const imported = await createImportSource({ ...config, path: config.inputFile!, format: config.importFormat, speed: 0 });
    [source, columns] = [imported, imported.columns()];
  }
  if (columns.length === 0) throw new UserError(`${config.inputFile} holds no column: there is no picture to draw`);
  const svg = snapshotSvg(source, columns, args.query);
  if (args.output === '-') {
    process.stdout.write(svg);
    return;
  }
  try {
    writeFileSync(args.output!, svg);
  } catch (error) {
    throw new UserError(`cannot write ${args.output}: ${describeFsError(error)}`);
  }
  const cells = svg.split('<rect class="cell').length - 1;
  process.stderr.write(`bpfheat: wrote ${args.output} (${cells} cells)\n`);
}
