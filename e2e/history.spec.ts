import { expect, test, type Page } from '@playwright/test';
import { startServer, type RunningServer } from './server.ts';


let server: RunningServer;

test.afterEach(async () => {
  await server?.stop();
});

interface Meta {
  history: { columns: number; oldestSeq: number; newestSeq: number };
}

/** Opens the page on 20 s of 5-ms columns, zooms out to 40 s and waits for the older columns, fetched from the history. */
async function zoomOutFetches(page: Page): Promise<void> {
  // 5-ms columns: the server's default backfill (5000 columns) is 25 s, so a history of more
  // than that builds up within seconds and a 40-s view reaches before the backfill.
  server = await startServer({ args: ['--interval', '5'] });
  const meta = async (): Promise<Meta> => (await (await fetch(`${server.url}api/meta`)).json()) as Meta;
  await expect.poll(async () => (await meta()).history.columns, { timeout: 60_000, intervals: [1000] }).toBeGreaterThan(8500);

  // 200 columns a second: the page is never idle for long, so wait on what matters instead.
  await page.goto(`${server.url}?span=20`);
  await page.waitForFunction(() => window.__bpfheat?.ready === true && window.__bpfheat.live);
  const backfilled = await page.evaluate(() => window.__bpfheat!.seqs());
  const { history } = await meta();
  expect(backfilled[0]!).toBeGreaterThan(history.oldestSeq + 1000);

  await page.keyboard.press('-');
  await page.waitForFunction(() => window.__bpfheat!.frame()!.toMs - window.__bpfheat!.frame()!.fromMs === 40_000);
  await page.waitForFunction(() => !window.__bpfheat!.fetching && window.__bpfheat!.missing().length === 0, null, { timeout: 30_000 });
  const seqs = await page.evaluate(() => window.__bpfheat!.seqs());
  expect(seqs[0]!, 'columns older than the backfill were fetched').toBeLessThan(backfilled[0]! - 2000);
  await expect(page.locator('.heatmap-overlay [data-missing]')).toHaveCount(0);
}

test('zooming out beyond what the page holds fetches older columns from the server history', async ({ page }) => {
  test.setTimeout(120_000);
  await zoomOutFetches(page);
  await expect(page.locator('.error[role=alert]')).toHaveCount(0);
});

test('when the history worker cannot load, the page says so once and fetches the history itself', async ({ page }) => {
  test.setTimeout(120_000);
  await page.route(/columns-worker[^/]*\.js/, (route) => route.fulfill({ status: 404, body: 'gone' }));
  const warnings: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'warning' && message.text().includes('history worker')) warnings.push(message.text());
  });
  await zoomOutFetches(page);
  await expect(page.locator('.error[role=alert]')).toHaveText(/the history worker failed \(.*\): history is fetched in the page from now on/);
  expect(warnings).toHaveLength(1);
});
