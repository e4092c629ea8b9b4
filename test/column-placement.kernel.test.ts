/**
 * Each completion lands in the column of the time it completed: bursts of direct writes on the
 * test's own loop device, each started early in a known 250 ms column after an idle gap of one
 * to five columns, and each column's count compared with the burst the wall clock put in it.
 * A burst that ran over its column's end (a stalled machine) is counted over the columns it spans
 * instead. bpf/bpfheat.h's bpfheat_column keeps the last column seen and divides only when a
 * completion falls outside it: this catches the kept column's path putting completions one column
 * off (checked by breaking it). The dividing path runs for the first completion of a column on the
 * whole machine, usually another device's, so its exactness is shown on the host instead
 * (test/bpf-header.test.ts, against columnAt).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopDevice, directIo, kernelSkipReason, type LoopDevice } from './kernel.ts';
import { jsonl, startBpfheat, type JsonColumn } from './cli.ts';

const skip = kernelSkipReason();
const INTERVAL_MS = 250;
/** the tracer's column clock is fixed from the wall clock at its start to within a millisecond */
const MARGIN_MS = 3;
const BURSTS: readonly { writes: number; idleColumns: number }[] = [
  { writes: 7, idleColumns: 1 },
  { writes: 13, idleColumns: 3 },
  { writes: 21, idleColumns: 2 },
  { writes: 34, idleColumns: 5 },
  { writes: 5, idleColumns: 1 },
  { writes: 17, idleColumns: 4 },
];

interface Burst {
  readonly writes: number;
  /** the columns its first and last write may have completed in, by the wall clock around it */
  readonly firstColumn: number;
  readonly lastColumn: number;
}

const columnOf = (ms: number): number => Math.floor(ms / INTERVAL_MS);

/** Resolves early in the column that starts `columns` columns after the current one's. */
function startOfColumnAfter(columns: number): Promise<void> {
  const target = (columnOf(Date.now()) + columns) * INTERVAL_MS + 20;
  return new Promise((resolve) => setTimeout(resolve, target - Date.now()));
}

describe.skipIf(skip !== null)(`completions in their columns${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let columns: JsonColumn[];
  const bursts: Burst[] = [];

  beforeAll(async () => {
    loop = createLoopDevice();
    const tracer = startBpfheat(['--jsonl', '--device', loop.name, '--op', 'write', '--interval', String(INTERVAL_MS)]);
    try {
      await tracer.attached;
      for (const { writes, idleColumns } of BURSTS) {
        await startOfColumnAfter(idleColumns + 1);
        const before = Date.now();
        directIo(loop, 'write', writes);
        const after = Date.now();
        bursts.push({ writes, firstColumn: columnOf(before - MARGIN_MS), lastColumn: columnOf(after + MARGIN_MS) });
      }
      await startOfColumnAfter(1);
    } finally {
      columns = jsonl(await tracer.stop());
    }
  }, 60_000);

  afterAll(() => loop?.remove());

  it('counts each burst in the column it ran in, and nothing in the idle columns between', () => {
    const counted = (seq: number): number => {
      const column = columns.find((c) => c.seq === seq);
      return column ? column.total + column.unseen : 0;
    };
    const span = (b: Burst): number[] => Array.from({ length: b.lastColumn - b.firstColumn + 1 }, (_, k) => b.firstColumn + k);
    const within = bursts.filter((b) => b.firstColumn === b.lastColumn);
    expect(within.length, 'bursts that stayed within one column').toBeGreaterThanOrEqual(BURSTS.length - 2);
    expect(within.map((b) => ({ seq: b.firstColumn, count: counted(b.firstColumn) }))).toEqual(within.map((b) => ({ seq: b.firstColumn, count: b.writes })));
    for (const burst of bursts) expect(span(burst).reduce((n, seq) => n + counted(seq), 0)).toBe(burst.writes);
    const busy = new Set(bursts.flatMap(span));
    const idle = columns.filter((c) => !busy.has(c.seq));
    expect(idle.length).toBeGreaterThanOrEqual(BURSTS.reduce((n, b) => n + b.idleColumns, 0));
    expect(idle.filter((c) => c.total + c.unseen !== 0)).toEqual([]);
  });
});
