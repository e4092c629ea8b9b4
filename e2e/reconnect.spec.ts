import { expect, test } from '@playwright/test';
import { freePort, startServer, type RunningServer } from './server.ts';
import { startProxy } from './proxy.ts';
import { openDashboard, waitIdle } from './page.ts';

let server: RunningServer | null = null;

test.afterEach(async () => {
  await server?.stop();
  server = null;
});

/** Seq runs missing between the first and the last column held. */
function holes(seqs: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (let i = 1; i < seqs.length; i++) if (seqs[i]! !== seqs[i - 1]! + 1) runs.push([seqs[i - 1]! + 1, seqs[i]! - 1]);
  return runs;
}

test('kill and restart the server: the page shows the outage, reconnects, and the columns on both sides are contiguous', async ({ page }) => {
  server = await startServer();
  const port = server.port;
  await openDashboard(page, server.url);
  await expect(page.locator('[data-status="live"]')).toBeVisible();
  const beforeKill = await page.evaluate(() => window.__bpfheat!.seqs());
  expect(holes(beforeKill)).toEqual([]);

  await server.stop();
  await expect(page.locator('[data-status="offline"]')).toContainText('disconnected');
  // Let the outage last a few columns and a few retries, so there is an interval to backfill.
  await expect(page.locator('[data-status="offline"][data-attempt="3"]')).toBeVisible({ timeout: 20_000 });
  const lastBeforeOutage = beforeKill[beforeKill.length - 1]!;

  server = await startServer({ port });
  await expect(page.locator('[data-status="live"]')).toBeVisible({ timeout: 30_000 });
  // Wait for a live column from the new server beyond the outage, then look.
  const restartedNewest = await page.evaluate(() => window.__bpfheat!.seqs().at(-1)!);
  await page.waitForFunction((seq) => (window.__bpfheat!.seqs().at(-1) ?? 0) > seq, restartedNewest);
  await waitIdle(page);

  const after = await page.evaluate(() => window.__bpfheat!.seqs());
  expect(after[0]).toBe(beforeKill[0]);
  expect(after.at(-1)! - lastBeforeOutage).toBeGreaterThan(2);
  expect(holes(after), 'seq runs missing across the outage').toEqual([]);
  expect(await page.evaluate(() => window.__bpfheat!.gaps())).toEqual([]);
  // and the picture has no "no data" band after the first column
  const bands = await page.locator('.heatmap-overlay [data-missing]').evaluateAll((rects) => rects.map((r) => r.getAttribute('data-missing')!));
  for (const band of bands) expect(Number(band.split('-')[1])).toBeLessThan(after[0]!);
});

test('a connection dropped while the server keeps its history resumes without a gap', async ({ page }) => {
  server = await startServer();
  const proxy = await startProxy(await freePort(), server.port);
  try {
    await openDashboard(page, `http://127.0.0.1:${proxy.port}/`);
    const before = await page.evaluate(() => window.__bpfheat!.seqs());
    await proxy.cut();
    await expect(page.locator('[data-status="offline"]')).toContainText('disconnected');
    await expect(page.locator('[data-status="offline"][data-attempt="3"]')).toBeVisible({ timeout: 20_000 });
    // columns went on being made while the page was cut off
    const newestOnServer = async (): Promise<number> => ((await (await fetch(`${server!.url}api/meta`)).json()) as { history: { newestSeq: number } }).history.newestSeq;
    expect(await newestOnServer()).toBeGreaterThan(before.at(-1)! + 1);
    await proxy.restore();
    await expect(page.locator('[data-status="live"]')).toBeVisible({ timeout: 30_000 });
    const target = await newestOnServer();
    await page.waitForFunction((seq) => (window.__bpfheat!.seqs().at(-1) ?? 0) >= seq, target);
    await waitIdle(page);
    const after = await page.evaluate(() => window.__bpfheat!.seqs());
    expect(after[0]).toBe(before[0]);
    expect(holes(after), 'seq runs missing across the outage').toEqual([]);
    expect(await page.evaluate(() => window.__bpfheat!.gaps())).toEqual([]);
  } finally {
    await proxy.close();
  }
});
