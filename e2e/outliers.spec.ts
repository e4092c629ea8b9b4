/**
 * The outlier list is the outliers, on the real kernel: fio keeps the test's own loop device
 * busy with 4 KiB random I/O while a renamed dd writes a burst of 1 MiB blocks, slower than
 * fio's. The burst is direct I/O like fio's: a buffered write beside fio's direct writes to the
 * same blocks fails the kernel's page-cache invalidation, which records an error on the device
 * that the next synchronous write of any process reports as EIO (seen once in CI). Every
 * I/O is an exemplar (threshold 0) up to the default cap per latency bucket, so the region of
 * the burst holds more exemplars than the page lists: the list must be the region's slowest,
 * with the burst's writes in it though they came last, and its first row in the bucket of the
 * maximum the panel shows for the region. Under the size metric, a region of large sizes lists
 * only I/Os of those sizes.
 *
 * Needs root (BPF, losetup). Without it the spec is skipped with the reason, except under
 * CI=true, where kernelSkipReason() throws and the spec fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { expect, test, type Page } from '@playwright/test';
import { slotOf } from '../shared/buckets.ts';
import type { Exemplar } from '../shared/exemplar.ts';
import { MAX_EXEMPLARS_PER_MESSAGE } from '../shared/protocol.ts';
import { createLoopDevice, kernelSkipReason } from '../test/kernel.ts';
import { startServer } from './server.ts';
import { KernelRun } from './kernel-run.ts';
import { openDashboard, waitIdle } from './page.ts';

const skip = kernelSkipReason();
/** comm is at most 15 characters */
const PROGRAM = 'bpfheat-e2e-syn';
const BURST_BLOCKS = 16;
const INTERVAL_MS = 250;
/**
 * Exemplars per second of each latency bucket: half the default, so that other I/O on the
 * machine at threshold 0 takes longer to push the test's out of the server's 100,000. fio's
 * crowded buckets still go over it (their excess is counted as dropped).
 */
const EXEMPLAR_RATE = 100;

/** Runs a command; `done` rejects with its stderr on a non-zero exit that stop() did not ask for. */
function run(command: string, args: string[], running: Set<ChildProcess>): { pid: number; done: Promise<void>; stop: () => void } {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  let stopped = false;
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      running.delete(child);
      if (code === 0 || stopped) resolve();
      else reject(new Error(`${command} exited with ${code}: ${stderr.slice(0, 400)}`));
    });
  });
  const stop = () => {
    stopped = true;
    child.kill('SIGTERM');
  };
  return { pid: child.pid!, done, stop };
}

interface Answer {
  matched: number;
  dropped: number;
  completeFromMs: number | null;
  exemplars: Exemplar[];
}

const key = (e: Exemplar) => `${e.timeMs}:${e.sector}:${e.latencyNs}:${e.pid}`;

test.describe(`outliers of a slow burst among fio${skip ? ` (skipped: ${skip})` : ''}`, () => {
  test.skip(skip !== null, skip ?? '');

  const kernel = new KernelRun();
  test.afterEach(() => kernel.cleanUp());

  test('a region lists its slowest exemplars first, the burst among them, the slowest in the bucket of the region’s max; a size region lists only its sizes', async ({ page }) => {
    test.setTimeout(120_000);
    const loop = (kernel.loop = createLoopDevice(256));
    const program = kernel.renamedDd(PROGRAM);
    const server = (kernel.server = await startServer({ source: 'bpf', args: ['--threshold', '0', '--exemplar-rate', String(EXEMPLAR_RATE), '--interval', String(INTERVAL_MS)] }));
    const url = server.url;
    const api = async (path: string): Promise<unknown> => (await fetch(`${url}${path}`)).json();

    // fio first, then the burst in the middle of it, then fio on its own again.
    const fio = run(
      'fio',
      ['--name=background', `--filename=${loop.path}`, '--rw=randrw', '--bs=4k', '--direct=1', '--ioengine=psync', '--rate_iops=2000', '--runtime=60', '--time_based'],
      kernel.running,
    );
    const fioWrites = async (): Promise<number> => {
      const answer = (await api(`api/columns?device=${loop.name}&op=write&from=${Date.now() - 10_000}`)) as { columns: { total: number }[] };
      return (answer.columns ?? []).reduce((sum, c) => sum + c.total, 0);
    };
    await expect.poll(fioWrites, { timeout: 20_000 }).toBeGreaterThan(2000);
    const burstFromMs = Date.now();
    const burst = run(program, ['if=/dev/zero', `of=${loop.path}`, 'bs=1M', `count=${BURST_BLOCKS}`, 'oflag=direct'], kernel.running);
    await burst.done;
    const burstToMs = Date.now();
    // fio on its own for a few columns after the burst, then stopped
    const settled = Math.ceil(burstToMs / INTERVAL_MS) * INTERVAL_MS + 4 * INTERVAL_MS;
    await expect.poll(async () => ((await api('api/meta')) as { history: { newestSeq: number } }).history.newestSeq * INTERVAL_MS, { timeout: 20_000 }).toBeGreaterThan(settled);
    fio.stop();
    await fio.done;

    // The region: the burst's columns with a second of fio on each side, every latency.
    const fromMs = Math.floor((burstFromMs - 1000) / INTERVAL_MS) * INTERVAL_MS;
    const toMs = Math.ceil((burstToMs + 1000) / INTERVAL_MS) * INTERVAL_MS;
    const range = `from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}&dev=${loop.name}`;
    await openDashboard(page, `${url}?${range}`);
    const panel = page.getByRole('complementary', { name: 'Selection' });
    const watched = await settledExemplars(page);
    const region = watched.region!;
    expect(region).toMatchObject({ fromMs, toMs });

    // More exemplars than one list: which ones are listed is a choice, and it is the slowest.
    expect(watched.listed).toHaveLength(MAX_EXEMPLARS_PER_MESSAGE);
    expect(watched.captured).toBeGreaterThan(MAX_EXEMPLARS_PER_MESSAGE);
    const query = (extra: Record<string, string>) =>
      new URLSearchParams({ from: String(region.fromMs), to: String(region.toMs), lat_min: String(region.latMinNs), lat_max: String(region.latMaxNs), device: loop.name, limit: '10000', ...extra });
    const all = (await api(`api/exemplars?${query({ order: 'slowest' })}`)) as Answer;
    expect(all.completeFromMs === null || all.completeFromMs <= region.fromMs, 'the server has evicted exemplars of the region').toBe(true);
    expect(all.matched).toBe(watched.captured);
    expect(all.exemplars).toHaveLength(all.matched);
    expect(watched.listed.map(key)).toEqual(all.exemplars.slice(0, MAX_EXEMPLARS_PER_MESSAGE).map(key));
    const latencies = watched.listed.map((e) => e.latencyNs);
    expect(latencies).toEqual([...latencies].sort((a, b) => b - a));
    // not the first to come: the oldest of the region are fio's, before the burst
    const byTime = [...all.exemplars].sort((a, b) => a.timeMs - b.timeMs);
    const oldestListed = byTime.slice(0, MAX_EXEMPLARS_PER_MESSAGE).map(key);
    expect(watched.listed.map(key).filter((k) => !oldestListed.includes(k)).length).toBeGreaterThan(0);

    // The burst's large writes came last, yet every one the server captured is listed, above
    // every fio I/O faster than it.
    const burstWrites = all.exemplars.filter((e) => e.comm === PROGRAM && e.op === 'write' && e.bytes > 4096);
    expect(burstWrites.length).toBeGreaterThan(0);
    const listedKeys = new Set(watched.listed.map(key));
    expect(burstWrites.filter((e) => !listedKeys.has(key(e))).map((e) => [e.latencyNs, e.bytes])).toEqual([]);

    // The table shows them slowest first, and its first row is in the bucket of the region's max.
    const table = panel.getByRole('table', { name: 'Exemplars in the region' });
    const firstRow = table.locator('tbody tr').first();
    await expect(firstRow).toHaveAttribute('data-latency', String(watched.listed[0]!.latencyNs));
    const maxSlot = Number(await panel.locator('dl.stats-block:not(.exemplar-counts) [data-stat="max"]').getAttribute('data-slot'));
    expect(slotOf(watched.listed[0]!.latencyNs)).toBe(maxSlot);
    const counts = panel.locator('.exemplar-counts');
    await expect(counts.locator('[data-stat="listed"]')).toContainText('(the slowest)');
    // drops and held are the region's own, as the server counts them
    expect(Number(await counts.locator('[data-stat="dropped"]').textContent())).toBe(all.dropped);

    // Top processes are of the listed set: the renamed dd is there with its listed I/Os.
    const processes = panel.getByRole('table', { name: 'Top processes' });
    const listedByDd = watched.listed.filter((e) => e.comm === PROGRAM).length;
    await expect(processes.locator(`tbody tr[data-comm="${PROGRAM}"][data-pid="${burst.pid}"]`)).toHaveAttribute('data-count', String(listedByDd));

    // Picking another order asks the server again: the newest of the region, newest first.
    await panel.getByRole('combobox', { name: 'List first' }).selectOption('newest');
    const newest = await settledExemplars(page, 'newest');
    const allNewest = (await api(`api/exemplars?${query({ order: 'newest' })}`)) as Answer;
    expect(newest.listed.map(key)).toEqual(allNewest.exemplars.slice(0, MAX_EXEMPLARS_PER_MESSAGE).map(key));
    await expect(table.locator('tbody tr').first()).toHaveAttribute('data-time', String(Math.max(...all.exemplars.map((e) => e.timeMs))));
    await expect(counts.locator('[data-stat="listed"]')).toContainText('(the newest)');

    // Under the size metric, a region of large sizes lists only I/Os of those sizes: the burst's.
    await openDashboard(page, `${url}?${range}&metric=size&ymin=65536&ymax=1048576`);
    const sized = await settledExemplars(page);
    const sizes = sized.region!;
    expect(sizes).toMatchObject({ latMinNs: 0, latMaxNs: Number.MAX_SAFE_INTEGER });
    expect(sizes.sizeMinBytes).toBeGreaterThan(4096);
    expect(sized.listed.length).toBeGreaterThan(0);
    expect(sized.listed.filter((e) => e.bytes < sizes.sizeMinBytes || e.bytes > sizes.sizeMaxBytes || e.comm !== PROGRAM).map((e) => [e.comm, e.bytes])).toEqual([]);
    // every large write of the region, held in its cells, is captured or counted as dropped
    const held = Number((await counts.locator('[data-stat="held"]').textContent())!.replace(/\D+$/, '').replace(/,/g, ''));
    const sizedAnswer = (await api(`api/exemplars?${query({ lat_min: '0', lat_max: String(Number.MAX_SAFE_INTEGER), size_min: String(sizes.sizeMinBytes), size_max: String(sizes.sizeMaxBytes) })}`)) as Answer;
    expect(sizedAnswer.matched).toBe(sized.captured);
    expect(sized.captured).toBe(sized.listed.length);
    expect(held).toBeGreaterThanOrEqual(sized.captured);
    await expect(table.locator('tbody tr').first()).toContainText(PROGRAM);
  });
});

/** The page's exemplars once the answer in this order has come and nothing is pending. */
async function settledExemplars(page: Page, order = 'slowest') {
  await waitIdle(page);
  await page.waitForFunction((wanted) => {
    const hooks = window.__bpfheat!;
    const exemplars = hooks.exemplars();
    return hooks.idle && exemplars.region !== null && !exemplars.pending && exemplars.order === wanted;
  }, order);
  return page.evaluate(() => window.__bpfheat!.exemplars());
}
