/** Columns, an exemplar and a recording in text, shared by the recording format's and the recorder's tests. */
import type { Column, DeviceInfo } from '../shared/column.ts';
import type { Exemplar } from '../shared/exemplar.ts';
import { SLOTS } from '../shared/scheme.ts';
import { columnLine, devicesLine, endLine, exemplarLine, headerLine } from '../server/formats/recording.ts';

export const DEVICES: DeviceInfo[] = [
  { id: 0, name: 'nvme0n1' },
  { id: 1, name: 'sda' },
];

export function column(seq: number, counts: Record<number, number> = { 130: 2, 140: 1 }, device = 0): Column {
  const slots = Object.keys(counts).map(Number).sort((a, b) => a - b);
  return {
    seq,
    startMs: seq * 1000,
    intervalMs: 1000,
    series: [
      { metric: 'latency', device, op: 'read', slots, counts: slots.map((s) => counts[s]!) },
      { metric: 'size', device, op: 'read', slots: [106], counts: [slots.reduce((t, s) => t + counts[s]!, 0)] },
    ],
  };
}

export const EXEMPLAR: Exemplar = { timeMs: 1_700_000_000_123.456, latencyNs: 25_000_123, bytes: 4096, device: 1, op: 'write', sector: 123456, pid: 4242, comm: 'postgres' };

export const HEADER = headerLine({ intervalMs: 1000, source: 'bpf', host: 'db1', startedMs: 1_700_000_000_000, devices: DEVICES.slice(0, 1) });

/** A recording of three columns, two exemplars and a device that appears half-way. */
export function sampleText(): string {
  return [
    HEADER,
    columnLine(column(1_700_000_000)),
    exemplarLine(EXEMPLAR),
    exemplarLine({ ...EXEMPLAR, latencyNs: 30_000_000, comm: 'rsync', sector: null }),
    devicesLine(DEVICES),
    columnLine({ ...column(1_700_000_001, { 150: 1 }, 1), droppedExemplars: [{ device: 1, op: 'write', count: 7 }, { device: 0, op: 'read', count: 2, slot: 160 }], unseen: [{ device: 0, op: 'read', count: 2 }] }),
    columnLine(column(1_700_000_002, { 0: 1, [SLOTS - 1]: 3 })),
    endLine(1_700_000_003_000, 3),
  ].join('');
}
