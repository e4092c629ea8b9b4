/**
 * BPF cost per I/O: the kernel's own measure (kernel.bpf_stats_enabled=1: run_time_ns and
 * run_cnt of each program) for bpfheat, for bpftrace running a biolatency equivalent, and for a
 * minimal map-based libbpf program (the floor), one after the other in the same run, under the
 * same fio job on a loop device this benchmark makes.
 *
 *   node --import tsx bench/bpf-cost.ts [--runtime S] [--rounds N] [--load psync|uring] [--warmup S]
 *
 * Each tool is started; 2 s after it is ready (SETTLE_MS) it sees --warmup S (5) of the same load,
 * not measured, and 2 s later its programs' counters are read (from /proc/PID/fdinfo: only that
 * process's programs, whoever else traces), fio runs, the counters are read again. Without the
 * warm-up bpfheat was measured while its JavaScript compiled under the first load it saw (its
 * process took 14–24 ms of CPU a second in the measured runs, 5–7 after it), which also
 * left the caches its programs use colder than a tracer left running finds them. The order of
 * the tools rotates every round. Run with the loop device's default scheduler (none: no
 * block_rq_insert) and with mq-deadline (insert then issue; bpfheat's default mode has one
 * block_io_start program either way). ns per I/O = run time on that side / run count of the
 * completion program (one per block request).
 *
 * The load (--load): psync (default) reads one at a time from a file on disk, so every I/O finds
 * the caches as ~40 µs of other work left them, and the cost per I/O follows this VM's rate of
 * wake-ups; uring keeps 32 reads in flight on a file in memory (the IOPS-kept load), a busy
 * server's case, where the programs run warm at ~250,000 I/Os a second.
 */
import { atMost, choiceOption, heading, info, machineLine, median, numberOption, printFigures, say, sleep, table, type Figure } from './lib/report.ts';
import { isMain, runMain } from './lib/cleanup.ts';
import {
  ensureTracefs,
  fioJobText,
  kernelBenchProblem,
  loopBacking,
  loopDevice,
  programDeltas,
  programsOf,
  runFio,
  scheduler,
  schedulerAvailable,
  setScheduler,
  setSysctl,
  FIO_JOBS,
  type FioJob,
  LOAD_BACKING,
  type ProgramCounters,
} from './lib/system.ts';
import { medianRound, perIo, SETTLE_MS, startTracer, tracerUsage, TRACER_LABELS, WARMUP_S, type PerIo, type TracerKind } from './lib/tracers.ts';

export interface BpfCostOptions {
  /** seconds of fio per tool and round (after a 0.5 s ramp) */
  readonly runtimeS: number;
  readonly rounds: number;
  readonly load: FioJob;
  /** seconds of the same load before each measured run, not measured (0: none) */
  readonly warmupS: number;
}

const TOOLS: readonly TracerKind[] = ['bpfheat', 'bpfheat-start-map', 'bpfheat-no-exemplars', 'bpftrace', 'minimal'];
const SCHEDULERS = ['none', 'mq-deadline'];
/** bpfheat's budget, against tools measured in the same run: bpftrace's biolatency, and the least
 * a map-based tracer with one program on each side does (the floor) */
const TARGET_BPFTRACE = 0.4;
const TARGET_FLOOR = 0.5;

interface Measured {
  programs: ProgramCounters[];
  /** ns per I/O of each round, for medians */
  rounds: PerIo[];
  fioIos: number;
  fioRuntimeMs: number;
  userCpuMs: number;
  wallMs: number;
}

function add(into: Measured | undefined, programs: readonly ProgramCounters[], fio: { ios: number; runtimeMs: number }, cpu: number, wall: number): Measured {
  const sum = into ?? { programs: [], rounds: [], fioIos: 0, fioRuntimeMs: 0, userCpuMs: 0, wallMs: 0 };
  sum.rounds.push(perIo(programs));
  for (const p of programs) {
    // the same program names in every round (a new tracer process gets new program ids)
    const k = sum.programs.findIndex((q) => q.name === p.name);
    if (k < 0) sum.programs.push({ ...p });
    else sum.programs[k] = { ...sum.programs[k]!, runTimeNs: sum.programs[k]!.runTimeNs + p.runTimeNs, runCount: sum.programs[k]!.runCount + p.runCount };
  }
  sum.fioIos += fio.ios;
  sum.fioRuntimeMs += fio.runtimeMs;
  sum.userCpuMs += cpu;
  sum.wallMs += wall;
  return sum;
}

export async function benchBpfCost(options: BpfCostOptions): Promise<Figure[]> {
  // every figure names the load it was measured under, as IOPS kept's do; psync's keep the name they always had
  const part = options.load === 'psync' ? 'BPF cost' : `BPF cost, --load ${options.load}`;
  heading(`BPF cost per I/O (kernel.bpf_stats_enabled=1), --load ${options.load}`);
  say(`machine: ${machineLine()}`);
  const problem = kernelBenchProblem(['fio', 'bpftrace', 'bpftool', 'clang']);
  if (problem) {
    say(`skipped: ${problem}`);
    return [atMost(part, 'bpfheat ÷ bpftrace', null, '×', TARGET_BPFTRACE, `≤ ${TARGET_BPFTRACE}×`, 2)];
  }
  ensureTracefs();
  setSysctl('kernel.bpf_stats_enabled', '1');
  const device = loopDevice(256, LOAD_BACKING[options.load]);
  say(`load: ${fioJobText(options.runtimeS, options.load)} on ${device.path} (256 MiB ${loopBacking(device)}), ${options.rounds} rounds, tools in rotating order`);
  say(options.warmupS > 0 ? `every measured run is preceded by ${options.warmupS} s of the same load, not measured, then ${SETTLE_MS / 1000} s idle` : 'no warm-up: each tool is measured under the first load it sees');

  const results = new Map<string, Measured>();
  const schedulers = SCHEDULERS.filter((s) => schedulerAvailable(device, s));
  for (const sched of schedulers) {
    setScheduler(device, sched);
    for (let round = 0; round < options.rounds; round++) {
      const order = TOOLS.map((_, k) => TOOLS[(k + round) % TOOLS.length]!);
      for (const tool of order) {
        const tracer = await startTracer(tool);
        try {
          await sleep(SETTLE_MS);
          if (options.warmupS > 0) {
            await runFio(device.path, options.warmupS, options.load);
            await sleep(SETTLE_MS);
          }
          const run = `${sched} round ${round + 1}`;
          const before = programsOf(tracer.pid);
          const cpuBefore = tracerUsage(tracer, run).cpuMs;
          const started = performance.now();
          const fio = await runFio(device.path, options.runtimeS, options.load);
          const wall = performance.now() - started;
          const cpu = tracerUsage(tracer, run).cpuMs - cpuBefore;
          const deltas = programDeltas(before, programsOf(tracer.pid));
          const key = `${tool}/${sched}`;
          results.set(key, add(results.get(key), deltas, fio, cpu, wall));
          const one = perIo(deltas);
          say(`  ${scheduler(device).padEnd(11)} round ${round + 1}  ${TRACER_LABELS[tool].padEnd(24)} ${Math.round(fio.iops).toLocaleString('en-US').padStart(7)} IOPS  ${one.totalNs.toFixed(0).padStart(5)} ns/I/O`);
        } finally {
          await tracer.stop();
        }
      }
    }
  }

  // each tool's median round by total, whole (its sides add up to its total): one round disturbed by
  // the rest of the machine does not move it
  const costs = new Map<string, PerIo>();
  for (const [key, m] of results) {
    costs.set(key, { ...medianRound(m.rounds)!, completions: m.rounds.reduce((n, r) => n + r.completions, 0) });
  }

  say();
  say('per program, all rounds summed:');
  const programRows: (string | number)[][] = [];
  for (const [key, m] of results) {
    const [tool, sched] = key.split('/') as [TracerKind, string];
    for (const p of m.programs) {
      if (p.runCount === 0 && p.runTimeNs === 0) continue;
      programRows.push([sched, TRACER_LABELS[tool], p.name, p.runCount, Math.round(p.runTimeNs / 1e6), p.runCount > 0 ? Math.round(p.runTimeNs / p.runCount) : '—']);
    }
  }
  say(table(['scheduler', 'tool', 'program', 'run_cnt', 'run_time ms', 'ns/run'], programRows));

  /** The median of each round's own ratio to another tool: the rounds run the tools back to back, so
   * a round's ratio carries less of the machine's drift than the ratio of the medians. */
  const roundRatio = (m: Measured, other: string): string => {
    const theirs = results.get(other)?.rounds ?? [];
    return median(m.rounds.map((r, k) => r.totalNs / (theirs[k]?.totalNs ?? Number.NaN)).filter(Number.isFinite)).toFixed(2);
  };
  say();
  say(`per I/O (run time / completions; the round whose total is the median of ${options.rounds}, its issue and completion sides), with the tracer process's own CPU:`);
  const rows: (string | number)[][] = [];
  for (const [key, m] of results) {
    const [tool, sched] = key.split('/') as [TracerKind, string];
    const c = costs.get(key)!;
    const bpftrace = costs.get(`bpftrace/${sched}`);
    const minimal = costs.get(`minimal/${sched}`);
    rows.push([
      sched,
      TRACER_LABELS[tool],
      c.completions,
      Math.round(c.issueNs),
      Math.round(c.completeNs),
      Math.round(c.totalNs),
      `${Math.round(Math.min(...m.rounds.map((r) => r.totalNs)))}–${Math.round(Math.max(...m.rounds.map((r) => r.totalNs)))}`,
      bpftrace ? `${(c.totalNs / bpftrace.totalNs).toFixed(2)} (${roundRatio(m, `bpftrace/${sched}`)})` : '—',
      minimal ? `${(c.totalNs / minimal.totalNs).toFixed(2)} (${roundRatio(m, `minimal/${sched}`)})` : '—',
      Math.round((m.fioIos / m.fioRuntimeMs) * 1000),
      ((m.userCpuMs / m.wallMs) * 1000).toFixed(1),
    ]);
  }
  say(table(['scheduler', 'tool', 'I/Os', 'issue ns', 'complete ns', 'total ns', 'rounds', '× bpftrace (rounds)', '× minimal (rounds)', 'fio IOPS', 'tracer CPU ms/s'], rows));
  say('(issue = block_io_start, block_rq_insert and block_rq_issue programs; complete = block_rq_complete; I/Os = completions traced during the fio runs, ramp included;');
  say(" × bpftrace, × minimal: the ratio of the medians, which the targets are judged by, and in brackets the median of each round's own ratio;");
  say(' the minimal tracer also attaches empty_probe, an empty program on block_rq_issue: the fixed cost of any program here, not in its sums)');

  const figures: Figure[] = [];
  for (const sched of schedulers) {
    const heat = costs.get(`bpfheat/${sched}`);
    const startMap = costs.get(`bpfheat-start-map/${sched}`);
    const completionOnly = costs.get(`bpfheat-no-exemplars/${sched}`);
    const trace = costs.get(`bpftrace/${sched}`);
    const floor = costs.get(`minimal/${sched}`);
    const label = sched === 'none' ? 'scheduler none' : sched;
    if (!heat) continue;
    figures.push(info(part, `bpfheat issue side per I/O (${label})`, heat.issueNs, 'ns'));
    figures.push(info(part, `bpfheat completion side per I/O (${label})`, heat.completeNs, 'ns'));
    figures.push(info(part, `bpfheat total per I/O (${label})`, heat.totalNs, 'ns'));
    if (startMap) figures.push(info(part, `bpfheat --start-map total per I/O (${label})`, startMap.totalNs, 'ns'));
    if (completionOnly) figures.push(info(part, `bpfheat --exemplars off total per I/O (${label})`, completionOnly.totalNs, 'ns'));
    if (trace) {
      figures.push(info(part, `bpftrace biolatency total per I/O (${label})`, trace.totalNs, 'ns'));
      figures.push(atMost(part, `bpfheat ÷ bpftrace (${label})`, heat.totalNs / trace.totalNs, '×', TARGET_BPFTRACE, `≤ ${TARGET_BPFTRACE}×`, 2));
      if (startMap) figures.push(info(part, `bpfheat --start-map ÷ bpftrace (${label})`, startMap.totalNs / trace.totalNs, '×', 2));
      if (completionOnly) figures.push(info(part, `bpfheat --exemplars off ÷ bpftrace (${label})`, completionOnly.totalNs / trace.totalNs, '×', 2));
    }
    if (floor) {
      figures.push(info(part, `minimal libbpf total per I/O (${label})`, floor.totalNs, 'ns'));
      figures.push(atMost(part, `bpfheat ÷ minimal (${label})`, heat.totalNs / floor.totalNs, '×', TARGET_FLOOR, `≤ ${TARGET_FLOOR}×`, 2));
    }
    const empty = results.get(`minimal/${sched}`)?.programs.find((p) => p.name === 'empty_probe');
    if (empty && empty.runCount > 0) figures.push(info(part, `an empty program per call, the floor of every figure (${label})`, empty.runTimeNs / empty.runCount, 'ns'));
  }
  return figures;
}

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const figures = await benchBpfCost({
      runtimeS: numberOption('runtime', 4),
      rounds: numberOption('rounds', 5),
      load: choiceOption('load', Object.keys(FIO_JOBS) as FioJob[], 'psync'),
      warmupS: numberOption('warmup', WARMUP_S),
    });
    heading('summary');
    printFigures(figures);
  });
}
