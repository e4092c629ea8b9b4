/**
 * I/O throughput kept: fio IOPS on a loop device untraced, traced by bpfheat (default,
 * --exemplars off and --start-map), traced by bpftrace (bench/biolatency.bt), and beside an idle
 * placebo process started and stopped the same way (the A/A control). Every traced run
 * is bracketed by untraced runs (u h u s u x u t u …, the traced configs' order rotating every
 * round), and the figure judged is the median over the rounds of each traced run's IOPS ÷ the mean
 * of the two untraced runs beside it: the machine's speed drifts by up to 3× within minutes here,
 * which a ratio of medians over the sitting carries whole (printed beside it). bpfheat's target is
 * "met" only when the whole 95% confidence interval of that median (order statistics) is at or
 * above 97% and the placebo's median is within ±2% of 100% (the method shows no bias of its own at
 * that size); "missed" when the interval is all below; "undecided" otherwise.
 * kernel.bpf_stats_enabled stays as it is (0 by default: its own clock reads would be counted
 * against the tracers). An untraced run starts 2 s after the tracer before it stopped; a traced
 * one 5 s after its tracer was ready; then every run has --warmup S (5) of the same load, not
 * measured, then 2 s idle, so that each measures a tracer running (or none), not one starting or
 * stopping, and traced and untraced runs follow the same load. Per config it also prints the
 * tracer's CPU time (in the measured run and in its warm-up) and context switches per second,
 * and fio's context switches per I/O.
 *
 * The load (--load): uring (default) keeps 32 reads in flight through io_uring on a loop device
 * whose file is in memory: CPU-bound, so the rate follows the CPU time each I/O takes and a
 * tracer's share shows; psync reads one at a time from a file on disk, whose rate follows this
 * VM's wake-up latency (it moved 4,227–28,749 IOPS untraced in one sitting).
 *
 *   node --import tsx bench/iops.ts [--runtime S] [--rounds N] [--load uring|psync] [--warmup S]
 *                                   [--tracers bpfheat,bpfheat-no-exemplars,bpfheat-start-map,bpftrace,placebo]
 *
 * --tracers runs only those (bpfheat and the placebo always): more rounds of the judged pair in the
 * same time narrow the interval of its median.
 */
import { loadavg } from 'node:os';
import { atLeast, choiceOption, choicesOption, heading, info, machineLine, median, numberOption, printFigures, quantile, say, sleep, table, type Figure } from './lib/report.ts';
import { isMain, runMain } from './lib/cleanup.ts';
import { bracketedOrder, bracketedRatios, type Run } from './lib/bracketed.ts';
import { judgeKept, medianInterval } from './lib/judge.ts';
import { ensureTracefs, FIO_JOBS, fioJobText, kernelBenchProblem, type FioJob, LOAD_BACKING, loopBacking, loopDevice, readSysctl, runFio, scheduler, setScheduler } from './lib/system.ts';
import { SETTLE_MS, startTracer, STEADY_MS, tracerUsage, TRACER_LABELS, WARMUP_S, type TracerKind } from './lib/tracers.ts';

export interface IopsOptions {
  readonly runtimeS: number;
  readonly rounds: number;
  /** uring (default): CPU-bound, on a memory-backed device; psync: one I/O at a time, on a file on disk */
  readonly load: FioJob;
  /** seconds of the same load, not measured, before every measured run, traced or not (0: none) */
  readonly warmupS: number;
  /** the tracers run (all when not given); bpfheat, which is judged, and the placebo, its control, always are */
  readonly tracers?: readonly TracerKind[];
}


type Config = 'untraced' | TracerKind;
const TRACED: readonly TracerKind[] = ['bpfheat', 'bpfheat-no-exemplars', 'bpfheat-start-map', 'bpftrace', 'placebo'];
const FIGURE_NAMES = { 'bpfheat-no-exemplars': 'bpfheat --exemplars off', 'bpfheat-start-map': 'bpfheat --start-map', bpftrace: 'bpftrace' } as const;
const TARGET_KEPT = 0.97;
/** how far from 100% the placebo may keep for the run to resolve the target */
const CONTROL_TOLERANCE = 0.02;

const label = (config: Config): string => (config === 'untraced' ? 'untraced' : TRACER_LABELS[config]);
const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;

/** What one fio run under one config measured. */
interface Measured {
  readonly iops: number;
  readonly ios: number;
  readonly fioContextSwitches: number;
  /** the tracer's user + system CPU during the warm-up load, and the warm-up's wall time (0 without one) */
  readonly warmupCpuMs: number;
  readonly warmupWallMs: number;
  /** the tracer's user + system CPU and context switches during the run (0 untraced) */
  readonly tracerCpuMs: number;
  readonly tracerSwitches: number;
  readonly wallMs: number;
}

async function measure(config: Config, devicePath: string, options: IopsOptions, run: string): Promise<Measured> {
  const tracer = config === 'untraced' ? null : await startTracer(config);
  try {
    await sleep(tracer ? STEADY_MS : SETTLE_MS);
    const usage = () => (tracer ? tracerUsage(tracer, run) : { cpuMs: 0, switches: 0 });
    /** fio for seconds, with what the tracer took meanwhile */
    const timedFio = async (seconds: number) => {
      const before = usage();
      const started = performance.now();
      const fio = await runFio(devicePath, seconds, options.load);
      const after = usage();
      return { fio, cpuMs: after.cpuMs - before.cpuMs, switches: after.switches - before.switches, wallMs: performance.now() - started };
    };
    // untraced runs too: the placebo showed traced runs 3% slower than untraced ones when only
    // they followed 5 s of load
    const warmup = options.warmupS > 0 ? await timedFio(options.warmupS) : null;
    if (warmup) await sleep(SETTLE_MS);
    const measured = await timedFio(options.runtimeS);
    return {
      iops: measured.fio.iops,
      ios: measured.fio.ios,
      fioContextSwitches: measured.fio.contextSwitches,
      warmupCpuMs: warmup?.cpuMs ?? 0,
      warmupWallMs: warmup?.wallMs ?? 0,
      tracerCpuMs: measured.cpuMs,
      tracerSwitches: measured.switches,
      wallMs: measured.wallMs,
    };
  } finally {
    await tracer?.stop();
  }
}

export async function benchIops(options: IopsOptions): Promise<Figure[]> {
  heading(`I/O throughput kept (fio IOPS, traced ÷ untraced), --load ${options.load}`);
  const part = `IOPS kept, --load ${options.load}`; // every figure names the load it was measured under
  say(`machine: ${machineLine()}`);
  const traced = TRACED.filter((t) => t === 'bpfheat' || t === 'placebo' || (options.tracers ?? TRACED).includes(t));
  const problem = kernelBenchProblem(traced.includes('bpftrace') ? ['fio', 'bpftrace'] : ['fio']);
  if (problem) {
    say(`skipped: ${problem}`);
    return [atLeast(part, 'bpfheat IOPS ÷ untraced', null, '%', TARGET_KEPT * 100, `≥ ${TARGET_KEPT * 100}%`)];
  }
  ensureTracefs();
  const device = loopDevice(256, LOAD_BACKING[options.load]);
  setScheduler(device, 'none'); // a loop device's default
  const order = bracketedOrder(traced, 'untraced', options.rounds);
  say(`load: ${fioJobText(options.runtimeS, options.load)} on ${device.path} (256 MiB ${loopBacking(device)}, scheduler ${scheduler(device)}), ${options.rounds} rounds, every traced run between two untraced ones; kernel.bpf_stats_enabled=${readSysctl('kernel.bpf_stats_enabled')}`);
  say(options.warmupS > 0 ? `every run, traced or not, is preceded by ${options.warmupS} s of the same load, not measured, then ${SETTLE_MS / 1000} s idle` : 'no warm-up: a tracer is measured under the first load it sees');
  const loadBefore = loadavg()[0]!;

  const runs: (Run<Config> & Measured)[] = [];
  for (const [k, config] of order.entries()) {
    const m = await measure(config, device.path, options, `run ${k + 1}`);
    runs.push({ config, value: m.iops, ...m });
    const previous = runs[k - 1];
    const versus = config !== 'untraced' && previous ? `  (${percent(m.iops / previous.iops)} of the untraced run before)` : '';
    say(`  run ${String(k + 1).padStart(3)}/${order.length}  ${label(config).padEnd(24)} ${Math.round(m.iops).toLocaleString('en-US').padStart(7)} IOPS${versus}`);
  }
  const loadAfter = loadavg()[0]!;

  const ratios = bracketedRatios(runs, 'untraced');
  const of = (config: Config): (Run<Config> & Measured)[] => runs.filter((r) => r.config === config);
  const base = median(of('untraced').map((r) => r.iops));
  const bracketed = (config: Config): number => median(ratios.get(config) ?? []);
  const interval = (config: Config) => medianInterval(ratios.get(config) ?? []);
  const quartiles = (config: Config): string => `${percent(quantile(ratios.get(config) ?? [], 0.25))}–${percent(quantile(ratios.get(config) ?? [], 0.75))}`;
  const ofMedians = (config: Config): number => median(of(config).map((r) => r.iops)) / base;
  const perSecond = (config: Config, pick: (r: Measured) => number, wall: (r: Measured) => number = (r) => r.wallMs): number => {
    const list = of(config);
    return (list.reduce((n, r) => n + pick(r), 0) / list.reduce((n, r) => n + wall(r), 0)) * 1000;
  };
  say();
  say(
    table(
      ['config', 'median IOPS', 'min', 'max', '÷ untraced beside it: median', '95% interval of the median', 'p25–p75', '÷ untraced (medians)', 'tracer CPU ms/s', 'in its warm-up', 'tracer switches/s', 'fio switches/I/O'],
      (['untraced', ...traced] as const).map((c) => {
        const iops = of(c).map((r) => r.iops);
        const range = interval(c);
        return [
          label(c),
          Math.round(median(iops)),
          Math.round(Math.min(...iops)),
          Math.round(Math.max(...iops)),
          c === 'untraced' ? '—' : percent(bracketed(c)),
          c === 'untraced' || !range ? '—' : `${percent(range.low)}–${percent(range.high)}`,
          c === 'untraced' ? '—' : quartiles(c),
          c === 'untraced' ? '—' : percent(ofMedians(c)),
          c === 'untraced' ? '—' : perSecond(c, (r) => r.tracerCpuMs).toFixed(1),
          c === 'untraced' || options.warmupS === 0 ? '—' : perSecond(c, (r) => r.warmupCpuMs, (r) => r.warmupWallMs).toFixed(1),
          c === 'untraced' ? '—' : Math.round(perSecond(c, (r) => r.tracerSwitches)),
          (of(c).reduce((n, r) => n + r.fioContextSwitches, 0) / of(c).reduce((n, r) => n + r.ios, 0)).toFixed(2),
        ];
      }),
    ),
  );
  say(`(judged: the median of each traced run ÷ the mean of the untraced runs right before and after it; load average ${loadBefore.toFixed(2)} at the start, ${loadAfter.toFixed(2)} at the end)`);
  const judged = judgeKept(interval('bpfheat'), bracketed('placebo'), TARGET_KEPT, CONTROL_TOLERANCE);
  say(`resolution of this run: the placebo (nothing traced) kept ${percent(bracketed('placebo'))}, quartiles ${quartiles('placebo')}`);
  say(`bpfheat ≥ ${percent(TARGET_KEPT)}: ${judged.verdict} (${judged.why})`);
  const target = `≥ ${TARGET_KEPT * 100}%, the 95% interval of the median, placebo within ±${CONTROL_TOLERANCE * 100}%`;
  const kept = atLeast(part, 'bpfheat IOPS ÷ untraced runs beside it (median)', bracketed('bpfheat') * 100, '%', TARGET_KEPT * 100, target, 1);
  return [
    info(part, 'untraced fio IOPS (median)', base, 'IOPS'),
    { ...kept, met: judged.verdict === 'undecided' ? null : judged.verdict === 'met', note: `${judged.verdict}: ${judged.why}` },
    info(part, 'placebo (A/A control) IOPS ÷ untraced beside it: the run\'s resolution', bracketed('placebo') * 100, '%', 1, `quartiles ${quartiles('placebo')}`),
    info(part, 'bpfheat IOPS ÷ untraced (ratio of medians)', ofMedians('bpfheat') * 100, '%', 1),
    ...(['bpfheat-no-exemplars', 'bpfheat-start-map', 'bpftrace'] as const)
      .filter((t) => traced.includes(t))
      .map((t) => info(part, `${FIGURE_NAMES[t]} IOPS ÷ untraced beside it`, bracketed(t) * 100, '%', 1)),
  ];
}

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const figures = await benchIops({
      runtimeS: numberOption('runtime', 2),
      rounds: numberOption('rounds', 10),
      load: choiceOption('load', Object.keys(FIO_JOBS) as FioJob[], 'uring'),
      warmupS: numberOption('warmup', WARMUP_S),
      tracers: choicesOption('tracers', TRACED, TRACED),
    });
    heading('summary');
    printFigures(figures);
  });
}
