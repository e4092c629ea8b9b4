/**
 * An exemplar: one outlier I/O, recorded by the kernel when its latency is above the
 * threshold, with the task that issued it (the task at completion is usually not it).
 */
import type { Op } from './scheme.ts';

export interface Exemplar {
  /** completion time, unix ms (fractional: microsecond resolution) */
  readonly timeMs: number;
  readonly latencyNs: number;
  readonly bytes: number;
  /** device id, an index into the devices table */
  readonly device: number;
  readonly op: Op;
  /** first sector (512 bytes) of the request; null when it addresses none (a flush) */
  readonly sector: number | null;
  /** the thread group id (the "process id") that issued the I/O, and its command name */
  readonly pid: number;
  readonly comm: string;
}

export interface ExemplarQuery {
  /** unix ms, inclusive */
  readonly fromMs: number;
  /** unix ms, exclusive */
  readonly toMs: number;
  /** latency range in ns, both inclusive */
  readonly latMinNs: number;
  readonly latMaxNs: number;
  readonly devices?: readonly number[] | null;
  readonly ops?: readonly Op[] | null;
}

export function exemplarMatches(exemplar: Exemplar, query: ExemplarQuery): boolean {
  return (
    exemplar.timeMs >= query.fromMs &&
    exemplar.timeMs < query.toMs &&
    exemplar.latencyNs >= query.latMinNs &&
    exemplar.latencyNs <= query.latMaxNs &&
    (!query.devices || query.devices.length === 0 || query.devices.includes(exemplar.device)) &&
    (!query.ops || query.ops.length === 0 || query.ops.includes(exemplar.op))
  );
}
