/**
 * A real Prometheus (Debian's /usr/bin/prometheus, installed by scripts/setup.sh --test) started
 * by a test: its own TSDB directory, a free loopback port, 1-s scrapes of the targets given,
 * stopped by its PID and its directory removed. Plus recordings of known columns for bpfheat to
 * replay as hosts, and a decoder of the /metrics protobuf with the vendored metrics.proto.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { Column, DeviceInfo } from '../shared/column.ts';
import { OPS, SLOTS, type Op } from '../shared/scheme.ts';
import { metricFamily, slotOfNativeBucket } from '../server/formats/exposition.ts';
import { seededRandom } from './random.ts';
import { columnLine, endLine, headerLine } from '../server/formats/recording.ts';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

/** Why Prometheus tests cannot run here, or null. Under CI a reason is a failure, not a skip. */
export function prometheusSkipReason(): string | null {
  const reason = existsSync(PROMETHEUS_BIN) ? null : `${PROMETHEUS_BIN} is missing: run scripts/setup.sh --test (it installs Debian's prometheus)`;
  if (reason && process.env.CI === 'true') throw new Error(`CI=true, so Prometheus tests may not skip: ${reason}`);
  return reason;
}

/** A loopback port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Target {
  readonly address: string;
  /** a bearer token for the scrape, when the target wants one */
  readonly token?: string;
}

export interface RunningPrometheus {
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  /** GET /api/v1/<path> and return the data of a successful answer */
  api(path: string, params?: Record<string, string>): Promise<unknown>;
  log(): string;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping each target every second (or scrapeInterval; with native histograms when asked) and waits until it is ready. */
export async function startPrometheus(targets: readonly Target[], options: { nativeHistograms: boolean; scrapeInterval?: string; adminApi?: boolean }): Promise<RunningPrometheus> {
  const every = options.scrapeInterval ?? '1s';
  const dir = mkdtempSync(join(tmpdir(), 'bpfheat-prometheus-'));
  const port = await freePort();
  const jobs = targets.map((t, k) => [
    `  - job_name: bpfheat${k}`,
    `    scrape_interval: ${every}`,
    `    scrape_timeout: ${every}`,
    ...(t.token ? [`    authorization: {credentials: "${t.token}"}`] : []),
    `    static_configs: [{targets: ["${t.address}"]}]`,
  ]);
  writeFileSync(join(dir, 'prometheus.yml'), [`global: {scrape_interval: ${every}, scrape_timeout: ${every}, evaluation_interval: 1s}`, 'scrape_configs:', ...jobs.flat(), ''].join('\n'));
  const args = [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`];
  if (options.nativeHistograms) args.push('--enable-feature=native-histograms');
  if (options.adminApi) args.push('--web.enable-admin-api');
  const child: ChildProcess = spawn(PROMETHEUS_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (log = (log + s).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited at start: ${log.slice(-2000)}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within 30 s: ${log.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    dir,
    pid: child.pid!,
    async api(path, params = {}) {
      const answer = (await (await fetch(`${url}/api/v1/${path}?${new URLSearchParams(params)}`)).json()) as { status: string; data: unknown; error?: string };
      if (answer.status !== 'success') throw new Error(`prometheus ${path}: ${answer.error}`);
      return answer.data;
    },
    log: () => log,
    stop,
  };
}

/** Polls check() every 250 ms until it returns a value other than null. */
export async function eventually<T>(what: string, check: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Columns of a busy and an idle device: latency and size per op, with counts drawn from the seed,
 * empty columns, and a device (idle0) that is in the table but never does I/O. The first column
 * is empty as a live tracer's is: Prometheus 2.42 was seen to drop the first sample of a target
 * that came up after failed scrapes when that sample already held counts (it stored every later one).
 */
export function recordedColumns(seed: number, firstStartMs: number, intervalMs: number, count: number): Column[] {
  // seeded: each host's recording is different, but the same every run
  const random = seededRandom(seed);
  const columns: Column[] = [];
  for (let k = 0; k < count; k++) {
    const startMs = firstStartMs + k * intervalMs;
    const series = k === 0 || k === 4 ? [] : (['read', 'write'] as Op[]).flatMap((op) => {
      const latency = new Map<number, number>();
      for (let n = 0; n < 6; n++) {
        const slot = 80 + Math.floor(random() * 80);
        latency.set(slot, (latency.get(slot) ?? 0) + 1 + Math.floor(random() * 50));
      }
      if (k === 3) latency.set(0, 2);
      const slots = [...latency.keys()].sort((a, b) => a - b);
      const total = slots.reduce((t, s) => t + latency.get(s)!, 0);
      return [
        { metric: 'latency' as const, device: 0, op, slots, counts: slots.map((s) => latency.get(s)!) },
        { metric: 'size' as const, device: 0, op, slots: [98 + OPS.indexOf(op) * 8], counts: [total] },
      ];
    });
    columns.push({ seq: startMs / intervalMs, startMs, intervalMs, series });
  }
  return columns;
}

export const RECORDED_DEVICES: DeviceInfo[] = [
  { id: 0, name: 'busy0' },
  { id: 1, name: 'idle0' },
];

/** Writes columns as a recording file of `host` and returns its path. */
export function writeRecording(dir: string, host: string, columns: readonly Column[]): string {
  const path = join(dir, `${host}.bpfheat.jsonl`);
  const first = columns[0]!;
  const last = columns[columns.length - 1]!;
  writeFileSync(
    path,
    [
      headerLine({ intervalMs: first.intervalMs, source: 'bpf', host, startedMs: first.startMs, devices: RECORDED_DEVICES }),
      ...columns.map(columnLine),
      endLine(last.startMs + last.intervalMs, columns.length),
    ].join(''),
  );
  return path;
}

export interface DecodedHistogram {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly timestampMs: number | null;
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly sampleCount: number;
  /** slot counts rebuilt from the zero count, spans and deltas */
  readonly counts: Float64Array;
}

export interface DecodedCounter {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Every native histogram and counter of a protobuf exposition, decoded with the vendored metrics.proto. */
export function decodeNativeHistograms(bytes: Uint8Array): { histograms: DecodedHistogram[]; counters: DecodedCounter[]; families: string[] } {
  const type = metricFamily();
  const reader = protobuf.Reader.create(bytes);
  const histograms: DecodedHistogram[] = [];
  const counters: DecodedCounter[] = [];
  const families: string[] = [];
  while (reader.pos < reader.len) {
    const family = type.toObject(type.decodeDelimited(reader), { longs: Number, defaults: true }) as {
      name: string;
      metric: {
        label: { name: string; value: string }[];
        timestampMs: number;
        histogram?: { schema: number; zeroThreshold: number; zeroCount: number; sampleCount: number; positiveSpan: { offset: number; length: number }[]; positiveDelta: number[] };
        counter?: { value: number };
      }[];
    };
    families.push(family.name);
    for (const metric of family.metric) {
      const labels = Object.fromEntries(metric.label.map((l) => [l.name, l.value]));
      if (metric.counter) counters.push({ name: family.name, labels, value: metric.counter.value });
      const h = metric.histogram;
      if (!h || h.positiveSpan === undefined) continue;
      const counts = new Float64Array(SLOTS);
      counts[0] = h.zeroCount;
      let index = 0;
      let delta = 0;
      let count = 0;
      h.positiveSpan.forEach((span, s) => {
        index += span.offset + (s === 0 ? 0 : 1);
        for (let j = 0; j < span.length; j++) {
          count += h.positiveDelta[delta++]!;
          counts[slotOfNativeBucket(0, 2 ** ((index + j) / 8))] = count;
        }
        index += span.length - 1;
      });
      histograms.push({
        name: family.name,
        labels,
        timestampMs: metric.timestampMs || null,
        schema: h.schema,
        zeroThreshold: h.zeroThreshold,
        sampleCount: h.sampleCount,
        counts,
      });
    }
  }
  return { histograms, counters, families };
}
