/**
 * GET /metrics: every count the source produced since start, for Prometheus to scrape.
 *
 * The exporter adds each column to per-(metric, device, op) cumulative counts as it passes
 * through the sink, so a scrape costs a walk over the populated slots, never over the history.
 * The format follows the scraper's Accept header: the protobuf exposition (native histograms)
 * for a Prometheus with native histograms on, the text format (classic buckets) for anyone else;
 * gzip when asked for, as Prometheus does.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Request, Response } from 'express';
import type { Column, DeviceOpCount } from '../../shared/column.ts';
import { OPS, SLOTS, type Metric, type Op } from '../../shared/scheme.ts';
import { encodeProtobuf, encodeText, PROTOBUF_CONTENT_TYPE, TEXT_CONTENT_TYPE, type CounterSample, type Exposition } from '../formats/exposition.ts';
import type { StreamSource } from './ws.ts';

/** The package's version, for bpfheat_build_info. */
function packageVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

interface Totals {
  readonly metric: Metric;
  readonly device: number;
  readonly op: Op;
  readonly counts: Float64Array;
}

interface DeviceOpTotal {
  readonly device: number;
  readonly op: Op;
  count: number;
}

const deviceOpKey = (device: number, op: Op): string => `${device}/${op}`;

function addPerDeviceOp(totals: Map<string, DeviceOpTotal>, counts: readonly DeviceOpCount[]): void {
  for (const { device, op, count } of counts) {
    const key = deviceOpKey(device, op);
    const entry = totals.get(key) ?? { device, op, count: 0 };
    entry.count += count;
    totals.set(key, entry);
  }
}

export class MetricsExporter {
  private readonly totals = new Map<string, Totals>();
  private readonly dropped = new Map<string, DeviceOpTotal>();
  private readonly unseen = new Map<string, DeviceOpTotal>();
  private newestEndMs: number | null = null;
  private readonly version = packageVersion();
  /** the totals begin with this exporter: a new process, or a new exporter, is a restart */
  private readonly startTimeSeconds = Date.now() / 1000;

  constructor(private readonly source: StreamSource) {}

  /** Adds a column's counts to the cumulative totals. */
  add(column: Column): void {
    for (const series of column.series) {
      const key = `${series.metric}/${series.device}/${series.op}`;
      let totals = this.totals.get(key);
      if (!totals) {
        totals = { metric: series.metric, device: series.device, op: series.op, counts: new Float64Array(SLOTS) };
        this.totals.set(key, totals);
      }
      for (let k = 0; k < series.slots.length; k++) totals.counts[series.slots[k]!]! += series.counts[k]!;
    }
    addPerDeviceOp(this.dropped, column.droppedExemplars ?? []);
    addPerDeviceOp(this.unseen, column.unseen ?? []);
    this.newestEndMs = Math.max(this.newestEndMs ?? 0, column.startMs + column.intervalMs);
  }

  /**
   * Unseen completions of every device and op with a histogram, 0 where none yet: a counter
   * that appeared only at its first increment would lose that increment to rate() and increase().
   */
  private unseenOfEverySeries(): DeviceOpTotal[] {
    const all = new Map(this.unseen);
    for (const t of this.totals.values()) {
      const key = deviceOpKey(t.device, t.op);
      if (!all.has(key)) all.set(key, { device: t.device, op: t.op, count: 0 });
    }
    return [...all.values()];
  }

  exposition(): Exposition {
    const names = new Map(this.source.devices().map((d) => [d.id, d.name]));
    const name = (device: number): string => names.get(device) ?? `dev${device}`;
    const order = (a: { device: number; op: Op }, b: { device: number; op: Op }): number => a.device - b.device || OPS.indexOf(a.op) - OPS.indexOf(b.op);
    const stats = this.source.selfStats();
    const uncounted: CounterSample[] | null = stats && [
      { labels: { reason: 'missed_start' }, value: stats.missedStart },
      { labels: { reason: 'start_failed' }, value: stats.startFailed },
      { labels: { reason: 'ring_overrun' }, value: stats.ringOverrun },
      { labels: { reason: 'device_overflow' }, value: stats.deviceOverflow },
      { labels: { reason: 'partial' }, value: stats.partial },
    ];
    return {
      histograms: [...this.totals.values()].sort(order).map((t) => ({ metric: t.metric, device: name(t.device), op: t.op, counts: t.counts })),
      droppedExemplars: [...this.dropped.values()].sort(order).map((d) => ({ labels: { device: name(d.device), op: d.op }, value: d.count })),
      unseen: this.unseenOfEverySeries().sort(order).map((u) => ({ labels: { device: name(u.device), op: u.op }, value: u.count })),
      uncounted,
      buildInfo: { version: this.version, source: this.source.kind },
      startTimeSeconds: this.startTimeSeconds,
      timestampMs: this.newestEndMs,
    };
  }
}

/** Whether an Accept header asks for the protobuf exposition of MetricFamily messages. */
export function wantsProtobuf(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (type !== 'application/vnd.google.protobuf') return false;
    const q = params.find((p) => p.startsWith('q='));
    return params.includes('proto=io.prometheus.client.metricfamily') && params.includes('encoding=delimited') && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** The /metrics route: negotiates the format, compresses when the scraper accepts gzip. */
export function serveMetrics(exporter: MetricsExporter): (req: Request, res: Response) => void {
  return (req, res) => {
    const protobuf = wantsProtobuf(req.headers.accept);
    const exposition = exporter.exposition();
    const body = protobuf ? Buffer.from(encodeProtobuf(exposition)) : Buffer.from(encodeText(exposition), 'utf8');
    res.set({ 'Cache-Control': 'no-store', 'Content-Type': protobuf ? PROTOBUF_CONTENT_TYPE : TEXT_CONTENT_TYPE, Vary: 'Accept, Accept-Encoding' });
    // level 1: a third of the time of the default level for 2 % more bytes, on every scrape
    if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) res.set('Content-Encoding', 'gzip').send(gzipSync(body, { level: 1 }));
    else res.send(body);
  };
}
