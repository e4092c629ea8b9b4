/**
 * The outlier drill-down on the real kernel: dd, copied to a program with a distinctive name,
 * writes to the test's own loop device while the live BPF tracer makes every I/O an exemplar
 * (threshold 0) or, past the rate cap, a counted drop. The page zooms into the cells holding
 * those writes, and the panel must list them with the program's name and pid, count them as
 * the server does, and name the program in its top-processes breakdown.
 *
 * Needs root (BPF, losetup). Without it the spec is skipped with the reason, except under
 * CI=true, where kernelSkipReason() throws and the spec fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { slotOf } from '../shared/buckets.ts';
import { createLoopDevice, kernelSkipReason, type LoopDevice } from '../test/kernel.ts';
import { startServer } from './server.ts';
import { KernelRun } from './kernel-run.ts';
import { brush, openDashboard, pause, plotBox, waitIdle } from './page.ts';

const skip = kernelSkipReason();
/** comm is at most 15 characters */
const PROGRAM = 'bpfheat-e2e-dd';
const WRITES = 300;
const BATCHES = 3;
/** between batches: the writes spread over a few 250-ms columns */
const PAUSE_MS = 400;
const INTERVAL_MS = 250;
/**
 * Exemplars per second of each latency bucket. At threshold 0 every I/O of every device is one,
 * and other I/O on the machine (another test's fio, over some 30 buckets) could otherwise push
 * the renamed dd's out of the server's 100,000 within seconds; at this rate that takes over
 * 15 s. The cap per bucket and column (50) takes most of a batch of 100 writes, spread over
 * several buckets, and what it cannot take is counted as dropped.
 */
const EXEMPLAR_RATE = 200;

/**
 * Runs the renamed dd: WRITES direct 4 KiB writes to the loop device, read from a pipe that the
 * test fills in BATCHES, so one process (one pid) writes over about a second.
 */
async function slowDd(program: string, loop: LoopDevice, running: Set<ChildProcess>): Promise<number> {
  const child = spawn(program, [`of=${loop.path}`, 'bs=4096', `count=${WRITES}`, 'oflag=direct', 'iflag=fullblock'], { stdio: ['pipe', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  for (let batch = 0; batch < BATCHES; batch++) {
    if (batch > 0) await new Promise((r) => setTimeout(r, PAUSE_MS));
    child.stdin!.write(Buffer.alloc((WRITES / BATCHES) * 4096));
  }
  child.stdin!.end();
  const code = await exited;
  running.delete(child);
  if (code !== 0) throw new Error(`${PROGRAM} exited with ${code}: ${stderr}`);
  return child.pid!;
}

interface Answer {
  matched: number;
  truncated: boolean;
  dropped: number;
  completeFromMs: number | null;
}

test.describe(`drill-down on a loop device${skip ? ` (skipped: ${skip})` : ''}`, () => {
  test.skip(skip !== null, skip ?? '');

  const kernel = new KernelRun();
  test.afterEach(() => kernel.cleanUp());

  test('zooming into the writes lists them with their program and pid, counted as the server counts them, and names the program in the top processes', async ({ page }) => {
    test.setTimeout(120_000);
    const loop = (kernel.loop = createLoopDevice());
    const program = kernel.renamedDd(PROGRAM);
    const server = (kernel.server = await startServer({ source: 'bpf', args: ['--threshold', '0', '--exemplar-rate', String(EXEMPLAR_RATE), '--interval', String(INTERVAL_MS)] }));
    const pid = await slowDd(program, loop, kernel.running);

    // Only the loop device's writes: the backing file's I/O lands on another device.
    await openDashboard(page, `${server.url}?dev=${loop.name}&op=write&span=30`);
    const total = () => page.evaluate(() => window.__bpfheat!.columns().reduce((sum, c) => sum + c.counts.reduce((a, b) => a + b, 0), 0));
    await expect.poll(total, { timeout: 15_000 }).toBe(WRITES);
    // The tracer's own account of what is not in the picture is on the page, as /api/meta gives it.
    const uncountedOnServer = async (): Promise<number> => {
      const { selfStats } = (await (await fetch(`${server.url}api/meta`)).json()) as { selfStats: { unseen: number; missedStart: number; startFailed: number; ringOverrun: number } };
      return selfStats.unseen + selfStats.missedStart + selfStats.startFailed + selfStats.ringOverrun;
    };
    const uncountedNote = page.locator('.header .uncounted');
    await expect(uncountedNote).toBeVisible();
    const uncountedOnPage = async (): Promise<number> => Number(await uncountedNote.getAttribute('data-total'));
    await expect.poll(async () => (await uncountedOnPage()) === (await uncountedOnServer()), { timeout: 15_000 }).toBe(true);
    // a few columns after the writes, so that the zoomed region ends before now and stays put
    const lastWriteSeq = await page.evaluate(() => window.__bpfheat!.columns().filter((c) => c.slots.length > 0).at(-1)!.seq);
    await page.waitForFunction((seq) => (window.__bpfheat!.seqs().at(-1) ?? 0) > seq + 4, lastWriteSeq);
    // The whole live view already holds them all: each write is an exemplar or a counted drop.
    const panel = page.getByRole('complementary', { name: 'Selection' });
    const counts = panel.locator('.exemplar-counts');
    const stat = async (name: string): Promise<number> => Number((await counts.locator(`[data-stat="${name}"]`).textContent())!.replace(/\D+$/, ''));
    await expect(panel.getByRole('heading', { name: 'Whole view' })).toBeVisible();
    await expect.poll(async () => (await stat('captured')) + (await stat('dropped'))).toBe(WRITES);
    await pause(page);

    // Where the writes are drawn, in CSS px of the plot.
    const cells = await page.evaluate(() => {
      const hooks = window.__bpfheat!;
      const frame = hooks.frame()!;
      const written = hooks.columns().filter((c) => c.slots.length > 0);
      const low = Math.min(...written.map((c) => c.slots[0]!));
      const high = Math.max(...written.map((c) => c.slots.at(-1)!));
      const first = hooks.cellRectPx(written[0]!.seq, low)!;
      const last = hooks.cellRectPx(written.at(-1)!.seq, high)!;
      return { dpr: frame.dpr, x0: first.x0, x1: last.x1, yLow: first.y1, yHigh: last.y0, firstSeq: written[0]!.seq, lastSeq: written.at(-1)!.seq, low, high };
    });
    expect(cells.lastSeq - cells.firstSeq, 'the writes span more than one column').toBeGreaterThan(0);
    const box = await plotBox(page);
    const margin = 3;
    const fx = (px: number) => Math.min(box.width - 1, Math.max(1, px / cells.dpr)) / box.width;
    const fy = (px: number) => Math.min(box.height - 1, Math.max(1, px / cells.dpr)) / box.height;
    await brush(page, [fx(cells.x0 - margin * cells.dpr), fy(cells.yHigh - margin * cells.dpr)], [fx(cells.x1 + margin * cells.dpr), fy(cells.yLow + margin * cells.dpr)]);
    await waitIdle(page);

    await expect(panel.getByRole('heading', { name: 'Zoomed region' })).toBeVisible();
    const watched = await page.evaluate(() => window.__bpfheat!.exemplars());
    const region = watched.region!;
    expect(region.toMs, 'the zoomed region is fixed, not live').not.toBeNull();
    expect(watched.pending).toBe(false);

    // Counts: every write is in the region's cells, and each was captured or counted as dropped
    // (threshold 0; drops only when the cap per bucket and column is reached).
    await expect(counts.locator('[data-stat="held"]')).toHaveText(`${WRITES} I/Os`);
    const captured = await stat('captured');
    const dropped = await stat('dropped');
    expect(captured).toBeGreaterThan(0);
    expect(captured + dropped).toBe(WRITES);
    const listedCell = counts.locator('[data-stat="listed"]');
    const listed = Number(await listedCell.getAttribute('data-listed'));
    const truncated = Number(await listedCell.getAttribute('data-truncated'));
    expect(listed + truncated).toBe(captured);
    // and the server, asked over HTTP for the same region, counts the same
    const query = new URLSearchParams({
      from: String(region.fromMs),
      to: String(region.toMs),
      lat_min: String(region.latMinNs),
      lat_max: String(region.latMaxNs),
      device: loop.name,
      op: 'write',
      limit: '0',
    });
    const answer = (await (await fetch(`${server.url}api/exemplars?${query}`)).json()) as Answer;
    expect(answer.completeFromMs === null || answer.completeFromMs <= region.fromMs, 'the server has evicted exemplars of the region').toBe(true);
    expect(answer).toMatchObject({ matched: listed + truncated, dropped });

    // The table: every row is one of the renamed dd's writes, slowest first.
    const table = panel.getByRole('table', { name: 'Exemplars in the region' });
    const rows = () => table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({ comm: tr.getAttribute('data-comm'), pid: Number(tr.getAttribute('data-pid')), latency: Number(tr.getAttribute('data-latency')), sector: Number(tr.getAttribute('data-sector')), time: Number(tr.getAttribute('data-time')) })));
    const shown = await rows();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.filter((r) => r.comm !== PROGRAM || r.pid !== pid), 'rows of another program or pid').toEqual([]);
    expect(shown.map((r) => r.latency)).toEqual(shown.map((r) => r.latency).sort((a, b) => b - a));
    await expect(table.locator('tbody tr').first()).toContainText(PROGRAM);
    await expect(table.locator('tbody tr').first()).toContainText('4 KiB');
    await expect(table.locator('tbody tr').first()).toContainText(loop.name);

    // Sorting from the keyboard: the sector header, then again for the other direction.
    const sectorHeader = table.getByRole('columnheader', { name: /sector/ });
    await sectorHeader.getByRole('button').focus();
    await page.keyboard.press('Enter');
    await expect(sectorHeader).toHaveAttribute('aria-sort', 'descending');
    const descending = (await rows()).map((r) => r.sector);
    expect(descending).toEqual([...descending].sort((a, b) => b - a));
    await page.keyboard.press('Enter');
    await expect(sectorHeader).toHaveAttribute('aria-sort', 'ascending');
    const ascending = (await rows()).map((r) => r.sector);
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    // dd writes 4 KiB after 4 KiB from the start of the device
    expect(ascending.filter((sector) => sector % 8 !== 0 || sector >= WRITES * 8)).toEqual([]);

    // Hovering a row marks the cell its exemplar was counted in, on the SVG overlay (the canvas is
    // redrawn anyway here, for each column arriving, so its frame count proves nothing).
    const row = table.locator('tbody tr').nth(3);
    const hovered = (await rows())[3]!;
    await row.hover();
    const mark = page.locator('.heatmap-overlay .exemplar-mark');
    await expect(mark).toBeVisible();
    const expected = { seq: Math.floor(hovered.time / INTERVAL_MS), slot: slotOf(hovered.latency) };
    expect({ seq: Number(await mark.getAttribute('data-seq')), slot: Number(await mark.getAttribute('data-slot')) }).toEqual(expected);
    const markBox = (await mark.locator('rect').boundingBox())!;
    const cell = await page.evaluate(({ seq, slot }) => ({ rect: window.__bpfheat!.cellRectPx(seq, slot)!, frame: window.__bpfheat!.frame()! }), expected);
    const cellLeft = cell.frame.plot.x + cell.rect.x0 / cell.frame.dpr;
    const cellTop = cell.frame.plot.y + cell.rect.y0 / cell.frame.dpr;
    expect(Math.abs(markBox.x - (cellLeft - 2))).toBeLessThan(1.5);
    expect(Math.abs(markBox.y - (cellTop - 2))).toBeLessThan(1.5);
    await page.mouse.move(box.x - 50, box.y - 50);
    await expect(mark).toHaveCount(0);

    // Top processes: the renamed dd, with all its writes.
    const processes = panel.getByRole('table', { name: 'Top processes' });
    const mine = processes.locator(`tbody tr[data-comm="${PROGRAM}"][data-pid="${pid}"]`);
    await expect(mine).toHaveAttribute('data-count', String(listed));
    await expect(processes.locator('tbody tr').first()).toContainText(PROGRAM);

    // The threshold control shows the capture, and changes it for the running tracer.
    const control = panel.locator('form.threshold');
    await expect(control).toHaveAttribute('data-threshold', '0');
    await expect(control).toContainText('every I/O');
    await control.getByRole('textbox', { name: 'Threshold' }).fill('5ms');
    await control.getByRole('textbox', { name: 'Threshold' }).press('Enter');
    await expect(control).toHaveAttribute('data-threshold', '5000000');
    await expect(control).toContainText('I/Os of 5 ms or more');
  });
});
