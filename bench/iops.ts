/**
 * I/O throughput kept: fio IOPS on a loop device untraced, traced by bpfheat (default, and
 * --start-map) and traced by bpftrace (bench/biolatency.bt), in alternating runs (the order rotates every round), as the
 * median of the rounds and as ratios to untraced. kernel.bpf_stats_enabled stays as it is (0 by
 * default: its own clock reads would be counted against the tracers).
 *
 *   node --import tsx bench/iops.ts [--runtime S] [--rounds N]
 */
import { atLeast, heading, info, machineLine, median, numberOption, printFigures, say, sleep, table, type Figure } from './lib/report.ts';
import { isMain, runMain } from './lib/cleanup.ts';
import { ensureTracefs, fioJobText, kernelBenchProblem, loopDevice, readSysctl, runFio, scheduler, setScheduler } from './lib/system.ts';
import { startTracer, TRACER_LABELS, type TracerKind } from './lib/tracers.ts';

export interface IopsOptions {
  readonly runtimeS: number;
  readonly rounds: number;
}

type Config = 'untraced' | TracerKind;
const CONFIGS: readonly Config[] = ['untraced', 'bpfheat', 'bpfheat-start-map', 'bpftrace'];
const PART = 'IOPS kept';
const TARGET_KEPT = 0.97;
const LETTERS: Record<Config, string> = { untraced: 'u', bpfheat: 'h', 'bpfheat-start-map': 's', 'bpfheat-no-exemplars': 'x', bpftrace: 't', minimal: 'm' };

const label = (config: Config): string => (config === 'untraced' ? 'untraced' : TRACER_LABELS[config]);

export async function benchIops(options: IopsOptions): Promise<Figure[]> {
  heading('I/O throughput kept (fio IOPS, traced ÷ untraced)');
  say(`machine: ${machineLine()}`);
  const problem = kernelBenchProblem(['fio', 'bpftrace']);
  if (problem) {
    say(`skipped: ${problem}`);
    return [atLeast(PART, 'bpfheat IOPS ÷ untraced', null, '%', TARGET_KEPT * 100, `≥ ${TARGET_KEPT * 100}%`)];
  }
  ensureTracefs();
  const device = loopDevice(256);
  setScheduler(device, 'none'); // a loop device's default
  say(`load: ${fioJobText(options.runtimeS)} on ${device.path} (scheduler ${scheduler(device)}), ${options.rounds} rounds, order rotating; kernel.bpf_stats_enabled=${readSysctl('kernel.bpf_stats_enabled')}`);

  const iops = new Map<Config, number[]>(CONFIGS.map((c) => [c, []]));
  const rows: (string | number)[][] = [];
  for (let round = 0; round < options.rounds; round++) {
    const row: number[] = [];
    const order = CONFIGS.map((_, k) => CONFIGS[(k + round) % CONFIGS.length]!);
    for (const config of order) {
      const tracer = config === 'untraced' ? null : await startTracer(config);
      try {
        await sleep(500);
        const result = await runFio(device.path, options.runtimeS);
        iops.get(config)!.push(result.iops);
        row[CONFIGS.indexOf(config)] = result.iops;
      } finally {
        await tracer?.stop();
      }
    }
    rows.push([`${round + 1}`, order.map((c) => LETTERS[c]).join(''), ...row.map(Math.round), ...row.slice(1).map((v) => `${((v / row[0]!) * 100).toFixed(1)}%`)]);
    say(`  round ${round + 1}: ${CONFIGS.map((c, k) => `${label(c)} ${Math.round(row[k]!).toLocaleString('en-US')}`).join(', ')}`);
  }
  say();
  say(table(['round', 'order', 'untraced', 'bpfheat', '--start-map', 'bpftrace', 'bpfheat %', '--start-map %', 'bpftrace %'], rows));
  say('(order: u untraced, h bpfheat, s bpfheat --start-map, t bpftrace)');

  const base = median(iops.get('untraced')!);
  const kept = (config: Config): number => median(iops.get(config)!) / base;
  const roundRatio = (config: Config): number => median(iops.get(config)!.map((v, k) => v / iops.get('untraced')![k]!));
  say();
  say(
    table(
      ['config', 'median IOPS', 'min', 'max', '÷ untraced (medians)', 'median of round ratios'],
      CONFIGS.map((c) => [label(c), Math.round(median(iops.get(c)!)), Math.round(Math.min(...iops.get(c)!)), Math.round(Math.max(...iops.get(c)!)), `${(kept(c) * 100).toFixed(1)}%`, `${(roundRatio(c) * 100).toFixed(1)}%`]),
    ),
  );
  return [
    info(PART, 'untraced fio IOPS (median)', base, 'IOPS'),
    atLeast(PART, 'bpfheat IOPS ÷ untraced', kept('bpfheat') * 100, '%', TARGET_KEPT * 100, `≥ ${TARGET_KEPT * 100}%`, 1),
    info(PART, 'bpfheat --start-map IOPS ÷ untraced', kept('bpfheat-start-map') * 100, '%', 1),
    info(PART, 'bpftrace IOPS ÷ untraced', kept('bpftrace') * 100, '%', 1),
  ];
}

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const figures = await benchIops({ runtimeS: numberOption('runtime', 3), rounds: numberOption('rounds', 8) });
    heading('summary');
    printFigures(figures);
  });
}
