/**
 * --text and --jsonl: each column, filtered by --device/--op/--metric, printed as it arrives.
 * Stops after --duration or on SIGINT/SIGTERM, after the source has flushed its last column.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Config } from './config.ts';
import { UserError } from '../base/errors.ts';
import type { Source } from '../sources/source.ts';
import { bucketList, histogramOf, histogramTotal, type Column, type DeviceInfo, type DeviceOpCount } from '../../shared/column.ts';
import { METRIC_UNIT, SLOTS } from '../../shared/scheme.ts';
import { formatByProcess, formatHeading, formatSampleNote, formatTextHistogram, TEXT_UNITS } from './textHistogram.ts';
import { exemplarMatches, type Exemplar } from '../../shared/exemplar.ts';

/** Checks every --device name before tracing starts, so a typo is not an empty trace. */
function checkDeviceNames(config: Config, source: Source): void {
  for (const name of config.devices) {
    if (source.kind !== 'bpf') {
      if (!source.devices().some((d) => d.name === name)) {
        throw new UserError(`unknown device "${name}": this source has ${source.devices().map((d) => d.name).join(', ') || 'no devices'}`, 2);
      }
      continue;
    }
    if (!existsSync(`/sys/class/block/${name}/dev`)) {
      throw new UserError(`unknown device "${name}": it is not in /sys/class/block; list block devices with \`lsblk\``, 2);
    }
    if (existsSync(`/sys/class/block/${name}/partition`)) {
      const disk = readFileSync(`/sys/class/block/${name}/../dev`, 'utf8').trim();
      throw new UserError(`"${name}" is a partition, and bpfheat counts whole disks (${disk}): name the disk it belongs to (see \`lsblk\`)`, 2);
    }
  }
}

function histogramFor(column: Column, devices: readonly DeviceInfo[], config: Config): Float64Array | null {
  const ids = config.devices.length > 0 ? devices.filter((d) => config.devices.includes(d.name)).map((d) => d.id) : null;
  if (ids && ids.length === 0) return null; // the named devices have not done any I/O yet
  return histogramOf(column, { metric: config.metric, devices: ids, ops: config.ops });
}

/** The exemplars up to a column's end that pass the filters; the rest stay pending. */
function takeExemplars(pending: Exemplar[], column: Column, devices: readonly DeviceInfo[], config: Config): Exemplar[] {
  const endMs = column.startMs + column.intervalMs;
  const ids = config.devices.length > 0 ? devices.filter((d) => config.devices.includes(d.name)).map((d) => d.id) : null;
  const due = pending.filter((e) => e.timeMs < endMs);
  pending.splice(0, pending.length, ...pending.filter((e) => e.timeMs >= endMs));
  if (ids && ids.length === 0) return [];
  return due.filter((e) => exemplarMatches(e, { fromMs: -Infinity, toMs: Infinity, latMinNs: 0, latMaxNs: Infinity, devices: ids, ops: config.ops }));
}

/** The sum of a column's per-device, per-op counts (dropped exemplars, unseen completions) that the flags select. */
function countIn(counts: readonly DeviceOpCount[] | undefined, devices: readonly DeviceInfo[], config: Config): number {
  return (counts ?? [])
    .filter((d) => (config.devices.length === 0 || config.devices.includes(devices.find((x) => x.id === d.device)?.name ?? '')) && (config.ops.length === 0 || config.ops.includes(d.op)))
    .reduce((total, d) => total + d.count, 0);
}

function headingFor(column: Column, total: number, devices: readonly DeviceInfo[], config: Config): string {
  const everyDevice = config.devices.length === 0;
  const names = everyDevice ? devices.map((d) => d.name) : config.devices;
  return formatHeading({ startMs: column.startMs, intervalMs: column.intervalMs, devices: names, everyDevice, total });
}

export async function runTerminal(source: Source, config: Config): Promise<void> {
  if (config.byProcess && config.mode !== 'text') throw new UserError('--by-process prints histograms: use it with --text', 2);
  checkDeviceNames(config, source);
  const pending: Exemplar[] = [];
  const unit = config.metric === 'size' ? TEXT_UNITS.kbytes : config.milliseconds ? TEXT_UNITS.msecs : TEXT_UNITS.usecs;
  // A finite source (replay, import) ends the run when it has delivered everything.
  let finished = false;
  let onFinished: (() => void) | null = null;
  // A reader that stops reading (`| head`) ends the run as an interrupt does, quietly: for a
  // command whose output is piped that is the usual end, not an error. Any other failure to
  // write (a full disk) ends it too, said in one line, exit 1.
  let outputClosed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') {
      process.stderr.write(`bpfheat: cannot write the output (${error.message}): stopped\n`);
      process.exitCode = 1;
    }
    outputClosed = true;
    onFinished?.();
  });
  const write = (text: string) => {
    if (!outputClosed) process.stdout.write(text);
  };

  await source.start({
    column(column) {
      const histogram = histogramFor(column, source.devices(), config) ?? new Float64Array(SLOTS);
      if (config.mode === 'jsonl') {
        write(
          `${JSON.stringify({
            seq: column.seq,
            start_ms: column.startMs,
            interval_ms: column.intervalMs,
            source: source.kind,
            metric: config.metric,
            unit: METRIC_UNIT[config.metric],
            total: histogramTotal(histogram),
            buckets: bucketList(histogram),
            unseen: countIn(column.unseen, source.devices(), config),
          })}\n`,
        );
        return;
      }
      const total = histogramTotal(histogram);
      const unseen = countIn(column.unseen, source.devices(), config);
      const unseenNote = unseen > 0 ? `  (+${unseen} completed that the kernel counted but the tracer did not see)` : '';
      const heading = `${headingFor(column, total, source.devices(), config)}${unseenNote}`;
      if (config.byProcess) {
        const exemplars = takeExemplars(pending, column, source.devices(), config);
        const note = formatSampleNote(exemplars.length, total, countIn(column.droppedExemplars, source.devices(), config), source.kind === 'bpf');
        write(`\n${heading}\n${note}\n${formatByProcess(exemplars, config.metric, unit, config.buckets)}`);
      } else {
        write(`\n${heading}\n${formatTextHistogram(histogram, unit, config.buckets)}`);
      }
    },
    exemplars(batch) {
      if (config.byProcess) pending.push(...batch);
    },
    finished() {
      finished = true;
      onFinished?.();
    },
  });

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (timer) clearTimeout(timer);
      resolve();
    };
    const timer = config.durationS !== null ? setTimeout(stop, config.durationS * 1000) : null;
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (finished || outputClosed) stop();
    else onFinished = stop;
  });
  await source.stop();
}
