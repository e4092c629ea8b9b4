/**
 * The columns the tracer hands out hold exactly what the kernel's maps hold: each column is
 * compared with its counters read one by one through bpf_map_lookup_elem (not the mmap the
 * tracer reads), summed over every per-CPU slice, and the loop device's total with the requests sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLUMN_CELLS, MAX_DEVICES, METRICS, OPS, SLOTS } from '../shared/scheme.ts';
import type { Column } from '../shared/column.ts';
import type { Op } from '../shared/scheme.ts';
import { lookupElem } from '../server/tracer/libbpf.ts';
import { readableAt } from '../server/tracer/clock.ts';
import { Tracer } from '../server/tracer/tracer.ts';
import { createLoopDevice, directIo, kernelSkipReason, unseenAllowed, unseenIn, type LoopDevice } from './kernel.ts';

const skip = kernelSkipReason();

/** Totals per "metric/device/op" of one ring slot, every per-CPU slice, read cell by cell through the syscall. */
function totalsFromMap(tracer: Tracer, column: bigint): Map<string, number> {
  const totals = new Map<string, number>();
  for (const first of tracer.columnCells(column)) addSlice(tracer.cellsFd, first, totals);
  return totals;
}

function addSlice(fd: number, first: number, totals: Map<string, number>): void {
  const key = new Uint8Array(4);
  const value = new Uint8Array(8);
  const keyView = new DataView(key.buffer);
  const valueView = new DataView(value.buffer);
  for (let cell = 0; cell < COLUMN_CELLS; cell++) {
    keyView.setUint32(0, first + cell, true);
    expect(lookupElem(fd, key, value)).toBe(true);
    const count = Number(valueView.getBigUint64(0, true));
    if (count === 0) continue;
    const series = Math.floor(cell / SLOTS);
    const name = `${METRICS[Math.floor(series / (MAX_DEVICES * OPS.length))]}/${Math.floor(series / OPS.length) % MAX_DEVICES}/${OPS[series % OPS.length]}`;
    totals.set(name, (totals.get(name) ?? 0) + count);
  }
}

function totalsFromColumn(column: Column): Map<string, number> {
  const totals = new Map<string, number>();
  for (const s of column.series) {
    expect(s.counts.every((count) => count > 0)).toBe(true);
    totals.set(`${s.metric}/${s.device}/${s.op}`, s.counts.reduce((a, b) => a + b, 0));
  }
  return totals;
}

describe.skipIf(skip !== null)(`columns against the kernel maps${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let tracer: Tracer;
  const fromMap: Map<string, number>[] = [];
  const columns: Column[] = [];
  let leftInLastSlot: Map<string, number>;

  beforeAll(async () => {
    loop = createLoopDevice();
    // nothing reads columns while dd runs: 1-s columns give the ring (8 columns) room for a slow machine
    tracer = Tracer.open(1000);
    directIo(loop, 'write', 300);
    directIo(loop, 'read', 200);
    const last = tracer.currentColumn();
    while (readableAt(tracer.clock, last) > process.hrtime.bigint()) await new Promise((r) => setTimeout(r, 20));
    for (let column = tracer.firstColumn; column <= last; column++) {
      fromMap.push(totalsFromMap(tracer, column));
      columns.push(tracer.takeColumn(column));
    }
    // the slot's next column is RING_COLUMNS intervals away, so nothing can have refilled it yet
    leftInLastSlot = totalsFromMap(tracer, last);
  }, 120_000);

  afterAll(() => {
    tracer?.close();
    loop?.remove();
  });

  it('overran no column while the test was not reading', () => {
    expect(tracer.counters().ringOverrun).toBe(0);
  });

  it('hands out each column exactly as the map holds it', () => {
    expect(columns.length).toBeGreaterThan(0);
    columns.forEach((column, k) => expect(totalsFromColumn(column)).toEqual(fromMap[k]));
  });

  // a completion the kernel accounted while no program saw it is in `unseen`
  it('names the loop device and counts every request sent to it, in a bucket or as unseen', () => {
    const device = tracer.devicesFor(columns.flatMap((c) => c.series)).find((d) => d.name === loop.name);
    expect(device).toBeDefined();
    const unseen = (op: Op) => unseenIn(columns, device!.id, op);
    const count = (metric: string, op: Op) =>
      columns.flatMap((c) => c.series).filter((s) => s.metric === metric && s.device === device!.id && s.op === op).reduce((t, s) => t + s.counts.reduce((a, b) => a + b, 0), 0) +
      unseen(op);
    const said = JSON.stringify(tracer.counters());
    expect(count('latency', 'write'), said).toBe(300);
    expect(count('latency', 'read'), said).toBe(200);
    expect(count('size', 'write'), said).toBe(300);
    expect(unseen('read') + unseen('write'), said).toBeLessThan(unseenAllowed(500));
  });

  it('zeroes a column once taken', () => {
    expect(leftInLastSlot.size).toBe(0);
  });
});
