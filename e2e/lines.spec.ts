/**
 * Percentile lines stay lines at long windows: at 15 minutes and 6 hours, where a drawn cell is
 * about a pixel wide and the max jumps from column to column, the cells between the lines are
 * still visible in their own colours. The data is what the issue saw (fio's steady random I/O,
 * a few slower ones, and now and then large synchronous writes), written as a recording
 * and replayed whole (the page opens fitted to a finished recording), so each window is exactly
 * the one tested.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { columnLine, devicesLine, endLine, headerLine } from '../server/formats/recording.ts';
import { slotOf } from '../shared/buckets.ts';
import type { Column } from '../shared/column.ts';
import { LEVEL_COLORS, PERCENTILE_COLORS } from '../shared/view.ts';
import { startServer, type RunningServer } from './server.ts';
import { openDashboard } from './page.ts';

const START_MS = Date.UTC(2025, 10, 25, 6, 0, 0);

let dir: string | null = null;
let server: RunningServer | null = null;

test.afterEach(async () => {
  await server?.stop();
  server = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

/** A small deterministic hash: the same picture every run. */
function hash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

const BULK = slotOf(100_000);
const MIDDLE = [slotOf(1_000_000), slotOf(20_000_000)] as const;
const TAIL = slotOf(150_000_000);

/**
 * A column: thousands of ~100 µs reads, three stray I/Os of 1–20 ms, and in one column of five
 * two writes of ~150 ms: a drawn cell (one to a few columns summed) has its max now in the tail,
 * now among the strays.
 */
function column(seq: number, intervalMs: number): Column {
  const counts = new Map<number, number>();
  for (let d = -5; d <= 5; d++) counts.set(BULK + d, Math.round(2000 * Math.exp(-(d * d) / 8)));
  for (let k = 0; k < 3; k++) {
    const slot = MIDDLE[0] + (hash(seq, k) % (MIDDLE[1] - MIDDLE[0]));
    counts.set(slot, (counts.get(slot) ?? 0) + 1);
  }
  if (hash(seq, 99) % 5 === 0) counts.set(TAIL, 2);
  const slots = [...counts.keys()].sort((a, b) => a - b);
  return { seq, startMs: seq * intervalMs, intervalMs, series: [{ metric: 'latency', device: 0, op: 'read', slots, counts: slots.map((slot) => counts.get(slot)!) }] };
}

function writeRecording(spanMs: number, intervalMs: number): string {
  dir = mkdtempSync(join(tmpdir(), 'bpfheat-lines-'));
  const file = join(dir, 'window.bpfheat.jsonl');
  const first = START_MS / intervalMs;
  const count = spanMs / intervalMs;
  const devices = [{ id: 0, name: 'loop3' }];
  const lines = [headerLine({ intervalMs, source: 'bpf', host: 'lines-test', startedMs: START_MS, devices }), devicesLine(devices)];
  for (let seq = first; seq < first + count; seq++) lines.push(columnLine(column(seq, intervalMs)));
  lines.push(endLine(START_MS + spanMs, count));
  writeFileSync(file, lines.join(''));
  return file;
}

interface BandCount {
  /** non-empty cells whose row lies strictly between the two lines over their column */
  cells: number;
  /** of those, how many show a heat-map colour at their centre (not a line's colour) */
  coloured: number;
}

/** Samples the centre pixel of every non-empty drawn cell strictly between p50 and p99, and between p99 and max. */
async function cellsBetweenLines(page: Page): Promise<{ lower: BandCount; upper: BandCount; groupSize: number; lineSegments: number }> {
  return page.evaluate((heat) => {
    const hooks = window.__bpfheat!;
    const palette = new Set(heat);
    const lower = { cells: 0, coloured: 0 };
    const upper = { cells: 0, coloured: 0 };
    const seen = new Set<string>();
    let segments = 0;
    for (const column of hooks.columns()) {
      const p50 = hooks.lineCenterPx(column.seq, 'p50');
      const p99 = hooks.lineCenterPx(column.seq, 'p99');
      const max = hooks.lineCenterPx(column.seq, 'max');
      if (!p50 || !p99 || !max) continue;
      segments++;
      for (const slot of column.slots) {
        const band = slot > p50.slot && slot < p99.slot ? lower : slot > p99.slot && slot < max.slot ? upper : null;
        const rect = hooks.cellRectPx(column.seq, slot);
        if (!band || !rect) continue;
        const key = `${rect.x0},${rect.y0}`;
        if (seen.has(key)) continue; // columns summed into one drawn cell
        seen.add(key);
        band.cells++;
        const [colour] = hooks.pixels([{ x: rect.x0, y: Math.floor((rect.y0 + rect.y1) / 2) }]);
        if (palette.has(colour!)) band.coloured++;
      }
    }
    return { lower, upper, groupSize: hooks.frame()!.groupSize, lineSegments: segments };
  }, [...LEVEL_COLORS]);
}

for (const { name, spanMs, intervalMs } of [
  { name: '15-minute', spanMs: 15 * 60_000, intervalMs: 1000 },
  { name: '6-hour', spanMs: 6 * 3_600_000, intervalMs: 10_000 },
]) {
  test(`a ${name} window with the lines on shows the cells between them in their colours`, async ({ page }) => {
    test.setTimeout(120_000);
    server = await startServer({ replay: writeRecording(spanMs, intervalMs), args: ['--speed', '0'] });
    await openDashboard(page, server.url);
    await expect(page.getByRole('status')).toHaveText('end of recording');
    const frame = (await page.evaluate(() => window.__bpfheat!.frame()))!;
    expect(frame.toMs - frame.fromMs).toBe(spanMs);
    // every column of the recording fetched and drawn
    await expect.poll(() => page.evaluate(() => window.__bpfheat!.missing().length), { timeout: 60_000 }).toBe(0);
    await page.waitForFunction(() => window.__bpfheat!.idle);
    // the lines are drawn at all
    const drawn = await page.evaluate(() => {
      const hooks = window.__bpfheat!;
      const column = hooks.columns().find((c) => c.slots.length > 3)!;
      const line = hooks.lineCenterPx(column.seq, 'p50')!;
      return hooks.pixels([line])[0];
    });
    expect(drawn).toBe(PERCENTILE_COLORS.p50);

    const { lower, upper, lineSegments } = await cellsBetweenLines(page);
    expect(lineSegments).toBeGreaterThan(500);
    expect(lower.cells, 'cells between p50 and p99').toBeGreaterThan(1000);
    expect(upper.cells, 'cells between p99 and max').toBeGreaterThan(2000);
    // A line drawn per drawn cell zigzags between the strays and the tail and hides 7–8 % of
    // the cells between p99 and max (measured before the lines were drawn in pieces); a thin
    // connector may still cross one now and then.
    expect(lower.coloured / lower.cells).toBeGreaterThan(0.97);
    expect(upper.coloured / upper.cells).toBeGreaterThan(0.97);
  });
}
