/**
 * The dashboard app in-process for tests: a source the test controls, a real listening port,
 * real ws clients. Closed after each test by closeAll().
 */
import WebSocket from 'ws';
import type { Column, DeviceInfo } from '../shared/column.ts';
import { decodePackedColumns, decodeServerMessage, type ExemplarCapture, type PackedColumns, type SelfStats, type ServerMessage } from '../shared/protocol.ts';
import { createDashboard, type Dashboard, type DashboardOptions } from '../server/dashboard/app.ts';
import { bundleOf } from '../server/dashboard/bundle.ts';
import { History, defaultLevels } from '../server/dashboard/history.ts';
import { accessPolicy } from '../server/dashboard/security.ts';
import type { StreamSource } from '../server/dashboard/ws.ts';

export const INTERVAL_MS = 1000;

export class FakeSource implements StreamSource {
  readonly kind = 'replay' as const;
  readonly intervalMs = INTERVAL_MS;
  table: DeviceInfo[] = [{ id: 0, name: 'sda' }];
  stats: SelfStats | null = null;
  devices(): readonly DeviceInfo[] {
    return this.table;
  }
  selfStats(): SelfStats | null {
    return this.stats;
  }
}

/** A fake live source: its exemplar threshold can be set, as the BPF tracer's can. */
export class FakeLiveSource extends FakeSource {
  capture: ExemplarCapture = { thresholdNs: null, perBucketPerSecond: 200 };
  exemplarCapture(): ExemplarCapture {
    return this.capture;
  }
  setExemplarThreshold(ns: number | null): void {
    this.capture = { ...this.capture, thresholdNs: ns };
  }
}

export function column(seq: number, device = 0, count = 1): Column {
  return { seq, startMs: seq * INTERVAL_MS, intervalMs: INTERVAL_MS, series: [{ metric: 'latency', device, op: 'read', slots: [100], counts: [count] }] };
}

let running: Dashboard[] = [];

export async function start<S extends FakeSource = FakeSource>(
  overrides: Partial<DashboardOptions> = {},
  source: S = new FakeSource() as S,
): Promise<{ dashboard: Dashboard; url: string; source: S; history: History }> {
  const history = new History(10_000, defaultLevels(source.intervalMs, 10_000));
  const dashboard = createDashboard({
    source,
    history,
    bundle: bundleOf({ '/index.html': '<!doctype html><title>t</title>' }),
    policy: accessPolicy('127.0.0.1', null),
    listen: '127.0.0.1',
    ...overrides,
  });
  running.push(dashboard);
  await new Promise<void>((resolve) => dashboard.server.listen(0, '127.0.0.1', resolve));
  return { dashboard, url: `http://127.0.0.1:${dashboard.port()}`, source, history };
}

export async function closeAll(): Promise<void> {
  await Promise.all(running.map((d) => d.close()));
  running = [];
}

export interface Client {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[];
  /** binary messages (packed columns), each with the number of text messages that came before it */
  readonly packed: { readonly after: number; readonly columns: PackedColumns }[];
  closed: number | null;
}

/** A WebSocket client of the dashboard at `url`; `query` is the upgrade's query string (`?step=…`). */
export function connect(url: string, options: WebSocket.ClientOptions = {}, query = ''): Promise<Client> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws${query}`, options);
  const client: Client = { ws, messages: [], packed: [], closed: null };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) client.packed.push({ after: client.messages.length, columns: decodePackedColumns(data) });
    else client.messages.push(decodeServerMessage(data.toString()));
  });
  ws.on('close', (code) => (client.closed = code));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
  });
}

export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

