/**
 * Prometheus: what a scrape of a busy host costs, and how long a day of a fleet takes to draw
 * when it is read back from Prometheus.
 *
 *   node --import tsx bench/prometheus.ts [--hosts 10] [--steps 1440]
 *
 * Scrape: `bpfheat --exporter` replaying a busy host (8 devices × 4 ops, latency over 120
 * buckets, size over 12: every bucket populated, the worst case) is asked for /metrics as
 * Prometheus asks (protobuf, gzip) 200 times; the figures are the median and p95 answer time on
 * the wire and the size of the answer, compressed and not.
 *
 * Fleet: N exporters (in this process) each hand Prometheus (Debian's 2.42, native histograms, its
 * own TSDB) the next of S cumulative states per scrape, stamped 2 s apart: S steps of N hosts ×
 * 2 devices × 2 ops, the shape of a 24-h view at 1-min steps (S = 1440). Prometheus accepts
 * back-dated samples only within the hour before its newest one, so the steps are 2 s apart over
 * the last 48 minutes rather than 1 min apart over a day; the query, the differencing and the
 * drawing see the same number of samples, series and buckets. Then `bpfheat --source prometheus
 * --interval 2000` reads the fleet's sum (timed until /api/meta holds every column) and Chromium
 * opens the page over the whole span (timed until it is drawn whole, as bench/client-draw.ts
 * does): the default view. Then the page names one host (?host=, as its Hosts filter does), which
 * makes the server read that host's history: timed until the host's /api/meta holds every column,
 * and until its page is drawn whole.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Column } from '../shared/column.ts';
import { OPS, SLOTS, type Op } from '../shared/scheme.ts';
import { encodeProtobuf, PROTOBUF_CONTENT_TYPE, type HistogramTotals } from '../server/formats/exposition.ts';
import { columnLine, endLine, headerLine } from '../server/formats/recording.ts';
import { freePort, startPrometheus, type RunningPrometheus } from '../test/prometheus-harness.ts';
import { waitFor, type HookState } from './client-draw.ts';
import { isMain, onCleanup, runMain } from './lib/cleanup.ts';
import { atMost, heading, info, machineLine, numberOption, printFigures, quantile, say, sleep, type Figure } from './lib/report.ts';
import { startTool } from './lib/system.ts';

const PART = 'Prometheus';
const BIN = fileURLToPath(new URL('../bin/bpfheat.js', import.meta.url));
const PROMETHEUS_ACCEPT = `${PROTOBUF_CONTENT_TYPE};q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2`;
const SCRAPES = 200;
const STEP_MS = 2000;
/** the exporters of the benchmark count from its start: none restarts */
const BENCH_STARTED_S = Date.now() / 1000;

/** Counts that do not repeat in a pattern gzip could exploit (a seeded linear congruential generator). */
function counter(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return 1 + (state % limit);
  };
}

/** One column of a busy host: every (device, op) with every latency bucket from 2^10 to 2^25 ns populated. */
function busyColumn(seq: number): Column {
  const count = counter(seq);
  const series = [];
  for (let device = 0; device < 8; device++) {
    for (const op of ['read', 'write', 'flush', 'discard'] as Op[]) {
      const latencySlots = Array.from({ length: 120 }, (_, k) => 82 + k);
      series.push({ metric: 'latency' as const, device, op, slots: latencySlots, counts: latencySlots.map(() => count(5000)) });
      const sizeSlots = Array.from({ length: 12 }, (_, k) => 98 + 8 * (k % 6) + (k >= 6 ? 1 : 0)).sort((a, b) => a - b);
      series.push({ metric: 'size' as const, device, op, slots: sizeSlots, counts: sizeSlots.map(() => count(900)) });
    }
  }
  return { seq, startMs: seq * 1000, intervalMs: 1000, series };
}

/** The cumulative totals of the busy columns, as the exporter holds them. */
function busyTotals(columns: readonly Column[]): HistogramTotals[] {
  const totals = new Map<string, HistogramTotals & { counts: Float64Array }>();
  for (const column of columns) {
    for (const s of column.series) {
      const key = `${s.metric}/${s.device}/${s.op}`;
      const entry = totals.get(key) ?? { metric: s.metric, device: `nvme${s.device}n1`, op: s.op, counts: new Float64Array(SLOTS) };
      s.slots.forEach((slot, k) => (entry.counts[slot]! += s.counts[k]!));
      totals.set(key, entry);
    }
  }
  return [...totals.values()];
}

async function scrapeCost(dir: string): Promise<Figure[]> {
  const first = Math.floor(Date.now() / 1000) - 600;
  const columns = Array.from({ length: 600 }, (_, k) => busyColumn(first + k));
  const devices = Array.from({ length: 8 }, (_, id) => ({ id, name: `nvme${id}n1` }));
  const path = join(dir, 'busy.bpfheat.jsonl');
  writeFileSync(path, [headerLine({ intervalMs: 1000, source: 'bpf', host: 'busy', startedMs: first * 1000, devices }), ...columns.map(columnLine), endLine((first + 600) * 1000, 600)].join(''));
  const port = await freePort();
  const exporter = await startTool('bpfheat --exporter', process.execPath, [BIN, '--exporter', '--replay', path, '--speed', '0', '--port', String(port)], /^bpfheat: exporter on/m);
  const url = `http://127.0.0.1:${port}/metrics`;
  const exposition = { histograms: busyTotals(columns), droppedExemplars: [], unseen: [], uncounted: null, buildInfo: { version: 'bench', source: 'bench' }, startTimeSeconds: BENCH_STARTED_S, timestampMs: Date.now() };
  const encodeTimes: number[] = [];
  for (let k = 0; k < SCRAPES; k++) {
    const started = performance.now();
    gzipSync(encodeProtobuf(exposition), { level: 1 });
    encodeTimes.push(performance.now() - started);
  }
  const encodeMs = quantile(encodeTimes, 0.5);
  const times: number[] = [];
  let gzipped = 0;
  for (let k = 0; k < SCRAPES; k++) {
    const started = performance.now();
    const response = await fetch(url, { headers: { Accept: PROMETHEUS_ACCEPT, 'Accept-Encoding': 'gzip' } });
    await response.arrayBuffer();
    times.push(performance.now() - started);
    gzipped = Number(response.headers.get('content-length') ?? 0);
  }
  const raw = (await (await fetch(url, { headers: { Accept: PROMETHEUS_ACCEPT, 'Accept-Encoding': 'identity' } })).arrayBuffer()).byteLength;
  const text = (await (await fetch(url)).arrayBuffer()).byteLength;
  await exporter.stop();
  say(`  busy host (8 devices × 4 ops, 120 latency + 12 size buckets each): ${SCRAPES} scrapes, median ${quantile(times, 0.5).toFixed(2)} ms, p95 ${quantile(times, 0.95).toFixed(2)} ms over HTTP; encoding and gzip alone ${encodeMs.toFixed(2)} ms`);
  say(`  answer: ${(gzipped / 1024).toFixed(1)} KiB protobuf gzipped (as Prometheus asks), ${(raw / 1024).toFixed(1)} KiB protobuf, ${(text / 1024).toFixed(1)} KiB text with classic buckets`);
  return [
    atMost(PART, 'busy host /metrics scrape (median, HTTP round trip)', quantile(times, 0.5), 'ms', 5, '< 5 ms', 2),
    info(PART, 'busy host exposition encoded in process (median)', encodeMs, 'ms', 2),
    atMost(PART, 'busy host /metrics protobuf (gzipped)', gzipped / 1024, 'KiB', 20, '< 20 KB', 1),
    info(PART, 'busy host /metrics protobuf (not compressed)', raw / 1024, 'KiB', 1),
  ];
}

/** A host that hands out its next cumulative state at each scrape, stamped STEP_MS after the last. */
function steppingHost(seed: number, firstEndMs: number, steps: number): { server: Server; served: () => number } {
  const counts = new Map<string, Float64Array>();
  let step = 0;
  const server = createServer((_req, res) => {
    if (step < steps) {
      for (const device of ['sda', 'sdb']) {
        for (const op of ['read', 'write'] as Op[]) {
          const key = `${device}/${op}`;
          const c = counts.get(key) ?? new Float64Array(SLOTS);
          for (let k = 0; k < 40; k++) c[90 + ((k * 13 + step * 7 + seed * 3 + OPS.indexOf(op)) % 70)]! += 1 + ((k + step + seed) % 9);
          counts.set(key, c);
        }
      }
      step++;
    }
    const histograms: HistogramTotals[] = [...counts].map(([key, c]) => ({ metric: 'latency', device: key.split('/')[0]!, op: key.split('/')[1] as Op, counts: c }));
    const body = Buffer.from(encodeProtobuf({ histograms, droppedExemplars: [], unseen: [], uncounted: null, buildInfo: { version: 'bench', source: 'bench' }, startTimeSeconds: BENCH_STARTED_S, timestampMs: firstEndMs + (step - 1) * STEP_MS }));
    res.writeHead(200, { 'Content-Type': PROTOBUF_CONTENT_TYPE, 'Content-Encoding': 'gzip' }).end(gzipSync(body));
  });
  return { server, served: () => step };
}

/**
 * What a sample costs on disk: the head written out as a block (the admin API's snapshot, which
 * compacts the head's chunks as a 2-h block would be), divided by the histogram samples appended;
 * the series count from the TSDB status API.
 */
async function bytesPerSample(prometheus: RunningPrometheus): Promise<{ samples: number; series: number; buckets: number; blockBytes: number; perSample: number }> {
  const metrics = await (await fetch(`${prometheus.url}/metrics`)).text();
  const samples = Number(/^prometheus_tsdb_head_samples_appended_total\{type="histogram"\} (\S+)$/m.exec(metrics)?.[1] ?? 0);
  const status = (await prometheus.api('status/tsdb')) as { headStats: { numSeries: number } };
  const last = (await prometheus.api('query', { query: 'bpfheat_io_latency_nanoseconds' })) as { result: { histogram: [number, { buckets: unknown[] }] }[] };
  const buckets = Math.round(last.result.reduce((sum, r) => sum + r.histogram[1].buckets.length, 0) / Math.max(1, last.result.length));
  const snapshot = (await (await fetch(`${prometheus.url}/api/v1/admin/tsdb/snapshot`, { method: 'POST' })).json()) as { data: { name: string } };
  const blockBytes = Number(execFileSync('du', ['-sb', join(prometheus.dir, 'data', 'snapshots', snapshot.data.name)], { encoding: 'utf8' }).split('\t')[0]);
  return { samples, series: status.headStats.numSeries, buckets, blockBytes, perSample: blockBytes / Math.max(1, samples) };
}

/** Closes a host's server and the connections Prometheus keeps open to it. */
function closeHost(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function fleetDraw(hostCount: number, steps: number): Promise<Figure[]> {
  const firstEndMs = Math.floor((Date.now() - steps * STEP_MS - 120_000) / STEP_MS) * STEP_MS;
  const hosts = Array.from({ length: hostCount }, (_, k) => steppingHost(k, firstEndMs, steps));
  const ports: number[] = [];
  for (const host of hosts) {
    await new Promise<void>((resolve) => host.server.listen(0, '127.0.0.1', resolve));
    ports.push((host.server.address() as { port: number }).port);
    onCleanup('a stepping host', () => closeHost(host.server));
  }
  const prometheus = await startPrometheus(
    ports.map((port) => ({ address: `127.0.0.1:${port}` })),
    { nativeHistograms: true, scrapeInterval: '50ms', adminApi: true },
  );
  onCleanup('prometheus', () => prometheus.stop());
  const fillStarted = performance.now();
  while (hosts.some((h) => h.served() < steps)) await sleep(200);
  await sleep(500);
  say(`  ${hostCount} hosts × 2 devices × 2 ops, ${steps} steps stored in ${((performance.now() - fillStarted) / 1000).toFixed(0)} s`);
  // Stop the hosts: Prometheus's scrapes of them then fail at once, instead of ingesting and
  // refusing 200 repeated answers a second while the read and the drawing are timed.
  for (const host of hosts) await closeHost(host.server);
  const storage = await bytesPerSample(prometheus);
  say(`  on disk: ${storage.samples.toLocaleString('en-US')} histogram samples of ${storage.series} series (~${storage.buckets} populated buckets each) in a ${(storage.blockBytes / 2 ** 20).toFixed(1)} MiB block: ${storage.perSample.toFixed(0)} bytes per sample`);

  // history from well before the first step, so the page's window holds no unknown stretch
  const history = `${Math.ceil((Date.now() - firstEndMs) / 60_000) + 5}m`;
  const lastEndMs = firstEndMs + (steps - 1) * STEP_MS;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  onCleanup('chromium', () => browser.close());

  const span = (): number => Math.ceil((Date.now() - firstEndMs + 2 * STEP_MS) / 1000);
  const lastSeq = lastEndMs / STEP_MS - 1;

  /** A dashboard on Prometheus, timed from its URL line (the source starts reading just before the server listens). */
  async function startDashboard(): Promise<{ base: string; started: number; stop(): Promise<void>; output(): string }> {
    const port = await freePort();
    const tool = await startTool('bpfheat --source prometheus', process.execPath, [BIN, '--source', 'prometheus', '--prometheus', prometheus.url, '--interval', String(STEP_MS), '--history', history, '--port', String(port)], /^bpfheat: dashboard on/m);
    return { base: `http://127.0.0.1:${port}`, started: performance.now(), stop: () => tool.stop(), output: () => tool.output() };
  }
  /** Seconds from `started` until /api/meta (of the hosts named in `query`) holds the last step. */
  async function historyHeld(dashboard: { base: string; output(): string }, started: number, query: string): Promise<number> {
    for (;;) {
      const meta = await fetch(`${dashboard.base}/api/meta${query}`).then((r) => r.json() as Promise<{ history: { toMs: number | null } }>, () => null);
      if (meta?.history?.toMs && meta.history.toMs >= lastEndMs) return (performance.now() - started) / 1000;
      if (performance.now() - started > 300_000) throw new Error(`the dashboard did not read the history: ${dashboard.output()}`);
      await sleep(50);
    }
  }
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  const drawnWhole = (h: HookState): boolean => h.ready && h.idle && h.complete && h.newest >= lastSeq;

  // The default view, the fleet's sum: seconds until the dashboard holds the history, then until a page opened over it is drawn whole.
  const first = await startDashboard();
  const readS = await historyHeld(first, first.started, '');
  const drawStarted = performance.now();
  await page.goto(`${first.base}/?span=${span()}`);
  const drawn = await waitFor(page, drawnWhole, 120_000);
  const drawS = (performance.now() - drawStarted) / 1000;
  say(`  the fleet's sum (the default view): history read from Prometheus by the dashboard in ${readS.toFixed(2)} s; the page over the span drawn whole${drawnWhole(drawn) ? '' : ' (timed out: parts missing)'} in ${drawS.toFixed(2)} s`);
  await first.stop();

  // The same with the page opened as soon as the dashboard listens: it draws the history as it is read.
  const second = await startDashboard();
  await page.goto(`${second.base}/?span=${span()}`);
  const drawnAtOnce = await waitFor(page, drawnWhole, 120_000);
  const atOnceS = (performance.now() - second.started) / 1000;
  say(`  the same, the page opened as the dashboard starts: drawn whole${drawnWhole(drawnAtOnce) ? '' : ' (timed out: parts missing)'} ${atOnceS.toFixed(2)} s after the dashboard's start`);

  // One host, as the page's Hosts filter asks for it: the page opens on ?host=, which makes the server read that host's history.
  const host = `127.0.0.1:${ports[0]}`;
  const hostQuery = `?host=${encodeURIComponent(host)}`;
  const askedAt = performance.now();
  await page.goto(`${second.base}/?span=${span()}&host=${encodeURIComponent(host)}`);
  const hostReadS = await historyHeld(second, askedAt, hostQuery);
  const hostDrawn = await waitFor(page, drawnWhole, 120_000);
  const hostS = (performance.now() - askedAt) / 1000;
  say(`  one host on demand: its history read from Prometheus in ${hostReadS.toFixed(2)} s after the page asked; its page drawn whole${drawnWhole(hostDrawn) ? '' : ' (timed out: parts missing)'} ${hostS.toFixed(2)} s after it asked`);
  await page.close();
  await second.stop();
  await browser.close();
  await prometheus.stop();
  return [
    info(PART, `Prometheus TSDB bytes per native-histogram sample (~${storage.buckets} populated buckets)`, storage.perSample, 'B', 0),
    info(PART, `${hostCount} hosts × ${steps} steps, the fleet's sum (default view): history read from Prometheus`, readS, 's', 2),
    info(PART, `${hostCount} hosts × ${steps} steps, the fleet's sum (default view): page drawn whole`, drawS, 's', 2),
    atMost(PART, `${hostCount} hosts × ${steps} steps from Prometheus, the default view read and drawn`, readS + drawS, 's', 3, '< 3 s', 2),
    info(PART, `${hostCount} hosts × ${steps} steps, the default view with the page opened at the dashboard's start: drawn whole`, atOnceS, 's', 2),
    info(PART, `one of the ${hostCount} hosts on demand (?host=): its history read after the page asked`, hostReadS, 's', 2),
    info(PART, `one of the ${hostCount} hosts on demand (?host=): its page drawn whole after it asked`, hostS, 's', 2),
  ];
}

export async function benchPrometheus(options: { hosts: number; steps: number }): Promise<Figure[]> {
  heading(`${PART}: scrape cost and a fleet read back`);
  const dir = mkdtempSync(join(tmpdir(), 'bpfheat-bench-prom-'));
  onCleanup('the bench directory', () => rmSync(dir, { recursive: true, force: true }));
  return [...(await scrapeCost(dir)), ...(await fleetDraw(options.hosts, options.steps))];
}

if (isMain(import.meta.url)) {
  await runMain(async () => {
    say(machineLine());
    const figures = await benchPrometheus({ hosts: numberOption('hosts', 10), steps: numberOption('steps', 1440) });
    printFigures(figures);
  });
}
