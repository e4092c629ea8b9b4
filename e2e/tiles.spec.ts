/**
 * What the browser shows of the heat map's tiles (client/render/surface.ts: canvases in a ring,
 * moved by CSS transforms) after a live view has scrolled: a screenshot of the picture element
 * equals, pixel for pixel, the picture the page says it drew (the picture() hook, the tiles drawn
 * where the surface keeps them), at one and at two device pixels per CSS pixel, the columns at
 * the tiles' edges included. The page's clock is paused before looking (Playwright's clock:
 * no animation frame runs), so the screenshot and the hook see the same frame.
 * And the page's count of the heat map's pixels it paints (the benchmark's count of work while
 * scrolling, bench/client-draw.ts): a live view paints the columns that come in, not the plot; a
 * zoom paints a whole new picture, its parts painted over frames included.
 */
import { expect, test, type Page } from '@playwright/test';
import { startServer, type RunningServer } from './server.ts';
import { brush, openDashboard, waitIdle } from './page.ts';

let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer();
});

test.afterAll(async () => {
  await server.stop();
});

/** Columns the live view has moved by since `fromMs`, in device pixels of the picture. */
async function scrolledPx(page: Page, fromMs: number): Promise<number> {
  return page.evaluate((start) => {
    const frame = window.__bpfheat!.frame()!;
    const widthPx = Math.round(frame.plot.width * frame.dpr);
    return Math.round(((frame.fromMs - start) * widthPx) / (frame.toMs - frame.fromMs));
  }, fromMs);
}

for (const deviceScaleFactor of [1, 2]) {
  test.describe(`at ${deviceScaleFactor} device pixel${deviceScaleFactor > 1 ? 's' : ''} per CSS pixel`, () => {
    test.use({ deviceScaleFactor });

    test('the tiles of a scrolled live view show exactly the picture drawn, at the tile edges too', async ({ page }) => {
      await page.clock.install();
      // half a minute across ~730 CSS pixels: the view moves a CSS pixel every ~40 ms
      await openDashboard(page, `${server.url}?span=30`);
      const startMs = await page.evaluate(() => window.__bpfheat!.frame()!.fromMs);
      const framesAtStart = await page.evaluate(() => window.__bpfheat!.framesDrawn);
      // scrolled by most of a tile, over several frames
      await expect.poll(() => scrolledPx(page, startMs), { timeout: 30_000 }).toBeGreaterThan(200);
      expect(await page.evaluate(() => window.__bpfheat!.framesDrawn)).toBeGreaterThanOrEqual(framesAtStart + 3);
      await page.clock.pauseAt(await page.evaluate(() => Date.now() + 100));

      // the tiles' left edges where the browser places them, in the picture's device pixels
      const { edgesPx, dpr } = await page.evaluate(() => {
        const picture = document.querySelector('.heatmap-picture')!.getBoundingClientRect();
        const ratio = window.devicePixelRatio;
        const edges = [...document.querySelectorAll('.heatmap-picture .heatmap-tile')].map((tile) => Math.round((tile.getBoundingClientRect().left - picture.left) * ratio));
        return { edgesPx: edges, dpr: ratio };
      });
      expect(dpr).toBe(deviceScaleFactor);
      const widthPx = await page.evaluate(() => Math.round(window.__bpfheat!.frame()!.plot.width * window.devicePixelRatio));
      const inside = edgesPx.filter((x) => x > 0 && x < widthPx);
      expect(inside.length, `tile edges inside the picture: ${edgesPx.join(', ')}`).toBeGreaterThan(0);
      expect(inside.some((x) => x % 256 !== 0), `scrolled off the tile grid: ${edgesPx.join(', ')}`).toBe(true);

      // the overlay (axes, hover, marks) is hidden: only the tiles are in the screenshot, of the whole page in device pixels
      const shot = await page.screenshot({ style: '.heatmap-overlay { visibility: hidden; }' });
      const compared = await page.evaluate(
        async ({ png, edges }) => {
          const decode = async (url: string): Promise<ImageData> => {
            const image = await createImageBitmap(await (await fetch(url)).blob());
            const ctx = new OffscreenCanvas(image.width, image.height).getContext('2d')!;
            ctx.drawImage(image, 0, 0);
            return ctx.getImageData(0, 0, image.width, image.height);
          };
          const screen = await decode(`data:image/png;base64,${png}`);
          const drawn = await decode(window.__bpfheat!.picture());
          /** Pixels of these columns of the picture drawn that differ from the screen's, with the picture's left top at (x0, y0) on it. */
          const differing = (x0: number, y0: number, columns: readonly number[]): number => {
            let count = 0;
            for (const x of columns) {
              for (let y = 0; y < drawn.height; y++) {
                const d = (y * drawn.width + x) * 4;
                const s = ((y0 + y) * screen.width + x0 + x) * 4;
                if (screen.data[s] !== drawn.data[d] || screen.data[s + 1] !== drawn.data[d + 1] || screen.data[s + 2] !== drawn.data[d + 2]) count++;
              }
            }
            return count;
          };
          // The element may sit at a fraction of a device pixel (its top follows the text above it):
          // the browser shows its tiles at a whole device pixel next to it, below or above.
          const box = document.querySelector('.heatmap-picture')!.getBoundingClientRect();
          const ratio = window.devicePixelRatio;
          const all = Array.from({ length: drawn.width }, (_, x) => x);
          const candidates = [Math.floor, Math.ceil].flatMap((roundX) => [Math.floor, Math.ceil].map((roundY) => ({ x0: roundX(box.left * ratio), y0: roundY(box.top * ratio) })));
          const { x0, y0 } = candidates.reduce((best, at) => (differing(at.x0, at.y0, all) < differing(best.x0, best.y0, all) ? at : best));
          const edgeColumns = [...new Set(edges.flatMap((x) => [x - 1, x]).filter((x) => x >= 0 && x < drawn.width))];
          const colours = new Set<number>();
          for (let i = 0; i < drawn.data.length; i += 4) colours.add((drawn.data[i]! << 16) | (drawn.data[i + 1]! << 8) | drawn.data[i + 2]!);
          return {
            offByPx: [x0 - box.left * ratio, y0 - box.top * ratio].map(Math.abs),
            drawnSize: [drawn.width, drawn.height],
            edgeColumns: edgeColumns.length,
            differingAtEdges: differing(x0, y0, edgeColumns),
            differing: differing(x0, y0, all),
            colours: colours.size,
          };
        },
        { png: shot.toString('base64'), edges: inside },
      );
      expect(compared.drawnSize, 'the picture drawn, in device pixels').toEqual([widthPx, await page.evaluate(() => Math.round(window.__bpfheat!.frame()!.plot.height * window.devicePixelRatio))]);
      for (const off of compared.offByPx) expect(off, 'shown within a device pixel of the element').toBeLessThan(1);
      expect(compared.colours, 'a picture with cells of several colours, not a blank one').toBeGreaterThan(5);
      expect(compared.edgeColumns).toBe(2 * inside.length);
      expect(compared.differingAtEdges, 'pixels at the tile edges that differ from the picture drawn').toBe(0);
      expect(compared.differing, 'pixels that differ from the picture drawn').toBe(0);
    });
  });
}

/** The page's counts of what it painted, the newest column it holds, and the plot's size in device pixels. */
function painted(page: Page): Promise<{ px: number; wholePictures: number; newest: number; widthPx: number; heightPx: number }> {
  return page.evaluate(() => {
    const hooks = window.__bpfheat!;
    const frame = hooks.frame()!;
    return {
      px: hooks.paintedPxTotal,
      wholePictures: hooks.wholePictures,
      newest: hooks.seqs().at(-1) ?? 0,
      widthPx: Math.round(frame.plot.width * frame.dpr),
      heightPx: Math.round(frame.plot.height * frame.dpr),
    };
  });
}

test("the page counts the heat map's pixels it paints: the columns that come in while live, a whole picture after a zoom", async ({ page }) => {
  test.setTimeout(90_000);
  // half a minute across the plot: a column is some twenty device pixels wide
  await openDashboard(page, `${server.url}?span=30`);
  const before = await painted(page);
  const columns = 4;
  await expect.poll(async () => (await painted(page)).newest, { timeout: 30_000 }).toBeGreaterThanOrEqual(before.newest + columns);
  const after = await painted(page);
  const received = after.newest - before.newest;
  const plotPx = after.widthPx * after.heightPx;
  const scrolledPx = after.px - before.px;
  expect(scrolledPx, `${received} columns came in: each painted over the plot's height at least`).toBeGreaterThanOrEqual(received * after.heightPx);
  // a colour scale that moved repaints the picture whole (counted); one being painted when counting began may end in the interval
  const wholePx = (after.wholePictures - before.wholePictures + 1) * plotPx;
  expect(scrolledPx - wholePx, `${received} columns came in: what changed painted, not the plot ${received} times`).toBeLessThan((received * plotPx) / 4);

  await brush(page, [0.2, 0.1], [0.6, 0.9]);
  await waitIdle(page);
  const zoomed = await painted(page);
  expect(zoomed.wholePictures - after.wholePictures, 'the zoomed view is a new picture').toBeGreaterThanOrEqual(1);
  expect(zoomed.px - after.px, 'the zoomed picture painted whole, over however many frames').toBeGreaterThanOrEqual(zoomed.widthPx * zoomed.heightPx);
});
