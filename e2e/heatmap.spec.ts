import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { CLAMPED_COLOR, EMPTY_COLOR, PERCENTILE_COLORS, formatCount, mapFrom, slotsIn, valueMap, timeMap } from '../shared/view.ts';
import { startServer, type RunningServer } from './server.ts';
import { axisDomains, brush, openDashboard, pause, plotBox, waitIdle } from './page.ts';

let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer();
});

test.afterAll(async () => {
  await server.stop();
});

test('the page paints: coloured pixels where the store has counts, none where it has none', async ({ page }) => {
  await openDashboard(page, `${server.url}?lines=0`);
  await pause(page);
  // Geometry, counts and pixels are read in one task, so no frame can come in between.
  const samples = await page.evaluate(() => {
    const hooks = window.__bpfheat!;
    const filled: string[] = [];
    const empty: string[] = [];
    const points: { x: number; y: number; filled: boolean }[] = [];
    for (const column of hooks.columns()) {
      const counts = new Map(column.slots.map((slot, k) => [slot, column.counts[k]!]));
      const low = column.slots[0] ?? 0;
      const high = column.slots[column.slots.length - 1] ?? 0;
      // every slot from a little below the lowest count to a little above the highest: filled and empty ones
      for (let slot = Math.max(0, low - 4); slot <= high + 4; slot++) {
        const rect = hooks.cellRectPx(column.seq, slot);
        if (!rect || rect.x1 - rect.x0 < 2 || rect.y1 - rect.y0 < 2) continue;
        points.push({ x: Math.floor((rect.x0 + rect.x1) / 2), y: Math.floor((rect.y0 + rect.y1) / 2), filled: counts.has(slot) });
      }
    }
    const colours = hooks.pixels(points);
    points.forEach((p, i) => (p.filled ? filled : empty).push(colours[i]!));
    return { filled, empty };
  });
  expect(samples.filled.length).toBeGreaterThan(500);
  expect(samples.empty.length).toBeGreaterThan(100);
  const filledButEmpty = samples.filled.filter((c) => c === EMPTY_COLOR);
  expect(filledButEmpty, 'cells with counts drawn in the empty colour').toEqual([]);
  const emptyButColoured = samples.empty.filter((c) => c !== EMPTY_COLOR);
  expect(emptyButColoured, 'empty cells drawn in a colour').toEqual([]);
  // the colour maximum is a high percentile: a few hot cells are clamped, most are not
  expect(samples.filled.filter((c) => c === CLAMPED_COLOR).length).toBeLessThan(samples.filled.length * 0.05);
});

test('a brush drag zooms both axes to the region; Back returns; Esc resets', async ({ page }) => {
  await openDashboard(page, server.url);
  await pause(page);
  const before = await axisDomains(page);
  const frame = (await page.evaluate(() => window.__bpfheat!.frame()))!;
  await brush(page, [0.3, 0.25], [0.6, 0.7]);
  await waitIdle(page);
  const zoomed = await axisDomains(page);

  // The expected domain is the brushed rectangle mapped through the scales of the view it was drawn on.
  const box = await plotBox(page);
  const plot = { x: 0, y: 0, width: box.width, height: box.height };
  const xMap = timeMap(before.x[0], before.x[1], plot);
  const yMap = valueMap('log', before.y, plot);
  const msPerPx = (before.x[1] - before.x[0]) / box.width;
  expect(Math.abs(zoomed.x[0] - mapFrom(xMap, 0.3 * box.width))).toBeLessThanOrEqual(msPerPx);
  expect(Math.abs(zoomed.x[1] - mapFrom(xMap, 0.6 * box.width))).toBeLessThanOrEqual(msPerPx);
  expect(zoomed.y[0] / mapFrom(yMap, 0.7 * box.height)).toBeCloseTo(1, 1);
  expect(zoomed.y[1] / mapFrom(yMap, 0.25 * box.height)).toBeCloseTo(1, 1);
  expect(zoomed.xLabels).not.toEqual(before.xLabels);
  expect(zoomed.yLabels).not.toEqual(before.yLabels);
  expect(frame.fromMs).toBe(before.x[0]);

  await page.getByRole('button', { name: /Back/ }).click();
  await waitIdle(page);
  expect(await axisDomains(page)).toEqual(before);

  await brush(page, [0.1, 0.1], [0.5, 0.5]);
  await waitIdle(page);
  expect((await axisDomains(page)).x).not.toEqual(before.x);
  await page.keyboard.press('Escape');
  await waitIdle(page);
  const reset = await axisDomains(page);
  expect(reset.x[1] - reset.x[0]).toBe(5 * 60_000);
  await expect(page.getByText('following now')).toBeVisible();
  await expect(page.getByRole('button', { name: /Back/ })).toBeDisabled();
});

test('Export SVG downloads a standalone file with axes, legend and one cell per non-empty (time, bucket) pair', async ({ page }) => {
  await openDashboard(page, server.url);
  await pause(page);
  await brush(page, [0.5, 0.05], [0.9, 0.95]);
  await waitIdle(page);
  const view = await page.evaluate(() => ({ frame: window.__bpfheat!.frame()!, columns: window.__bpfheat!.columns() }));
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export SVG' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^bpfheat-[\w.-]+-latency-\d{8}T\d{6}Z-\d{8}T\d{6}Z\.svg$/);
  const svg = await readFile((await download.path())!, 'utf8');

  const { first, last } = slotsIn(view.frame.yRange[0], view.frame.yRange[1]);
  const expected = new Map<string, number>();
  for (const column of view.columns) {
    column.slots.forEach((slot, k) => {
      if (slot >= first && slot <= last) expected.set(`${column.seq}:${slot}`, column.counts[k]!);
    });
  }
  expect(expected.size).toBeGreaterThan(50);

  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const cells = [...doc.querySelectorAll('rect.cell')].map((r) => [`${r.getAttribute('data-seq')}:${r.getAttribute('data-slot')}`, Number(r.getAttribute('data-count'))] as const);
    return {
      error: doc.querySelector('parsererror')?.textContent ?? null,
      root: doc.documentElement.nodeName,
      cells,
      xTicks: doc.querySelectorAll('.axis-x text').length,
      yTicks: doc.querySelectorAll('.axis-y text').length,
      legend: doc.querySelectorAll('.legend .legend-ramp, .legend .legend-clamped, .legend .legend-empty').length,
      title: doc.querySelector('title')?.textContent ?? '',
      external: doc.querySelectorAll('style, link, image, script, [href]').length,
    };
  }, svg);
  expect(parsed.error).toBeNull();
  expect(parsed.root).toBe('svg');
  expect(parsed.xTicks).toBeGreaterThan(2);
  expect(parsed.yTicks).toBeGreaterThan(2);
  expect(parsed.legend).toBe(3);
  expect(parsed.title).toContain('SYNTHETIC');
  expect(parsed.external).toBe(0);
  expect(parsed.cells.length).toBe(expected.size);
  expect(new Map(parsed.cells)).toEqual(expected);
});

test('reloading the URL reopens the same picture', async ({ page }) => {
  await openDashboard(page, server.url);
  await pause(page);
  await page.getByRole('combobox', { name: 'Colour' }).selectOption('log');
  await brush(page, [0.35, 0.1], [0.75, 0.8]);
  await waitIdle(page);
  const url = page.url();
  expect(url).toMatch(/from=.*to=.*ymin=.*ymax=.*color=log/);
  const before = await axisDomains(page);
  const pixels = await page.evaluate(() => window.__bpfheat!.picture());

  await page.goto(url);
  await page.waitForFunction(() => window.__bpfheat?.ready === true);
  await waitIdle(page);
  expect(await axisDomains(page)).toEqual(before);
  await expect(page.getByRole('combobox', { name: 'Colour' })).toHaveValue('log');
  await expect(page.getByText('paused')).toBeVisible();
  const after = await page.evaluate(() => window.__bpfheat!.picture());
  expect(after === pixels, 'the picture after reload differs from before').toBe(true);
});

test('percentile lines sit in the buckets the bucket math predicts', async ({ page }) => {
  await openDashboard(page, `${server.url}?span=60`);
  await pause(page);
  const found = await page.evaluate(() => {
    const hooks = window.__bpfheat!;
    const keys = ['p50', 'p99', 'max'] as const;
    return hooks.columns().slice(-20).map((column) => {
      const lines = keys.map((key) => hooks.lineCenterPx(column.seq, key));
      const rows = lines.map((line) => (line ? hooks.cellRectPx(column.seq, line.slot) : null));
      return { column, lines, rows, colours: hooks.pixels(lines.map((l) => l ?? { x: 0, y: 0 })) };
    });
  });
  expect(found.length).toBe(20);
  let checked = 0;
  for (const { column, lines, rows, colours } of found) {
    const total = column.counts.reduce((a, b) => a + b, 0);
    // nearest rank over the buckets, written out here independently of shared/column.ts
    const bucketOf = (q: number): number => {
      const rank = Math.max(1, Math.ceil(q * total));
      let seen = 0;
      for (let k = 0; k < column.slots.length; k++) if ((seen += column.counts[k]!) >= rank) return column.slots[k]!;
      return -1;
    };
    const expected = [bucketOf(0.5), bucketOf(0.99), column.slots[column.slots.length - 1]!];
    (['p50', 'p99', 'max'] as const).forEach((key, i) => {
      const line = lines[i]!;
      const row = rows[i]!;
      expect(line.slot, `${key} of column ${column.seq}`).toBe(expected[i]);
      // the line's centre is inside the row of its bucket
      expect(line.y).toBeGreaterThanOrEqual(row.y0 - 1);
      expect(line.y).toBeLessThanOrEqual(row.y1);
      // and it is drawn there, unless a later line (p99 or max) lies on top of it
      const coveredBy = expected.slice(i + 1).some((slot) => slot === expected[i]);
      if (!coveredBy) {
        expect(colours[i], `${key} line colour at column ${column.seq}`).toBe(PERCENTILE_COLORS[key]);
        checked++;
      }
    });
  }
  expect(checked).toBeGreaterThan(30);
});

test('the summary strip and selection panel show statistics of the view and the zoomed region', async ({ page }) => {
  await openDashboard(page, server.url);
  await pause(page);
  const summary = page.getByRole('region', { name: 'Summary of the visible time range' });
  await expect(summary.locator('[data-stat="count"]')).not.toHaveText('0');
  for (const stat of ['min', 'p50', 'p90', 'p99', 'max']) await expect(summary.locator(`[data-stat="${stat}"]`)).toContainText(/s/);
  await brush(page, [0.2, 0.05], [0.8, 0.5]);
  await waitIdle(page);
  const panel = page.getByRole('complementary', { name: 'Selection' });
  await expect(panel.getByRole('heading', { name: 'Zoomed region' })).toBeVisible();
  await expect(panel.getByRole('row', { name: /synth-/ }).first()).toBeVisible();
});

test('hovering a cell reads out its time, latency range, count and share of the column', async ({ page }) => {
  await openDashboard(page, `${server.url}?lines=0`);
  await pause(page);
  const target = await page.evaluate(() => {
    const hooks = window.__bpfheat!;
    const frame = hooks.frame()!;
    // the fullest cell of the newest complete column: wide and tall enough to point at
    const column = hooks.columns().at(-2)!;
    const k = column.counts.indexOf(Math.max(...column.counts));
    const rect = hooks.cellRectPx(column.seq, column.slots[k]!)!;
    const total = column.counts.reduce((a, b) => a + b, 0);
    return {
      x: frame.plot.x + (rect.x0 + rect.x1) / 2 / frame.dpr,
      y: frame.plot.y + (rect.y0 + rect.y1) / 2 / frame.dpr,
      count: column.counts[k]!,
      share: (100 * column.counts[k]!) / total,
    };
  });
  await page.mouse.move(target.x, target.y);
  const tooltip = page.getByRole('tooltip');
  await expect(tooltip).toBeVisible();
  const text = (await tooltip.textContent())!;
  expect(text).toMatch(/\d\d:\d\d:\d\d – \d\d:\d\d:\d\d/);
  expect(text).toMatch(/[µm]?s – [\d.]+ [µm]?s/);
  expect(text).toContain(`${formatCount(target.count)} I/O`);
  expect(text).toContain(`${target.share.toFixed(1)}% of the column`);
});
