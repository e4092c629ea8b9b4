/**
 * Levels of detail in the browser, against the real server: a day of one-second columns opens as
 * an overview of roll-ups whose cells are the sums of the one-second columns they cover; zooming
 * into two minutes of it shows those one-second cells, equal to /api/columns at a 1-s step.
 * And a message the page cannot decode is counted and skipped: the connection and the picture stay.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page, type WebSocketRoute } from '@playwright/test';
import type { Column } from '../shared/column.ts';
import { EMPTY_COLOR } from '../shared/view.ts';
import { columnLine, endLine, headerLine } from '../server/formats/recording.ts';
import { startServer, type RunningServer } from './server.ts';
import { brush, openDashboard, pause, waitIdle } from './page.ts';
import { animationFrames, firstDispatch, untilMarked, type ProfileTraceEvent } from '../bench/lib/frame-profile.ts';
import { DRAW_MARK, PANELS_MARK } from '../client/state/marks.ts';
import { CHUNK_ROLLUPS } from '../client/net/history.ts';

let server: RunningServer | null = null;
let dir: string | null = null;

test.afterEach(async () => {
  await server?.stop();
  server = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

const DAY_S = 86_400;

/**
 * A day of one-second columns whose counts change from second to second, as a recording: those
 * of the seconds [busy[0], busy[1]) of the day; the other seconds hold a single I/O each, in the
 * lowest or the highest slot of the busy ones (so the y axis fitted to either is the same).
 */
function dayRecording(first: number, busy: readonly [number, number] = [0, DAY_S]): string {
  dir = mkdtempSync(join(tmpdir(), 'bpfheat-levels-'));
  const lines = [headerLine({ intervalMs: 1000, source: 'bpf', host: 'levels-test', startedMs: first * 1000, devices: [{ id: 0, name: 'vda' }] })];
  for (let seq = first; seq < first + DAY_S; seq++) {
    if (seq < first + busy[0] || seq >= first + busy[1]) {
      lines.push(columnLine({ seq, startMs: seq * 1000, intervalMs: 1000, series: [{ metric: 'latency', device: 0, op: 'read', slots: [seq % 2 === 0 ? 80 : 124], counts: [1] }] }));
      continue;
    }
    const series: Column['series'][number][] = [{ metric: 'latency', device: 0, op: 'read', slots: [80 + (seq % 11), 120 + ((seq >> 4) % 5)], counts: [1 + (seq % 7), 1 + (seq % 3)] }];
    if (seq % 2 === 0) series.push({ metric: 'latency', device: 0, op: 'write', slots: [100], counts: [1 + (seq % 5)] });
    lines.push(columnLine({ seq, startMs: seq * 1000, intervalMs: 1000, series }));
  }
  lines.push(endLine((first + DAY_S) * 1000, DAY_S));
  const file = join(dir, 'day.bpfheat.jsonl');
  writeFileSync(file, lines.join(''));
  return file;
}

interface ApiColumns {
  step: number;
  columns: { seq: number; startMs: number; slots: number[]; counts: number[] }[];
}

async function apiColumns(query: string): Promise<ApiColumns> {
  const res = await fetch(`${server!.url}api/columns?${query}`);
  expect(res.status, query).toBe(200);
  return (await res.json()) as ApiColumns;
}

type Cells = Record<number, number>;

function cellsOf(column: { slots: number[]; counts: number[] }): Cells {
  const cells: Cells = {};
  column.slots.forEach((slot, k) => (cells[slot] = column.counts[k]!));
  return cells;
}

/** The whole view is drawn: nothing missing, nothing being fetched or waiting to be drawn. */
async function waitDrawnWhole(page: Page): Promise<void> {
  await page.waitForFunction(() => !window.__bpfheat!.fetching && window.__bpfheat!.missing().length === 0 && window.__bpfheat!.idle, null, { timeout: 30_000 });
}

/** Canvas colours at the centres of the drawn cells of these (seq, slot) pairs. */
async function cellColours(page: Page, cells: [number, number][]): Promise<string[]> {
  return page.evaluate((pairs) => {
    const hooks = window.__bpfheat!;
    const points = pairs.map(([seq, slot]) => {
      const r = hooks.cellRectPx(seq, slot)!;
      return { x: Math.floor((r.x0 + r.x1 - 1) / 2), y: Math.floor((r.y0 + r.y1 - 1) / 2) };
    });
    return hooks.pixels(points);
  }, cells);
}

/** A server replaying a day of one-second columns (dayRecording) that starts at `first`, the whole day in its history. */
async function serveDay(first: number, busy?: readonly [number, number]): Promise<void> {
  server = await startServer({ replay: dayRecording(first, busy), args: ['--speed', '0'] });
  await expect.poll(async () => ((await (await fetch(`${server!.url}api/meta`)).json()) as { history: { columns: number } }).history.columns, { timeout: 60_000 }).toBe(DAY_S);
}

/** A server replaying a day of one-second columns, and the page opened on that day, drawn whole. */
async function openDay(page: Page): Promise<void> {
  const first = Math.floor(Date.now() / 1000) - 2 * DAY_S;
  await serveDay(first);
  await openDashboard(page, `${server!.url}?from=${first * 1000}&to=${(first + DAY_S) * 1000}`);
  await waitDrawnWhole(page);
}

test('a day opens as roll-ups that sum the one-second columns; zooming into two minutes shows those one-second cells', async ({ page }) => {
  test.setTimeout(180_000);
  await openDay(page);

  // The overview: the whole day, drawn from a roll-up level.
  const overview = (await page.evaluate(() => ({ frame: window.__bpfheat!.frame()!, columns: window.__bpfheat!.columns() })))!;
  expect(overview.frame.toMs - overview.frame.fromMs).toBe(DAY_S * 1000);
  const step = overview.frame.intervalMs;
  expect(step, 'a roll-up step, not the 1-s columns').toBeGreaterThanOrEqual(60_000);
  expect(overview.columns.length).toBe(Math.ceil((DAY_S * 1000) / step) + (overview.frame.fromMs % step === 0 ? 0 : 1));
  // Every overview cell is the sum of the one-second columns it covers, as the server has them.
  const seconds = await apiColumns(`from=${overview.frame.fromMs}&to=${overview.frame.toMs}&step=1000`);
  expect(seconds.step).toBe(1000);
  expect(seconds.columns.length).toBe(DAY_S);
  const summed = new Map<number, Cells>();
  for (const second of seconds.columns) {
    const cells = summed.get(Math.floor(second.startMs / step)) ?? {};
    second.slots.forEach((slot, k) => (cells[slot] = (cells[slot] ?? 0) + second.counts[k]!));
    summed.set(Math.floor(second.startMs / step), cells);
  }
  for (const cell of overview.columns) expect(cellsOf(cell), `overview cell ${cell.seq}`).toEqual(summed.get(cell.seq));
  // ... and is painted: a sample of non-empty cells is not the empty colour
  const sample = overview.columns.filter((_, k) => k % 97 === 0).map((c): [number, number] => [c.seq, c.slots[0]!]);
  expect((await cellColours(page, sample)).filter((colour) => colour === EMPTY_COLOR)).toEqual([]);

  // Zoom in twice with the brush: to ~1/50 of the day, then to two minutes of that.
  await brush(page, [0.5, 0.1], [0.52, 0.9]);
  await waitDrawnWhole(page);
  const middle = (await page.evaluate(() => window.__bpfheat!.frame()!))!;
  const span = middle.toMs - middle.fromMs;
  const twoMinutes = 120_000 / span;
  await brush(page, [0.3, 0.05], [0.3 + twoMinutes, 0.95]);
  await waitDrawnWhole(page);
  const zoomed = (await page.evaluate(() => ({ frame: window.__bpfheat!.frame()!, columns: window.__bpfheat!.columns() })))!;
  expect(Math.abs(zoomed.frame.toMs - zoomed.frame.fromMs - 120_000), 'about two minutes').toBeLessThan(2000);
  expect(zoomed.frame.intervalMs, 'one-second cells').toBe(1000);
  // The one-second cells of the region are /api/columns at a 1-s step for that range.
  const region = await apiColumns(`from=${zoomed.frame.fromMs}&to=${zoomed.frame.toMs}&step=1000`);
  expect(zoomed.columns.map((c) => [c.seq, cellsOf(c)])).toEqual(region.columns.map((c) => [c.seq, cellsOf(c)]));
  expect(zoomed.columns.length).toBeGreaterThanOrEqual(120);
  // They were fetched for the zoom: two minutes of 12 h ago are not in the 15-min backfill.
  expect(zoomed.frame.fromMs).toBeLessThan(overview.frame.toMs - 3600_000);
  // Every drawn one-second cell inside the y range shows its colour.
  const visible = await page.evaluate(() => {
    const hooks = window.__bpfheat!;
    return hooks.columns().flatMap((c) => c.slots.filter((slot) => hooks.cellRectPx(c.seq, slot) !== null).map((slot): [number, number] => [c.seq, slot]));
  });
  expect(visible.length).toBeGreaterThan(120);
  expect((await cellColours(page, visible)).filter((colour) => colour === EMPTY_COLOR)).toEqual([]);
});

test("a live view's history, once drawn whole, is under the colour scale of its cells, not of the backfill's before it came", async ({ page }) => {
  test.setTimeout(180_000);
  // Busy for 40 minutes that end 20 minutes before the day does, an I/O a second around them: the
  // 15-min backfill alone has a scale of a few I/Os a cell; the busy 40 minutes are ~5% of the
  // 12-h view's time (its columns), enough to set the scale of its cells.
  // The day starts on a chunk of 10-s roll-ups (CHUNK_ROLLUPS): the view's are one answer, whose
  // newest slice, added last, holds the busy cells.
  const first = Math.floor((Date.now() / 1000 - 2 * DAY_S) / (CHUNK_ROLLUPS * 10)) * CHUNK_ROLLUPS * 10;
  await serveDay(first, [DAY_S - 3600, DAY_S - 1200]);
  // A live view of the day's last half (the recording has ended: no column comes to move it on).
  await openDashboard(page, `${server!.url}?span=${DAY_S / 2}`);
  await waitDrawnWhole(page);
  const live = (await page.evaluate(() => window.__bpfheat!.frame()!))!;
  expect(live.intervalMs, 'a roll-up step: the hours came as history, after the backfill').toBeGreaterThanOrEqual(10_000);
  // The same range paused is a fixed view, drawn under the exact scale of its cells.
  await pause(page);
  const fixed = (await page.evaluate(() => window.__bpfheat!.frame()!))!;
  expect([fixed.fromMs, fixed.toMs, fixed.intervalMs, fixed.groupSize]).toEqual([live.fromMs, live.toMs, live.intervalMs, live.groupSize]);
  // a quiet cell holds an I/O every other second of its roll-ups: a scale of those alone would be more than 10% off
  const quietCell = (live.intervalMs / 1000 / 2) * live.groupSize;
  expect(fixed.colorScale.max, 'the busy cells set the scale').toBeGreaterThan(1.1 * quietCell);
  // a moving view keeps a scale within 10% of its cells' (HeatmapRenderer.steadyScale)
  expect(Math.abs(live.colorScale.max - fixed.colorScale.max), `the live view's maximum ${live.colorScale.max} against the exact ${fixed.colorScale.max}`).toBeLessThanOrEqual(0.1 * fixed.colorScale.max);
});

test('a zoom that changes the level is drawn a few frames after the release, and the side panels follow it within a few frames, in a task of their own', async ({ page, browser }) => {
  test.setTimeout(180_000);
  await openDay(page);
  // Chromium's own record of the page's frames, with the marks the page makes when it paints the
  // heat map and when it gives the side panels a new frame (client/state/marks.ts)
  await browser.startTracing(page, { categories: ['devtools.timeline', 'blink.user_timing', 'disabled-by-default-devtools.timeline.frame'] });
  await brush(page, [0.5, 0.1], [0.52, 0.9]);
  await waitDrawnWhole(page);
  const trace = JSON.parse((await browser.stopTracing()).toString('utf8')) as { traceEvents: ProfileTraceEvent[] };
  const { thread, frames } = animationFrames(trace);
  const releasedAt = firstDispatch(trace, thread, ['mouseup', 'pointerup']);
  expect(releasedAt, 'the release is in the trace').not.toBeNull();
  const drawn = untilMarked(frames, releasedAt!, DRAW_MARK);
  expect(drawn, 'the zoomed view was painted').not.toBeNull();
  // one step of work a frame: installing, summing, taking cells, then the picture; a handful of frames, not dozens
  expect(drawn!.frames).toBeLessThanOrEqual(30);
  const after = frames.filter((f) => f.to >= releasedAt!);
  const drawnAt = drawn!.frames - 1;
  expect(after.slice(0, drawnAt + 1).filter((f) => f.marks.includes(PANELS_MARK)), 'no panels of a view not yet drawn').toEqual([]);
  // the panels' own task comes after the picture's frame, in one of the next few frames (one of
  // those may paint too, the finer level's columns starting the next picture, or only render React)
  const panelsAt = after.findIndex((f, k) => k > drawnAt && f.marks.includes(PANELS_MARK));
  const marks = JSON.stringify(after.slice(0, drawnAt + 6).map((f) => f.marks));
  expect(panelsAt - drawnAt, `frames after the picture until its panels; marks of the frames from the release: ${marks}`).toBeGreaterThan(0);
  expect(panelsAt - drawnAt, `frames after the picture until its panels; marks of the frames from the release: ${marks}`).toBeLessThanOrEqual(3);
  // and its picture is the zoomed one: about 1/50 of the day
  const zoomed = (await page.evaluate(() => window.__bpfheat!.frame()!))!;
  expect(zoomed.toMs - zoomed.fromMs).toBeLessThan(DAY_S * 1000 * 0.05);
});

test('a message the page cannot decode is counted and skipped; the connection and the picture stay', async ({ page }) => {
  test.setTimeout(90_000);
  server = await startServer();
  let route: WebSocketRoute | null = null;
  let connections = 0;
  await page.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    route = ws;
    connections++;
    ws.connectToServer(); // everything else passes through unchanged
  });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await openDashboard(page, server.url);
  await expect(page.locator('[data-status="live"]')).toBeVisible();
  const before = await page.evaluate(() => ({ newest: window.__bpfheat!.seqs().at(-1)!, frames: window.__bpfheat!.framesDrawn }));

  route!.send('this is not JSON');
  route!.send(JSON.stringify({ type: 'column', c: [1, 2] }));
  route!.send(Buffer.from([0, 1, 2, 3]));
  await expect(page.locator('.skipped')).toHaveText('3 unreadable messages skipped');
  await expect(page.locator('.skipped')).toHaveAttribute('title', /binary message/);
  expect(errors.filter((e) => e.includes('skipped a message from the server'))).toHaveLength(3);

  // Still the same connection, still live: new columns keep arriving and being drawn.
  await page.waitForFunction((seq) => (window.__bpfheat!.seqs().at(-1) ?? 0) >= seq + 3, before.newest, { timeout: 20_000 });
  await waitIdle(page);
  const after = await page.evaluate(() => ({ frames: window.__bpfheat!.framesDrawn, connection: window.__bpfheat!.connection, skipped: window.__bpfheat!.skippedMessages }));
  expect(after.frames).toBeGreaterThan(before.frames);
  expect(after.connection).toBe('live');
  expect(after.skipped).toBe(3);
  expect(connections, 'no reconnect').toBe(1);
  await expect(page.locator('[data-status="live"]')).toHaveText('live');
  expect(await page.evaluate(() => window.__bpfheat!.ready)).toBe(true);
});

test('a page opened with ?step= takes the backfill as one binary message of roll-ups, not as an unreadable one', async ({ page }) => {
  test.setTimeout(90_000);
  server = await startServer();
  // at least two 10-s roll-ups held
  await expect.poll(async () => ((await (await fetch(`${server!.url}api/meta`)).json()) as { history: { columns: number } }).history.columns, { timeout: 60_000 }).toBeGreaterThanOrEqual(25);
  const urls: string[] = [];
  const binary: number[] = [];
  await page.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    urls.push(ws.url());
    const upstream = ws.connectToServer();
    upstream.onMessage((message) => {
      if (typeof message !== 'string') binary.push(message.length);
      ws.send(message);
    });
  });
  await openDashboard(page, `${server.url}?step=10000`);
  expect(urls).toHaveLength(1);
  expect(new URL(urls[0]!).searchParams.get('step')).toBe('10000');
  expect(binary, 'the backfill came as one packed message').toHaveLength(1);
  // The columns the roll-ups stand for are fetched from the history: the page holds every one the server had.
  const oldest = ((await (await fetch(`${server.url}api/meta`)).json()) as { history: { oldestSeq: number } }).history.oldestSeq;
  await page.waitForFunction((first) => {
    const seqs = window.__bpfheat!.seqs();
    return seqs[0] === first && seqs.every((seq, k) => seq === first + k);
  }, oldest, { timeout: 30_000 });
  const after = await page.evaluate(() => ({ skipped: window.__bpfheat!.skippedMessages, connection: window.__bpfheat!.connection }));
  expect(after).toEqual({ skipped: 0, connection: 'live' });
});
