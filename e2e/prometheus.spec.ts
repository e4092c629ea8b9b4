/**
 * The page on --source prometheus: a real Prometheus (native histograms, 1-s scrapes) holds two
 * bpfheat exporters replaying two recordings as two hosts; the dashboard reads them back. The page
 * shows which hosts are in the picture and a host filter, draws the fleet's sum as Prometheus sums
 * it (the columns it holds are the recordings' columns added), narrows to one host (read from
 * Prometheus when the page names it: exactly that host's recording), zooms as with live data, and
 * its drill-down says that Prometheus has no exemplars. A Prometheus that cannot be reached is a banner.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type APIRequestContext } from '@playwright/test';
import { histogramOf, type Column } from '../shared/column.ts';
import { SLOTS } from '../shared/scheme.ts';
import { eventually, freePort, recordedColumns, startPrometheus, writeRecording, type RunningPrometheus } from '../test/prometheus-harness.ts';
import { startServer, type RunningServer } from './server.ts';
import { axisDomains, brush, openDashboard, pause, waitIdle } from './page.ts';

const INTERVAL_MS = 2000;
const COLUMNS = 8;

let dir: string;
let prometheus: RunningPrometheus;
const exporters: RunningServer[] = [];
let dashboard: RunningServer;
let hostA: Column[];
let hostB: Column[];
/** the end of the recordings' last column */
let lastEndMs: number;

/** Waits until the dashboard's history holds the recordings' last column, read from Prometheus: the page then opens over all of it. */
async function historyRead(server: RunningServer): Promise<void> {
  await eventually('the dashboard to read the recordings from Prometheus', async () => {
    const meta = (await (await fetch(`${server.url}api/meta`)).json()) as { history: { toMs: number | null } };
    return meta.history.toMs !== null && meta.history.toMs >= lastEndMs ? true : null;
  });
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  dir = mkdtempSync(join(tmpdir(), 'bpfheat-e2e-prom-'));
  const firstStartMs = Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS - 120_000;
  hostA = recordedColumns(11, firstStartMs, INTERVAL_MS, COLUMNS);
  hostB = recordedColumns(12, firstStartMs, INTERVAL_MS, COLUMNS);
  const ports = [await freePort(), await freePort()];
  prometheus = await startPrometheus(ports.map((port) => ({ address: `127.0.0.1:${port}` })), { nativeHistograms: true });
  // at half the recorded pace a 2-s column is served for 4 s: at least two 1-s scrapes see it, even on a loaded machine
  for (const [k, [host, columns]] of ([['db-a', hostA], ['db-b', hostB]] as const).entries()) {
    exporters.push(await startServer({ port: ports[k], replay: writeRecording(dir, host, columns), args: ['--exporter', '--speed', '0.5'] }));
  }
  const total = [...hostA, ...hostB].reduce((sum, c) => sum + histogramOf(c, { metric: 'latency' }).reduce((a, b) => a + b, 0), 0);
  lastEndMs = firstStartMs + COLUMNS * INTERVAL_MS;
  const lastEndS = lastEndMs / 1000;
  await eventually(
    'Prometheus to hold both replays',
    async () => {
      const data = (await prometheus.api('query', { query: 'histogram_count(bpfheat_io_latency_nanoseconds)', time: String(lastEndS) })) as { result: { value: [number, string] }[] };
      return data.result.reduce((sum, r) => sum + Number(r.value[1]), 0) === total ? true : null;
    },
    120_000,
  );
  dashboard = await startServer({ source: 'prometheus', args: ['--prometheus', prometheus.url, '--interval', String(INTERVAL_MS), '--history', '10m'] });
  await historyRead(dashboard);
});

test.afterAll(async () => {
  await dashboard?.stop();
  for (const exporter of exporters) await exporter.stop();
  await prometheus?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The recordings' latency columns added, by start time. */
function summed(recordings: readonly (readonly Column[])[]): Map<number, number[]> {
  const byStart = new Map<number, number[]>();
  for (const columns of recordings) {
    for (const column of columns) {
      const histogram = histogramOf(column, { metric: 'latency' });
      const sum = byStart.get(column.startMs) ?? new Array<number>(SLOTS).fill(0);
      histogram.forEach((count, slot) => (sum[slot]! += count));
      byStart.set(column.startMs, sum);
    }
  }
  return byStart;
}

/** The page's drawn columns inside the recordings' span, as full slot arrays by start time. */
async function drawnColumns(page: import('@playwright/test').Page): Promise<Map<number, number[]>> {
  const columns = await page.evaluate(() => window.__bpfheat!.columns());
  const drawn = new Map<number, number[]>();
  for (const column of columns) {
    if (!hostA.some((c) => c.startMs === column.startMs)) continue;
    const counts = new Array<number>(SLOTS).fill(0);
    column.slots.forEach((slot, k) => (counts[slot] = column.counts[k]!));
    drawn.set(column.startMs, counts);
  }
  return drawn;
}

test('shows the hosts in the picture, draws their sum, narrows to one host', async ({ page }) => {
  await openDashboard(page, `${dashboard.url}?lines=0`);
  await pause(page);
  const instances = exporters.map((e) => `127.0.0.1:${e.port}`).sort();
  await expect(page.locator('.header')).toContainText('read from PROMETHEUS');
  await expect(page.locator('.hosts-shown')).toHaveAttribute('data-hosts', instances.join(' '));
  await expect(page.locator('.hosts-shown')).toContainText('all 2 hosts');
  await expect(page.locator('details.hosts summary')).toHaveText('Hosts: all 2, summed');

  expect(await drawnColumns(page)).toEqual(summed([hostA, hostB]));

  // the page starts over on the host's own picture, which the server reads from Prometheus when asked
  // the hosts checked apply together, with the button: checking both, then one off, asks for nothing yet
  await page.locator('details.hosts summary').click();
  for (const instance of [instances[0]!, instances[1]!, instances[1]!]) await page.getByRole('checkbox', { name: instance }).click();
  expect(new URL(page.url()).searchParams.has('host')).toBe(false);
  await page.getByRole('button', { name: 'Show this host' }).click();
  await page.waitForURL((url) => url.searchParams.get('host') === instances[0]);
  await expect(page.locator('details.hosts summary')).toHaveText(`Hosts: ${instances[0]}`);
  await page.locator('details.hosts summary').click();
  await expect(page.getByRole('checkbox', { name: instances[0] })).toBeChecked();
  await expect(page.locator('.hosts-shown')).toContainText(`1 of 2 hosts: ${instances[0]}`);
  await expect(page.locator('.header .host')).toHaveText(instances[0]!);
  const onlyA = instances[0] === `127.0.0.1:${exporters[0]!.port}`;
  const expected = summed([onlyA ? hostA : hostB]);
  await expect.poll(() => drawnColumns(page).catch(() => null), { timeout: 30_000 }).toEqual(expected);
});

/** /api/columns of one host's dashboard (null: the fleet's) inside the recordings' span, as full slot arrays by start time; null until it answers. */
async function hostColumns(request: APIRequestContext, instance: string | null): Promise<Map<number, number[]> | null> {
  const answer = await request.get(`${dashboard.url}api/columns?${instance === null ? '' : `host=${encodeURIComponent(instance)}&`}from=${hostA[0]!.startMs}&to=${lastEndMs}&metric=latency`);
  if (!answer.ok()) return null;
  const { columns } = (await answer.json()) as { columns: { startMs: number; slots: number[]; counts: number[] }[] };
  const found = new Map<number, number[]>();
  for (const column of columns) {
    const counts = new Array<number>(SLOTS).fill(0);
    column.slots.forEach((slot, k) => (counts[slot] = column.counts[k]!));
    found.set(column.startMs, counts);
  }
  return found;
}

test('a host named in the address is read on its own, with exactly its counts, beside the fleet', async ({ request }) => {
  const [first, second] = exporters.map((e) => `127.0.0.1:${e.port}`);
  for (const [instance, recording] of [[second!, hostB], [first!, hostA]] as const) {
    const expected = summed([recording]);
    await expect.poll(async () => (await hostColumns(request, instance))?.size ?? 0, { timeout: 30_000 }).toBe(expected.size);
    expect(await hostColumns(request, instance)).toEqual(expected);
  }
  expect(await hostColumns(request, null)).toEqual(summed([hostA, hostB]));
  const unknown = await request.get(`${dashboard.url}api/columns?host=nobody:1`);
  expect(unknown.status()).toBe(400);
  expect(((await unknown.json()) as { error: string }).error).toBe(`unknown host nobody:1: the hosts are ${[first, second].sort().join(', ')}`);
});

test('a page whose address names an unknown host says so, stops, and links to all hosts', async ({ page }) => {
  const instances = exporters.map((e) => `127.0.0.1:${e.port}`).sort();
  const sockets: string[] = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  await page.goto(`${dashboard.url}?host=nobody:1`);
  const banner = page.getByRole('alert');
  await expect(banner).toContainText(`unknown host nobody:1: the hosts are ${instances.join(', ')}`);
  await expect(page.locator('.status')).toHaveAttribute('data-status', 'refused');
  // refused is final: no reconnecting (the back-off's first retry would come after 0.5 s)
  await page.waitForTimeout(1500);
  expect(sockets).toHaveLength(1);
  // the link opens the view as it is now, not as the page opened
  await page.getByRole('combobox', { name: 'Colour' }).selectOption('log');
  await expect(banner.getByRole('link', { name: 'view all hosts' })).toHaveAttribute('href', /\?color=log$/);
  await banner.getByRole('link', { name: 'view all hosts' }).click();
  await page.waitForURL((url) => !url.searchParams.has('host') && url.searchParams.get('color') === 'log');
  await expect(page.locator('.hosts-shown')).toContainText('all 2 hosts');
});

test('with --sum-hosts, draws the same sum, read as Prometheus sums it, and has no host filter', async ({ page }) => {
  const summing = await startServer({ source: 'prometheus', args: ['--prometheus', prometheus.url, '--interval', String(INTERVAL_MS), '--history', '10m', '--sum-hosts'] });
  try {
    await historyRead(summing);
    await openDashboard(page, `${summing.url}?lines=0`);
    await pause(page);
    await expect(page.locator('.header .host')).toHaveText(`Prometheus ${prometheus.url}, hosts summed`);
    await expect(page.locator('details.hosts')).toHaveCount(0);
    expect(await drawnColumns(page)).toEqual(summed([hostA, hostB]));
  } finally {
    await summing.stop();
  }
});

test('zooms as with live data, and the drill-down says Prometheus has no exemplars', async ({ page }) => {
  await openDashboard(page, dashboard.url);
  await pause(page);
  const before = await axisDomains(page);
  await brush(page, [0.5, 0.2], [0.8, 0.8]);
  await waitIdle(page);
  const zoomed = await axisDomains(page);
  expect(zoomed.x[0]).toBeGreaterThan(before.x[0]);
  expect(zoomed.x[1]).toBeLessThan(before.x[1]);
  expect(zoomed.y[1] / zoomed.y[0]).toBeLessThan(before.y[1] / before.y[0]);
  await expect(page.locator('section.exemplars')).toContainText('Exemplars are not available from Prometheus');
  await page.getByRole('button', { name: /Back/ }).click();
  await waitIdle(page);
  expect(await axisDomains(page)).toEqual(before);
});

test('a Prometheus that cannot be reached is a banner on the page, not a blank one', async ({ page }) => {
  const nobody = await freePort();
  const lonely = await startServer({ source: 'prometheus', args: ['--prometheus', `http://127.0.0.1:${nobody}`] });
  try {
    await page.goto(lonely.url);
    await expect(page.getByRole('alert')).toContainText(`cannot reach Prometheus at http://127.0.0.1:${nobody}`);
    await expect(page.getByRole('alert')).toContainText('retrying in');
  } finally {
    await lonely.stop();
  }
});
