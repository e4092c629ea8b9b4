/**
 * GET /metrics against the real command: the protobuf exposition decodes (with the vendored
 * metrics.proto) to exactly the counts of the columns the server holds up to the sample's
 * timestamp; the Accept header chooses protobuf or text; gzip when asked; the headless exporter
 * serves /metrics and /healthz only, under the same token rules as the dashboard.
 */
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOTS } from '../shared/scheme.ts';
import { HISTOGRAM_NAMES, PROTOBUF_CONTENT_TYPE, UNSEEN_NAME } from '../server/formats/exposition.ts';
import { decodeNativeHistograms } from './prometheus-harness.ts';
import { Recorder, rawGet, serve, wsUrl, type Served } from './server-harness.ts';

/** Prometheus 2.42's Accept header with native histograms on */
const PROMETHEUS_ACCEPT = `${PROTOBUF_CONTENT_TYPE};q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2`;

function getBytes(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface ColumnsAnswer {
  readonly columns: { readonly slots: number[]; readonly counts: number[] }[];
  readonly devices: { id: number; name: string }[];
}

describe('/metrics on the dashboard', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve(['--source', 'synthetic', '--seed', '5', '--port', '0', '--interval', '200']);
  });
  afterAll(async () => {
    await served?.stop();
  });

  it('decodes to exactly the counts of the columns up to its timestamp, per metric, device and op', async () => {
    const answer = await getBytes(served.port, '/metrics', { Accept: PROMETHEUS_ACCEPT });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(PROTOBUF_CONTENT_TYPE);
    const { histograms, counters, families } = decodeNativeHistograms(answer.body);
    expect(families).toEqual(expect.arrayContaining([HISTOGRAM_NAMES.latency, HISTOGRAM_NAMES.size, 'bpfheat_build_info']));
    expect(histograms.length).toBeGreaterThan(2);
    const timestampMs = histograms[0]!.timestampMs!;
    for (const h of histograms) {
      expect(h.timestampMs).toBe(timestampMs);
      expect(h.schema).toBe(3);
      const metric = h.name === HISTOGRAM_NAMES.latency ? 'latency' : 'size';
      const columns = (await served.get(`/api/columns?from=0&to=${timestampMs}&metric=${metric}&device=${h.labels.device}&op=${h.labels.op}`)).body as ColumnsAnswer;
      const expected = new Float64Array(SLOTS);
      for (const column of columns.columns) column.slots.forEach((slot, k) => (expected[slot]! += column.counts[k]!));
      expect(Array.from(h.counts), `${h.name} ${h.labels.device} ${h.labels.op}`).toEqual(Array.from(expected));
      expect(h.sampleCount).toBe(expected.reduce((a, b) => a + b, 0));
      // a synthetic source sees every completion: its unseen counter is there, at 0, from the start
      expect(counters.filter((c) => c.name === UNSEEN_NAME && c.labels.device === h.labels.device && c.labels.op === h.labels.op).map((c) => c.value)).toEqual([0]);
    }
  });

  it('answers the text format to a scraper that does not ask for protobuf, and gzip when asked', async () => {
    const text = await served.get('/metrics');
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text.text).toMatch(/^# TYPE bpfheat_io_latency_nanoseconds histogram$/m);
    expect(text.text).toMatch(/^bpfheat_io_latency_nanoseconds_bucket\{device="[^"]+",op="[a-z]+",le="\+Inf"\} \d+ \d+$/m);
    const zipped = await getBytes(served.port, '/metrics', { Accept: PROMETHEUS_ACCEPT, 'Accept-Encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(decodeNativeHistograms(gunzipSync(zipped.body)).histograms.length).toBeGreaterThan(2);
  });
});

describe('bpfheat --exporter', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve(['--exporter', '--source', 'synthetic', '--port', '0', '--interval', '200', '--listen', '0.0.0.0']);
  });
  afterAll(async () => {
    await served?.stop();
  });

  it('prints the /metrics URL with its token', () => {
    expect(served.line).toMatch(/^bpfheat: exporter on http:\/\/\S+\/metrics\?token=\S+ \(SYNTHETIC data/);
  });

  it('takes the token as a bearer token (as Prometheus sends it) or a query parameter, and refuses without', async () => {
    expect((await rawGet(served.port, '/metrics')).status).toBe(401);
    expect((await rawGet(served.port, '/metrics', { Authorization: 'Bearer not-the-token-at-all' })).status).toBe(401);
    const bearer = await getBytes(served.port, '/metrics', { Authorization: `Bearer ${served.token}`, Accept: PROMETHEUS_ACCEPT });
    expect(bearer.status).toBe(200);
    expect(decodeNativeHistograms(bearer.body).histograms.length).toBeGreaterThan(0);
    expect((await rawGet(served.port, `/metrics?token=${served.token}`)).status).toBe(200);
    expect((await rawGet(served.port, `/healthz?token=${served.token}`)).text).toBe('ok\n');
  });

  it('serves no page, no API and no WebSocket: one line says what it is', async () => {
    for (const path of ['/', '/api/meta', '/api/columns', '/assets/app-test.js']) {
      const res = await rawGet(served.port, `${path}?token=${served.token}`);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.text).error).toMatch(/headless exporter \(bpfheat --exporter\), serving \/metrics and \/healthz only/);
    }
    const refusal = await Recorder.refusal(wsUrl(served, `?token=${served.token}`), { headers: { Origin: `http://127.0.0.1:${served.port}` } });
    expect(refusal.status).toBe(404);
    expect(refusal.body).toMatch(/headless exporter/);
  });
});
