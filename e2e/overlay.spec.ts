/**
 * The overlay of a scrolling view (client/state/overlay.ts): a frame that only moved time
 * renders no React component (the time axis's ticks, the missing-data bands and the hover mark
 * are moved with the picture by a transform after each frame shown: client/views/timeLayer.ts); React renders when what it shows changes, or
 * on the side panels' four-a-second schedule. And wherever React last rendered them, the ticks,
 * the band and the hovered cell sit where the frame the picture shows puts them, and a brush
 * zooms to the region under it in that frame, not in the one React last rendered.
 */
import { expect, test, type Page } from '@playwright/test';
import { startServer, type RunningServer } from './server.ts';
import { timeMap, mapFrom } from '../shared/view.ts';
import { brush, openDashboard, plotBox, waitIdle } from './page.ts';

let server: RunningServer;

test.beforeAll(async () => {
  // a column every 40 ms: a live view moves with nearly every frame
  server = await startServer({ args: ['--interval', '40'] });
});

test.afterAll(async () => {
  await server.stop();
});

/** Drawn frames and React renders over `frames` animation frames of the page. */
async function rendersOver(page: Page, frames: number): Promise<{ drawn: number; renders: number }> {
  return page.evaluate(async (count) => {
    const hooks = window.__bpfheat!;
    const before = { drawn: hooks.framesDrawn, renders: hooks.reactRenders };
    for (let k = 0; k < count; k++) await new Promise(requestAnimationFrame);
    return { drawn: hooks.framesDrawn - before.drawn, renders: hooks.reactRenders - before.renders };
  }, frames);
}

interface Placement {
  /** the view shown starts at, and React's renders so far */
  readonly fromMs: number;
  readonly renders: number;
  /** each tick: where the browser shows it, and where the shown frame puts its time (page CSS px) */
  readonly ticks: { readonly atX: number; readonly wantX: number }[];
  /** the missing-data band: its right edge as shown, and where the shown frame puts the end of its run; its data-missing, and the run's */
  readonly band: { readonly atX: number; readonly wantX: number; readonly named: string | null; readonly run: readonly [number, number] } | null;
}

/** Where the overlay's parts are and where the frame the picture shows puts them, read in one task (no frame in between). */
async function placement(page: Page): Promise<Placement> {
  return page.evaluate(() => {
    const hooks = window.__bpfheat!;
    const frame = hooks.frame()!;
    const xOf = (ms: number): number => frame.plot.x + ((ms - frame.fromMs) * frame.plot.width) / (frame.toMs - frame.fromMs);
    const ticks = [...document.querySelectorAll<SVGGElement>('.heatmap-overlay .axis-x .time-ticks [data-ms]')].map((tick) => ({
      atX: tick.querySelector('line')!.getBoundingClientRect().left,
      wantX: xOf(Number(tick.dataset.ms)),
    }));
    const rect = document.querySelector<SVGRectElement>('.heatmap-overlay [data-missing]');
    const run = hooks.missing()[0];
    return {
      fromMs: frame.fromMs,
      renders: hooks.reactRenders,
      ticks,
      band: rect && run ? { atX: rect.getBoundingClientRect().right, wantX: xOf((run[1] + 1) * frame.intervalMs), named: rect.getAttribute('data-missing'), run } : null,
    };
  });
}

/** Every tick within 0.6 px of where the frame shown puts its time. */
function expectPlaced(at: Placement): void {
  expect(at.ticks.length).toBeGreaterThanOrEqual(3);
  for (const tick of at.ticks) expect(Math.abs(tick.atX - tick.wantX), `tick at ${tick.atX}, its time at ${tick.wantX}`).toBeLessThan(0.6);
}

test('a live view that only moves in time renders React at the panels’ pace, not with every frame drawn', async ({ page }) => {
  // half a minute across the plot: the view moves on with nearly every column (40 ms)
  await openDashboard(page, `${server.url}?span=30`);
  const { drawn, renders } = await rendersOver(page, 120);
  expect(drawn, 'frames drawn while the view scrolls').toBeGreaterThan(20);
  // each drawn frame rendered React before; now the side panels' 4/s (with their header) and a tick that came or went
  expect(renders, `${renders} React renders in ${drawn} drawn frames`).toBeLessThan(drawn / 2);
});

test('between React renders, the ticks, the missing-data band and the hovered cell sit where the picture shown puts them', async ({ page }) => {
  // A server of its own that keeps 2 s of columns: the page never gets what came before it
  // opened, less those 2 s, so a two-minute view begins with a band of no data for about
  // 118 s after the page opened, however long the server took to start or the page to load.
  const keeping = await startServer({ args: ['--interval', '40', '--history', '2s'] });
  try {
    await openDashboard(page, `${keeping.url}?span=120`);
    const openedMs = Date.now();
    const box = await plotBox(page);
    let moved = 0;
    let last = await placement(page);
    for (let sample = 0; sample < 100; sample++) {
      await page.evaluate(() => new Promise(requestAnimationFrame));
      const at = await placement(page);
      expectPlaced(at);
      expect(at.band, `a band of no data before the page opened (${(Date.now() - openedMs) / 1000} s ago)`).not.toBeNull();
      expect(Math.abs(at.band!.atX - at.band!.wantX), `band ends at ${at.band!.atX}, its run at ${at.band!.wantX}`).toBeLessThan(0.6);
      // cut by the view's left edge, whose seq moves with every column: named by the edge, not a seq of a past render
      expect(at.band!.named).toBe(`edge-${at.band!.run[1]}`);
      if (at.fromMs !== last.fromMs && at.renders === last.renders) moved++;
      last = at;
    }
    expect(moved, 'samples where the view moved and React rendered nothing').toBeGreaterThanOrEqual(3);

    // The pointer held still over the newest cells: the cell outlined is the one under it in the
    // picture shown, while it scrolls, read as soon as the frame is (its render is in the frame).
    const x = box.x + box.width * 0.97;
    const y = box.y + box.height * 0.5;
    await page.mouse.move(x, y);
    await expect(page.locator('.heatmap-overlay .hover-cell')).toBeVisible();
    for (let sample = 0; sample < 60; sample++) {
      const cell = await page.evaluate(async () => {
        await new Promise(requestAnimationFrame);
        const rect = document.querySelector('.heatmap-overlay .hover-cell')?.getBoundingClientRect();
        return rect ? { left: rect.left, right: rect.right } : null;
      });
      expect(cell, 'a cell outlined under the pointer').not.toBeNull();
      // the cell is the device pixel column under the pointer (or a group of them): no slack for a cell a frame old
      expect(cell!.left - 0.05, `outlined ${cell!.left}–${cell!.right}, pointer at ${x}`).toBeLessThanOrEqual(x);
      expect(cell!.right + 0.05, `outlined ${cell!.left}–${cell!.right}, pointer at ${x}`).toBeGreaterThan(x);
    }
  } finally {
    await keeping.stop();
  }
});

test('a view zoomed in to a span of a fractional number of milliseconds has its ticks where the picture shown puts them', async ({ page }) => {
  // a minute halved ten times: 58.59375 ms; placed by a whole-ms span (59), ticks two spans from where they are placed from sat ~1.4% of the plot off
  await openDashboard(page, `${server.url}?span=60`);
  const spanShown = (): Promise<number> => page.evaluate(() => window.__bpfheat!.frame()!.toMs - window.__bpfheat!.frame()!.fromMs);
  for (let press = 1; press <= 10; press++) {
    await page.locator('body').press('+');
    // a zoom is of the view drawn: the next press waits for this one's
    await expect.poll(spanShown).toBeCloseTo(60_000 / 2 ** press, 3);
  }
  await waitIdle(page);
  for (let sample = 0; sample < 30; sample++) {
    await page.evaluate(() => new Promise(requestAnimationFrame));
    expectPlaced(await placement(page));
  }
});

test('a brush over a scrolling view zooms to the region under it in the picture shown at the release', async ({ page }) => {
  // half a minute across the plot: the picture moves ~40 CSS px a second, ~10 px in the panels' quarter second
  await openDashboard(page, `${server.url}?span=30`);
  // the picture's view when the button is released, read in the release's own task (before the brush's handler)
  await page.evaluate(() => {
    const w = window as unknown as { __released?: { fromMs: number; toMs: number } };
    const keep = (): void => {
      const frame = window.__bpfheat!.frame()!;
      w.__released ??= { fromMs: frame.fromMs, toMs: frame.toMs };
    };
    window.addEventListener('pointerup', keep, { capture: true });
    window.addEventListener('mouseup', keep, { capture: true });
  });
  await brush(page, [0.3, 0.2], [0.6, 0.8]);
  const released = await page.evaluate(() => (window as unknown as { __released: { fromMs: number; toMs: number } }).__released);
  await waitIdle(page);
  const zoomed = await page.evaluate(() => window.__bpfheat!.frame()!);
  const box = await plotBox(page);
  const xMap = timeMap(released.fromMs, released.toMs, { x: 0, y: 0, width: box.width, height: box.height });
  const msPerPx = (released.toMs - released.fromMs) / box.width;
  expect(Math.abs(zoomed.fromMs - mapFrom(xMap, 0.3 * box.width)), "the zoom's start against the brush's left edge in the picture released over").toBeLessThanOrEqual(msPerPx);
  expect(Math.abs(zoomed.toMs - mapFrom(xMap, 0.6 * box.width))).toBeLessThanOrEqual(msPerPx);
});
