/**
 * Writes examples/demo.bpfheat.jsonl: two minutes of the seeded synthetic source at 1-s columns,
 * as `bpfheat --source synthetic --record` would record them, with a few exemplars per column
 * drawn from its slowest cells. Deterministic: the same file every run.
 *
 *   node --import tsx examples/make-demo.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { slotBounds } from '../shared/buckets.ts';
import type { Column } from '../shared/column.ts';
import type { Exemplar } from '../shared/exemplar.ts';
import { columnLine, devicesLine, endLine, exemplarLine, headerLine } from '../server/formats/recording.ts';
import { SYNTHETIC_DEVICES, syntheticColumn } from '../server/sources/synthetic.ts';

export const DEMO_FILE = fileURLToPath(new URL('./demo.bpfheat.jsonl', import.meta.url));
/** 2025-11-25 13:20:00 UTC */
export const DEMO_START_MS = Date.UTC(2025, 10, 25, 13, 20, 0);
export const DEMO_INTERVAL_MS = 1000;
export const DEMO_COLUMNS = 120;
const SEED = 1;
const COMMS = ['postgres', 'rsync', 'kworker/u8:2', 'java', 'jbd2/nvme0n1p2'];

/** A tiny deterministic hash, for exemplar details. */
function hash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

/** Up to three exemplars per column: one I/O from each of the slowest latency cells above 5 ms. */
function exemplarsOf(column: Column): Exemplar[] {
  const cells: { device: number; op: Column['series'][number]['op']; slot: number }[] = [];
  for (const s of column.series) {
    if (s.metric !== 'latency') continue;
    for (const slot of s.slots) if (slotBounds(slot).lower >= 5_000_000) cells.push({ device: s.device, op: s.op, slot });
  }
  cells.sort((a, b) => b.slot - a.slot);
  return cells.slice(0, 3).map((cell, k) => {
    const h = hash(column.seq, k);
    const { lower, upper } = slotBounds(cell.slot);
    const comm = COMMS[h % COMMS.length]!;
    return {
      timeMs: column.startMs + (h % 1_000_000) / 1000,
      latencyNs: lower + 1 + (h % Math.max(1, upper - lower)),
      bytes: 4096 * (1 + (h % 4)),
      device: cell.device,
      op: cell.op,
      sector: (h * 8) % 2 ** 31,
      pid: 1000 + (h % 30000),
      comm,
    };
  }).sort((a, b) => a.timeMs - b.timeMs);
}

export function demoRecording(): string {
  const lines = [
    headerLine({ intervalMs: DEMO_INTERVAL_MS, source: 'synthetic', host: 'demo-host', startedMs: DEMO_START_MS, devices: SYNTHETIC_DEVICES }),
    devicesLine(SYNTHETIC_DEVICES),
  ];
  const first = DEMO_START_MS / DEMO_INTERVAL_MS;
  for (let seq = first; seq < first + DEMO_COLUMNS; seq++) {
    const column = syntheticColumn(SEED, seq, DEMO_INTERVAL_MS);
    // as from the live source: a column's exemplars arrive before the column is final
    lines.push(...exemplarsOf(column).map(exemplarLine), columnLine(column));
  }
  lines.push(endLine(DEMO_START_MS + DEMO_COLUMNS * DEMO_INTERVAL_MS, DEMO_COLUMNS));
  return lines.join('');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(DEMO_FILE, demoRecording());
  process.stdout.write(`wrote ${DEMO_FILE}\n`);
}
