/**
 * The live source: the kernel tracer, read one column at a time as each becomes final.
 * One timer, set for the moment the next column becomes readable.
 */
import type { ProgramStats, SelfStats } from '../../shared/protocol.ts';
import * as bpf from '../tracer/libbpf.ts';
import { readableAt } from '../tracer/clock.ts';
import { Tracer, type TracerCounters, type TracerMode } from '../tracer/tracer.ts';
import { adaptiveThreshold, RecentLatency } from '../tracer/exemplars.ts';
import type { ColumnSink, Source } from './source.ts';

export interface BpfSourceOptions {
  readonly intervalMs: number;
  /** turn on the kernel's BPF run-time statistics while tracing */
  readonly selfStats: boolean;
  /** exemplar latency threshold in ns; null follows the recent p99 */
  readonly thresholdNs: number | null;
  /** at most this many exemplars per second of each latency bucket; the rest are counted as dropped */
  readonly exemplarRate: number;
  readonly mode: TracerMode;
  /** say on stderr when the programs are attached (a script starts its load after it) and the counters when they stop: --text, --jsonl, --exporter, which have no page */
  readonly sayOnStderr: boolean;
}

/** The adaptive threshold follows the p99 of this many recent seconds. */
const ADAPTIVE_WINDOW_S = 60;

interface RunBaseline {
  readonly atMs: number;
  readonly runCount: number;
  readonly runTimeNs: number;
}

/** The one line said on stderr once the programs are attached, so a script can start its load after it. */
export function attachedLine(mode: TracerMode): string {
  const timing = mode.startMap ? 'issue times kept in a start map' : mode.issueStore ? 'issue times kept in the issue-side store' : "the kernel's issue time stamps";
  return `bpfheat: tracing attached (latency from issue to completion, by ${timing}; exemplars ${mode.exemplars ? 'on' : 'off'})\n`;
}

/**
 * The one line said on stderr when tracing stops (--text, --jsonl, --exporter): the tracer's counters over
 * every device, so that a script comparing totals with the kernel's can tell where any
 * difference went (unseen completions are also in their columns; the others are in none).
 */
export function stoppedLine(counters: TracerCounters): string {
  const { unseen, missedStart, startFailed, ringOverrun, partial, deviceOverflow, storeCollisions } = counters;
  const said = Object.entries({ unseen, missedStart, startFailed, ringOverrun, partial, deviceOverflow, storeCollisions }).map(([name, n]) => `${name} ${n}`);
  return `bpfheat: tracing stopped (counters over every device: ${said.join(', ')})\n`;
}

/** What is said once when a device turns out to carry no issue time stamp. timing: true when
 * the issue program that times such devices from the store is attached, else why it is not. */
export function unstampedLine(device: string, timing: true | string): string {
  const what = `bpfheat: ${device} puts no issue time stamp on its requests (its queue keeps no I/O statistics)`;
  if (timing === true) return `${what}: timed from the issue-side store from now on\n`;
  return `${what}: its completions are counted as missedStart (${timing}); run with --start-map to time them\n`;
}

/** Attaches the issue program for unstamped devices: true, or why it is not attached. */
export function timeUnstamped(tracer: Pick<Tracer, 'timeUnstampedDevices' | 'mode'>): true | string {
  try {
    if (tracer.timeUnstampedDevices()) return true;
    return tracer.mode.exemplars ? 'tracing has stopped' : 'exemplars are off';
  } catch (error) {
    if (error instanceof bpf.LibbpfError) return `the issue program that would time them could not be attached: ${error.message}`;
    throw error;
  }
}

/** One bad read must not end a long trace: say it once per failure and go on. */
function sayFailure(step: string, error: unknown): void {
  process.stderr.write(`bpfheat: ${step} failed: ${error instanceof Error ? error.message : String(error)}\n`);
}

export function createBpfSource(options: BpfSourceOptions): Source {
  const { mode } = options;
  const tracer = Tracer.open(options.intervalMs, mode);
  tracer.setExemplarCap(Math.ceil((options.exemplarRate * options.intervalMs) / 1000));
  let fixedThreshold = options.thresholdNs;
  if (fixedThreshold !== null && mode.exemplars) tracer.setExemplarThreshold(fixedThreshold);
  const unstampedSaid = new Set<string>();
  const recent = new RecentLatency(ADAPTIVE_WINDOW_S);
  const statsFd = options.selfStats ? bpf.enableRunTimeStats() : null;
  const baselines = new Map<string, RunBaseline>();
  let sink: ColumnSink | null = null;
  let next = tracer.firstColumn;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  function emit(column: bigint): void {
    const taken = tracer.takeColumn(column);
    const known = tracer.devices().length;
    const devices = tracer.devicesFor(taken.series);
    if (devices.length !== known) sink?.devices?.(devices);
    // the column is already taken from the kernel: an exemplar that fails must not lose it
    try {
      const exemplars = tracer.takeExemplars();
      if (exemplars.length > 0) sink?.exemplars?.(exemplars);
    } catch (error) {
      sayFailure('reading exemplars', error);
    }
    sink?.column(taken);
    for (const device of tracer.unstampedDevices()) {
      if (unstampedSaid.has(device)) continue;
      unstampedSaid.add(device);
      process.stderr.write(unstampedLine(device, timeUnstamped(tracer)));
    }
    if (!mode.exemplars) return;
    recent.add(taken);
    if (fixedThreshold === null) {
      const threshold = adaptiveThreshold(recent.histogram);
      if (threshold !== null) tracer.setExemplarThreshold(threshold);
    }
  }

  function readReady(): void {
    const now = process.hrtime.bigint();
    while (readableAt(tracer.clock, next) <= now) emit(next++);
  }

  function schedule(): void {
    const waitNs = readableAt(tracer.clock, next) - process.hrtime.bigint();
    timer = setTimeout(tick, Math.max(0, Number(waitNs / 1_000_000n)) + 1);
  }

  function tick(): void {
    try {
      readReady();
    } catch (error) {
      sayFailure('reading a column', error);
    }
    schedule();
  }

  /** Run-time statistics; [] where the kernel refuses the unprivileged query (before Linux 6.5, after root is given up). */
  function programStats(): ProgramStats[] {
    try {
      return readProgramStats();
    } catch {
      return [];
    }
  }

  function readProgramStats(): ProgramStats[] {
    const nowMs = Date.now();
    return tracer.programs.map(({ name, fd }) => {
      const { runCount, runTimeNs, recursionMisses } = bpf.programRunStats(fd);
      const base = baselines.get(name) ?? { atMs: nowMs, runCount, runTimeNs };
      baselines.set(name, base);
      const elapsedS = (nowMs - base.atMs) / 1000;
      return {
        name,
        runCount,
        runTimeNs,
        nsPerEvent: runCount > 0 ? runTimeNs / runCount : 0,
        eventsPerSecond: elapsedS > 0 ? (runCount - base.runCount) / elapsedS : 0,
        recursionMisses,
      };
    });
  }

  if (statsFd !== null) programStats();

  const exemplarControls: Pick<Source, 'exemplarCapture' | 'setExemplarThreshold'> = {
    exemplarCapture: () => ({ thresholdNs: fixedThreshold, perBucketPerSecond: options.exemplarRate }),
    setExemplarThreshold(ns) {
      fixedThreshold = ns;
      tracer.setExemplarThreshold(ns ?? adaptiveThreshold(recent.histogram) ?? Number.MAX_SAFE_INTEGER);
    },
  };

  return {
    kind: 'bpf',
    intervalMs: options.intervalMs,
    devices: () => tracer.devices(),
    async start(columnSink) {
      if (options.sayOnStderr) process.stderr.write(attachedLine(mode));
      sink = columnSink;
      schedule();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      tracer.detach();
      // the last, partial column too: nothing the kernel counted is lost
      const last = tracer.currentColumn();
      while (next <= last) emit(next++);
      if (options.sayOnStderr) process.stderr.write(stoppedLine(tracer.counters()));
      if (statsFd !== null) bpf.closeFd(statsFd);
      tracer.close();
    },
    ...(mode.exemplars ? exemplarControls : {}),
    selfStats(): SelfStats {
      return { programs: statsFd !== null ? programStats() : [], ...tracer.counters(), unstampedDevices: [...unstampedSaid] };
    },
  };
}

