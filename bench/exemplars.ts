/**
 * What exemplar capture keeps at fio-class rates: fio (4 KiB random reads and writes, io_uring,
 * iodepth 8) on a loop device under the live BPF source with the defaults (adaptive threshold
 * at the recent p99, at most --exemplar-rate 200 per second of each latency bucket). Of the
 * device's I/Os at or above the threshold (captured plus counted as dropped), it prints the share
 * captured in all, in the slowest tenth and in the slowest hundredth of them, and the share a cap
 * of the same rate over the whole column (first come, first kept: bpfheat before the cap per
 * bucket) would have kept of the same I/Os. Then the user-space cost of reading one record: the
 * ring reader and the decoder (server/tracer/ring.ts, ExemplarRecords) over a full ring's worth of
 * records laid out as the kernel writes them, in a buffer: CPU time per record, no kernel.
 *
 *   node --import tsx bench/exemplars.ts [--runtime S] [--rate N]
 */
import { spawn } from 'node:child_process';
import { EXEMPLAR_BYTES, EXEMPLAR_RING_BYTES, SLOTS } from '../shared/scheme.ts';
import { slotOf } from '../shared/buckets.ts';
import type { Column } from '../shared/column.ts';
import type { Exemplar } from '../shared/exemplar.ts';
import { createBpfSource } from '../server/sources/bpf.ts';
import { DEFAULT_MODE } from '../server/tracer/tracer.ts';
import { makeClock } from '../server/tracer/clock.ts';
import { ExemplarRecords } from '../server/tracer/exemplars.ts';
import { recordSpan, RingReader, RINGBUF_HEADER_BYTES } from '../server/tracer/ring.ts';
import { isMain, onCleanup, runMain } from './lib/cleanup.ts';
import { heading, info, machineLine, median, numberOption, printFigures, say, table, type Figure } from './lib/report.ts';
import { kernelBenchProblem, loopDevice } from './lib/system.ts';

const PART = 'Exemplars kept';
const FIO_LOAD = ['--rw=randrw', '--bs=4k', '--direct=1', '--ioengine=io_uring', '--iodepth=8', '--time_based'] as const;

export interface ExemplarBenchOptions {
  readonly runtimeS: number;
  /** exemplars per second of each latency bucket (the --exemplar-rate) */
  readonly rate: number;
}

async function runLoad(path: string, runtimeS: number): Promise<void> {
  const child = spawn('fio', ['--name=exemplars', `--filename=${path}`, ...FIO_LOAD, `--runtime=${runtimeS}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const forget = onCleanup(`stop fio ${child.pid}`, () => void child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  await forget();
  if (code !== 0) throw new Error(`fio exited with ${code}: ${stderr.trim().slice(0, 400)}`);
}

/** Per latency slot: the device's I/Os at or above the threshold, and those captured. */
interface Tally {
  readonly above: Float64Array;
  readonly captured: Float64Array;
}

function tally(columns: readonly Column[], exemplars: readonly Exemplar[], device: number): Tally {
  const above = new Float64Array(SLOTS);
  const captured = new Float64Array(SLOTS);
  for (const e of exemplars) {
    if (e.device !== device) continue;
    above[slotOf(e.latencyNs)]! += 1;
    captured[slotOf(e.latencyNs)]! += 1;
  }
  for (const column of columns) for (const d of column.droppedExemplars ?? []) if (d.device === device && d.slot !== undefined) above[d.slot]! += d.count;
  return { above, captured };
}

/** The captured share of the slowest `fraction` of the I/Os above the threshold, by whole buckets from the top. */
function keptInTail({ above, captured }: Tally, fraction: number): { share: number; ios: number } {
  const total = above.reduce((a, b) => a + b, 0);
  let ios = 0;
  let kept = 0;
  for (let slot = SLOTS - 1; slot >= 0 && ios < fraction * total; slot--) {
    ios += above[slot]!;
    kept += captured[slot]!;
  }
  return { share: ios > 0 ? kept / ios : 0, ios };
}

/** CPU time per record to read and decode full rings of exemplar records from memory, the median of `rounds`. */
export function readerCpuPerRecord(rounds: number): { nsPerRecord: number; records: number } {
  const size = EXEMPLAR_RING_BYTES;
  const span = recordSpan(EXEMPLAR_BYTES);
  const data = new Uint8Array(2 * size);
  const view = new DataView(data.buffer);
  const comm = new TextEncoder().encode('postgres');
  for (let at = 0; at < size; at += span) {
    for (const copy of [0, size]) {
      view.setUint32(copy + at, EXEMPLAR_BYTES, true);
      view.setBigUint64(copy + at + RINGBUF_HEADER_BYTES + 8, BigInt(at + 1000), true);
      data.set(comm, copy + at + RINGBUF_HEADER_BYTES + 36);
    }
  }
  const memory = { consumer: new BigUint64Array(1), producer: new BigUint64Array(1), data, size };
  const reader = new RingReader(memory);
  const records = new ExemplarRecords(makeClock(1000, 0n, 0n), () => {});
  const perRecord: number[] = [];
  let read = 0;
  for (let round = 0; round < rounds; round++) {
    memory.producer[0] = memory.consumer[0]! + BigInt(size);
    const taken: Exemplar[] = [];
    const before = process.cpuUsage();
    reader.consume((d, offset, length) => records.add(taken, d, offset, length));
    const used = process.cpuUsage(before);
    perRecord.push(((used.user + used.system) * 1000) / taken.length);
    read = taken.length;
  }
  return { nsPerRecord: median(perRecord), records: read };
}

export async function benchExemplars(options: ExemplarBenchOptions): Promise<Figure[]> {
  heading('Exemplars kept at fio-class rates (adaptive threshold, cap per latency bucket)');
  say(`machine: ${machineLine()}`);
  const reading = readerCpuPerRecord(9);
  say(`reading the ring from memory: ${reading.nsPerRecord.toFixed(0)} ns of CPU per record (median of 9 full rings of ${reading.records} records, in a buffer)`);
  const readingFigure = info(PART, 'reading and decoding one exemplar record (user-space CPU, from memory)', reading.nsPerRecord, 'ns');
  const problem = kernelBenchProblem(['fio']);
  if (problem) {
    say(`skipped: ${problem}`);
    return [readingFigure, info(PART, 'captured ÷ at or above the threshold', null, '%')];
  }
  const device = loopDevice(256);
  const columns: Column[] = [];
  const exemplars: Exemplar[] = [];
  const source = createBpfSource({ intervalMs: 1000, selfStats: false, thresholdNs: null, exemplarRate: options.rate, mode: DEFAULT_MODE, sayOnStderr: false });
  await source.start({ column: (c) => void columns.push(c), exemplars: (batch) => void exemplars.push(...batch) });
  try {
    say(`load: fio ${FIO_LOAD.join(' ')} --runtime=${options.runtimeS} on ${device.path}; --exemplar-rate ${options.rate} (per bucket)`);
    await runLoad(device.path, options.runtimeS);
  } finally {
    await source.stop();
  }
  const id = source.devices().find((d) => d.name === device.name)?.id;
  if (id === undefined) throw new Error(`the tracer never saw ${device.name}`);
  const ios = columns.reduce((sum, c) => sum + c.series.filter((s) => s.metric === 'latency' && s.device === id).reduce((t, s) => t + s.counts.reduce((a, b) => a + b, 0), 0), 0);
  const counts = tally(columns, exemplars, id);
  const above = counts.above.reduce((a, b) => a + b, 0);
  const captured = counts.captured.reduce((a, b) => a + b, 0);
  // The same I/Os under one cap of the same rate per column, whichever bucket they fall in.
  const perColumn: number[] = columns.map((c) => {
    const endMs = c.startMs + c.intervalMs;
    const inColumn = exemplars.filter((e) => e.device === id && e.timeMs >= c.startMs && e.timeMs < endMs).length;
    const dropped = (c.droppedExemplars ?? []).filter((d) => d.device === id).reduce((t, d) => t + d.count, 0);
    return Math.min(options.rate, inColumn + dropped);
  });
  const wholeColumnCap = perColumn.reduce((a, b) => a + b, 0);
  const tenth = keptInTail(counts, 0.1);
  const hundredth = keptInTail(counts, 0.01);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  say(
    table(
      ['I/Os', 'at or above the threshold', 'captured', 'captured ÷ above', 'slowest 10 %', 'slowest 1 %', `a cap of ${options.rate}/s per column would keep`],
      [[ios, above, captured, pct(above > 0 ? captured / above : 0), pct(tenth.share), pct(hundredth.share), pct(above > 0 ? wholeColumnCap / above : 0)]],
    ),
  );
  return [
    readingFigure,
    info(PART, 'fio I/Os per second on the loop device', ios / options.runtimeS, 'IOPS'),
    info(PART, 'captured ÷ at or above the threshold', above > 0 ? (captured / above) * 100 : null, '%', 1),
    info(PART, 'captured in the slowest 1 % of those', hundredth.share * 100, '%', 1, `${hundredth.ios} I/Os`),
    info(PART, `a ${options.rate}/s cap per column (first come) would keep`, above > 0 ? (wholeColumnCap / above) * 100 : null, '%', 1),
  ];
}

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const figures = await benchExemplars({ runtimeS: numberOption('runtime', 20), rate: numberOption('rate', 200) });
    heading('summary');
    printFigures(figures);
  });
}
