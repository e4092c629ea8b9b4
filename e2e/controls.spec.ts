/**
 * The smaller things a user meets: Space pauses whatever button has the focus, a link to a zoom
 * reopens as a zoom with Back, a metric change keeps Back, a linear y axis fits the data, the
 * legend says what a cell is, nothing is cut at the usual screen sizes, 900×700 is usable, and the
 * time range wraps on a narrow page.
 */
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { slotEdges } from '../shared/buckets.ts';
import { startServer, type RunningServer } from './server.ts';
import { axisDomains, brush, openDashboard, pause, plotBox, waitIdle } from './page.ts';

const DEMO = fileURLToPath(new URL('../examples/demo.bpfheat.jsonl', import.meta.url));

let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer();
});

test.afterAll(async () => {
  await server.stop();
});

const backButton = (page: import('@playwright/test').Page) => page.getByRole('button', { name: /Back/ });

test('Space pauses and resumes even with a toolbar button focused, without pressing it', async ({ page }) => {
  await openDashboard(page, server.url);
  const sixty = page.getByRole('button', { name: '60s' });
  await sixty.click();
  await expect(sixty).toBeFocused();
  await expect(backButton(page)).toBeEnabled();
  await page.keyboard.press(' ');
  await expect(page.getByRole('button', { name: /Resume/ })).toBeVisible();
  // the 60s button was not pressed again: one view on the stack, Back leads to the 5-min view
  await page.keyboard.press(' ');
  await expect(page.getByRole('button', { name: /Pause/ })).toBeVisible();
  await backButton(page).click();
  await waitIdle(page);
  const { x } = await axisDomains(page);
  expect(x[1] - x[0]).toBe(300_000);
  await expect(backButton(page)).toBeDisabled();
});

test('a reloaded zoom is a zoom: Back returns to the live view; a metric change keeps Back', async ({ page }) => {
  await openDashboard(page, server.url);
  await pause(page);
  await brush(page, [0.3, 0.1], [0.7, 0.8]);
  await waitIdle(page);
  const zoomed = await axisDomains(page);
  await page.goto(page.url());
  await page.waitForFunction(() => window.__bpfheat?.ready === true);
  await waitIdle(page);
  expect((await axisDomains(page)).x).toEqual(zoomed.x);
  const panel = page.getByRole('complementary', { name: 'Selection' });
  await expect(panel.getByRole('heading', { name: 'Zoomed region' })).toBeVisible();
  await expect(backButton(page)).toBeEnabled();

  // the metric refits y but keeps the time range, and Back
  await page.getByRole('combobox', { name: 'Metric' }).selectOption('size');
  await waitIdle(page);
  expect((await axisDomains(page)).x).toEqual(zoomed.x);
  await expect(backButton(page)).toBeEnabled();
  await backButton(page).click();
  await waitIdle(page);
  const live = await axisDomains(page);
  expect(live.x[1] - live.x[0]).toBe(300_000);
  await expect(panel.getByRole('heading', { name: 'Whole view' })).toBeVisible();
});

test('a linear y axis ends just above the largest value; the legend says what a cell is', async ({ page }) => {
  await openDashboard(page, server.url);
  await pause(page);
  await page.getByRole('combobox', { name: 'Y', exact: true }).selectOption('linear');
  await waitIdle(page);
  const top = await page.evaluate(() => Math.max(...window.__bpfheat!.columns().map((c) => c.slots.at(-1) ?? 0)));
  const { y } = await axisDomains(page);
  const highest = slotEdges(top).high;
  expect(y[0]).toBe(0);
  expect(y[1]).toBeGreaterThanOrEqual(highest);
  // the next round value above it: at most a third more, the widest gap of the 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 steps (8 / 6; 1-2-5 steps could double it)
  expect(y[1]).toBeLessThanOrEqual((highest * 4) / 3);
  const cell = page.locator('.heatmap-overlay .cell-size');
  await expect(cell).toHaveText('cell = 1 s × 9 % of latency');
  await page.getByRole('button', { name: '6h' }).click();
  await waitIdle(page);
  // a drawn cell is the columns (or roll-ups) summed into one pixel column or more
  const { groupSize, intervalMs } = (await page.evaluate(() => window.__bpfheat!.frame()))!;
  expect(groupSize * intervalMs).toBeGreaterThan(1000);
  await expect(cell).toHaveText(`cell = ${(groupSize * intervalMs) / 1000} s × 9 % of latency`);

  // and the legend per second: the same colours, labels divided by the seconds of a cell
  await pause(page);
  const labels = () => page.locator('.heatmap-overlay .legend > text').allTextContents();
  const unitOf = (label: string): number => ({ k: 1e3, M: 1e6, G: 1e9 })[label.slice(-1)] ?? 1;
  const number = (label: string): number => parseFloat(label) * unitOf(label);
  const perCell = await labels();
  // pausing fixes the view: its cells may differ from the moving view's
  const paused = (await page.evaluate(() => window.__bpfheat!.frame()))!;
  const cellSeconds = (paused.groupSize * paused.intervalMs) / 1000;
  const pixels = await page.evaluate(() => window.__bpfheat!.picture());
  // the box follows the model, which answers on the next frame: click, then wait for it to show
  const perSecondBox = page.getByRole('checkbox', { name: 'per second' });
  await perSecondBox.click();
  await expect(perSecondBox).toBeChecked();
  await waitIdle(page);
  const perSecond = await labels();
  expect(perCell[0]).toBe('I/Os per cell');
  expect(perSecond[0]).toBe('I/Os per second');
  // title, "clamped", then the five tick labels from the bottom of the bar: the sixth text is its top
  const barTop = (list: string[]): number => number(list[6]!);
  const expected = barTop(perCell) / cellSeconds;
  // each label is rounded (three significant digits): they may differ by half a unit of the last digit of each
  const halfUnit = (label: string): number => {
    const decimals = label.match(/\.(\d+)/)?.[1]?.length ?? 0;
    return 0.5 * 10 ** -decimals * unitOf(label);
  };
  expect(Math.abs(barTop(perSecond) - expected)).toBeLessThanOrEqual(halfUnit(perSecond[6]!) + halfUnit(perCell[6]!) / cellSeconds);
  expect(await page.evaluate(() => window.__bpfheat!.picture())).toBe(pixels);
  expect(page.url()).toContain('rate=1');
});

for (const size of [
  { width: 1400, height: 900 },
  { width: 1920, height: 1080 },
]) {
  test(`at ${size.width}×${size.height} the exemplar table and the legend title are whole`, async ({ page }) => {
    const replay = await startServer({ replay: DEMO, args: ['--speed', '0'] });
    try {
      await page.setViewportSize(size);
      await openDashboard(page, `${replay.url}?by=time`);
      const scroll = page.locator('.exemplar-scroll');
      await expect(scroll.locator('tbody tr').first()).toBeVisible();
      const widths = await scroll.evaluate((element) => ({ scroll: element.scrollWidth, client: element.clientWidth }));
      expect(widths.scroll, 'the table scrolls sideways: columns are cut').toBeLessThanOrEqual(widths.client);
      const title = await page.locator('.heatmap-overlay .legend > text').first().boundingBox();
      const overlay = await page.locator('.heatmap-overlay').boundingBox();
      expect(title!.x + title!.width).toBeLessThanOrEqual(overlay!.x + overlay!.width);
    } finally {
      await replay.stop();
    }
  });
}

test('at 900×700 the heat map keeps most of the width and a readable time axis', async ({ page }) => {
  await page.setViewportSize({ width: 900, height: 700 });
  await openDashboard(page, server.url);
  const plot = await plotBox(page);
  expect(plot.width).toBeGreaterThan(600);
  expect(plot.height).toBeGreaterThan(250);
  expect((await axisDomains(page)).xLabels.length).toBeGreaterThanOrEqual(4);
  // the selection panel is under it, reachable by scrolling
  await expect(page.getByRole('complementary', { name: 'Selection' })).toBeAttached();
});

test('on a page 280 px wide the time range wraps inside the page, its text whole over its box', async ({ page }) => {
  await page.setViewportSize({ width: 280, height: 700 });
  await openDashboard(page, server.url);
  await pause(page);
  const range = page.locator('.range .steady-text');
  const box = (await range.boundingBox())!;
  const text = (await range.locator('> span').boundingBox())!;
  expect(box.x + box.width, 'the range runs off the page').toBeLessThanOrEqual(280);
  expect(text).toEqual(box);
  // a line is at most ~1.2 font sizes high (line-height: normal)
  const fontPx = await range.evaluate((element) => parseFloat(getComputedStyle(element).fontSize));
  expect(box.height, 'the range is on more than one line').toBeGreaterThan(1.5 * fontPx);
});

test('split by device: one heat map per device on the same axes, each with its own cells', async ({ page }) => {
  await openDashboard(page, `${server.url}?split=1`);
  const canvases = page.locator('canvas.split-canvas');
  await expect(canvases).toHaveCount(2);
  await waitIdle(page);
  const bands = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLCanvasElement>('canvas.split-canvas')].map((canvas) => {
      const ctx = canvas.getContext('2d')!;
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const colours = new Set<string>();
      let coloured = 0;
      for (let k = 0; k < data.length; k += 4) {
        const colour = `${data[k]},${data[k + 1]},${data[k + 2]}`;
        colours.add(colour);
        if (colour !== '18,22,28') coloured++; // EMPTY_COLOR #12161c
      }
      return { name: canvas.dataset.device, coloured, colours: colours.size, width: canvas.width };
    }),
  );
  expect(bands.map((b) => b.name).sort()).toEqual(['synth-nvme0n1', 'synth-sda']);
  for (const band of bands) expect(band.coloured, `${band.name} has cells`).toBeGreaterThan(100);
  // the same time axis (same width) and the same value axis labels in every band
  expect(new Set(bands.map((b) => b.width)).size).toBe(1);
  const yLabels = await page.locator('.split-band').evaluateAll((groups) => groups.map((g) => [...g.querySelectorAll(':scope > g > text')].map((t) => t.textContent).join(',')));
  expect(yLabels).toHaveLength(2);
  expect(yLabels[0]).toBe(yLabels[1]);
  // the two pictures differ: a busy NVMe disk and a spinning one
  expect(bands[0]!.coloured).not.toBe(bands[1]!.coloured);
  await expect(page.locator('.heatmap-picture')).toBeHidden();
});
