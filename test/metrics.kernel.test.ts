/**
 * /metrics of the live tracer: `bpfheat --exporter` traces while a loop device of the test's own
 * gets 300 direct 4 KiB writes and 200 reads (each one request); the protobuf exposition then
 * counts exactly those on that device (in its histograms, or the few no program saw in
 * bpfheat_io_unseen_total), every size in the 4 KiB bucket, and the text format's
 * classic buckets agree with it. And the dashboard's /metrics, scraped while fio runs on such a
 * device, holds bucket for bucket the counts of the live columns the same process serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../shared/buckets.ts';
import { SLOTS } from '../shared/scheme.ts';
import { HISTOGRAM_NAMES, PROTOBUF_CONTENT_TYPE, UNCOUNTED_NAME, UNSEEN_NAME } from '../server/formats/exposition.ts';
import { createLoopDevice, directIo, fioRandrw, kernelSkipReason, unseenAllowed, type LoopDevice } from './kernel.ts';
import { decodeNativeHistograms, eventually, type DecodedHistogram } from './prometheus-harness.ts';
import { serve, type Served } from './server-harness.ts';

const skip = kernelSkipReason();
const WRITES = 300;
const READS = 200;

describe.skipIf(skip !== null)(`/metrics of the live tracer${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let served: Served;
  let histograms: DecodedHistogram[];
  /** the device's completions of an op that the kernel accounted while no program saw them (about one in 10,000) */
  let unseen: (op: string) => number;

  beforeAll(async () => {
    loop = createLoopDevice();
    // the URL line comes once the programs are attached
    served = await serve(['--exporter', '--port', '0', '--interval', '250']);
    directIo(loop, 'write', WRITES);
    directIo(loop, 'read', READS);
    let seen = 'no answer';
    const exposition = await eventually(`the loop device's I/O in /metrics (${WRITES + READS} on ${loop.name})`, async () => {
      const answer = await fetch(`${served.base}/metrics`, { headers: { Accept: PROTOBUF_CONTENT_TYPE } });
      const decoded = decodeNativeHistograms(new Uint8Array(await answer.arrayBuffer()));
      const mine = <T extends { labels: Record<string, string> }>(list: T[]) => list.filter((x) => x.labels.device === loop.name);
      const counted = mine(decoded.histograms).filter((h) => h.name === HISTOGRAM_NAMES.latency).reduce((sum, h) => sum + h.sampleCount, 0);
      const missed = mine(decoded.counters).filter((c) => c.name === UNSEEN_NAME).reduce((sum, c) => sum + c.value, 0);
      const uncounted = decoded.counters.filter((c) => c.name === UNCOUNTED_NAME && c.value > 0).map((c) => `${c.labels.reason} ${c.value}`);
      const devices = [...new Set(decoded.histograms.map((h) => h.labels.device))];
      seen = `counted ${counted}, unseen ${missed}; uncounted on every device: ${uncounted.join(', ') || 'none'}; devices: ${devices.join(' ')}`;
      return counted + missed >= WRITES + READS ? { histograms: mine(decoded.histograms), unseen: mine(decoded.counters).filter((c) => c.name === UNSEEN_NAME) } : null;
    }, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; the last answer: ${seen}`);
    });
    histograms = exposition.histograms;
    unseen = (op) => exposition.unseen.find((c) => c.labels.op === op)?.value ?? 0;
  }, 120_000);

  afterAll(async () => {
    await served?.stop();
    loop?.remove();
  });

  it('counts every request on the device exactly, per op, in latency and in size, or as unseen', () => {
    const count = (name: string, op: string): number => (histograms.find((h) => h.name === name && h.labels.op === op)?.sampleCount ?? 0) + unseen(op);
    expect([count(HISTOGRAM_NAMES.latency, 'write'), count(HISTOGRAM_NAMES.latency, 'read')]).toEqual([WRITES, READS]);
    expect([count(HISTOGRAM_NAMES.size, 'write'), count(HISTOGRAM_NAMES.size, 'read')]).toEqual([WRITES, READS]);
    expect(unseen('write') + unseen('read'), 'unseen completions').toBeLessThan(unseenAllowed(WRITES + READS));
    for (const h of histograms.filter((x) => x.name === HISTOGRAM_NAMES.size)) {
      expect(h.counts[slotOf(4096)], `${h.labels.op}: every request is 4 KiB`).toBe(h.sampleCount);
    }
  });

  it('gives the same counts in the text format, as classic buckets', async () => {
    const text = await (await fetch(`${served.base}/metrics`)).text();
    const line = (metric: string, op: string, le: string): number => {
      const match = new RegExp(`^${metric}_bucket\\{device="${loop.name}",op="${op}",le="${le.replace('+', '\\+')}"\\} (\\d+) \\d+$`, 'm').exec(text);
      expect(match, `${metric} ${op} le=${le}`).not.toBeNull();
      return Number(match![1]);
    };
    expect(line(HISTOGRAM_NAMES.size, 'write', '2048')).toBe(0);
    expect(line(HISTOGRAM_NAMES.size, 'write', '4096')).toBe(WRITES - unseen('write'));
    expect(line(HISTOGRAM_NAMES.latency, 'read', '+Inf')).toBe(READS - unseen('read'));
    const latency = histograms.find((h) => h.name === HISTOGRAM_NAMES.latency && h.labels.op === 'write')!;
    const below64us = Array.from(latency.counts).reduce((sum, c, slot) => (slot <= slotOf(65_536) ? sum + c : sum), 0);
    expect(line(HISTOGRAM_NAMES.latency, 'write', '65536')).toBe(below64us);
  });
});

interface ColumnsAnswer {
  readonly columns: { readonly startMs: number; readonly slots: number[]; readonly counts: number[] }[];
}

/** Prometheus 2.42's Accept header with native histograms on */
const PROMETHEUS_ACCEPT = `${PROTOBUF_CONTENT_TYPE};q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2`;
const FIO_SECONDS = 4;
const INTERVAL_MS = 200;

/** One histogram of the loop device in one scrape, beside the sum of the columns up to the scrape's timestamp. */
interface Compared {
  readonly label: string;
  readonly timestampMs: number;
  readonly scraped: number[];
  readonly columns: number[];
}

describe.skipIf(skip !== null)(`/metrics of the live dashboard against its own columns${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let served: Served;

  beforeAll(async () => {
    loop = createLoopDevice();
    served = await serve(['--port', '0', '--interval', String(INTERVAL_MS)]);
  }, 60_000);

  afterAll(async () => {
    await served?.stop();
    loop?.remove();
  });

  /** Scrapes /metrics, then sums the columns each of the loop device's histograms counts. */
  async function scrapeAgainstColumns(): Promise<Compared[]> {
    const answer = await fetch(`${served.base}/metrics`, { headers: { Accept: PROMETHEUS_ACCEPT } });
    const histograms = decodeNativeHistograms(new Uint8Array(await answer.arrayBuffer())).histograms.filter((h) => h.labels.device === loop.name);
    const compared = [];
    for (const h of histograms) {
      const metric = h.name === HISTOGRAM_NAMES.latency ? 'latency' : 'size';
      // the columns are asked for after the scrape: every column the scrape counted is in the history by then
      const columns = (await served.get(`/api/columns?from=0&to=${h.timestampMs}&metric=${metric}&device=${loop.name}&op=${h.labels.op}`)).body as ColumnsAnswer;
      const summed = new Float64Array(SLOTS);
      for (const column of columns.columns) column.slots.forEach((slot, k) => (summed[slot]! += column.counts[k]!));
      compared.push({ label: `${h.name} ${h.labels.op} up to ${h.timestampMs}`, timestampMs: h.timestampMs!, scraped: Array.from(h.counts), columns: Array.from(summed) });
    }
    return compared;
  }

  it('scraped while fio runs, decodes bucket for bucket to the live columns up to its timestamp, every scrape', async () => {
    const fio = fioRandrw(loop, FIO_SECONDS);
    let fioDone = false;
    void fio.then(() => (fioDone = true), () => (fioDone = true));
    const scrapes: Compared[][] = [];
    while (!fioDone) scrapes.push(await scrapeAgainstColumns());
    await fio;
    // a scrape whose newest column ends after fio did counts every one of fio's completions
    const fioEndedMs = Date.now();
    const final = await eventually('a scrape of a column after fio ended', async () => {
      const compared = await scrapeAgainstColumns();
      return compared.length > 0 && compared.every((c) => c.timestampMs > fioEndedMs + INTERVAL_MS) ? compared : null;
    }, 30_000);
    scrapes.push(final);
    const busy = scrapes.filter((s) => s.some((c) => c.scraped.some((n) => n > 0)));
    expect(busy.length, 'scrapes that saw I/O on the device while fio ran').toBeGreaterThan(3);
    for (const scrape of scrapes) for (const c of scrape) expect(c.scraped, c.label).toEqual(c.columns);
    const latencyBuckets = final.filter((c) => c.label.startsWith(HISTOGRAM_NAMES.latency)).map((c) => c.scraped.filter((n) => n > 0).length);
    expect(Math.max(...latencyBuckets), 'latency spread over several buckets').toBeGreaterThan(3);
    expect(final.map((c) => c.label.split(' ').slice(0, 2).join(' ')).sort()).toEqual(
      [`${HISTOGRAM_NAMES.latency} read`, `${HISTOGRAM_NAMES.latency} write`, `${HISTOGRAM_NAMES.size} read`, `${HISTOGRAM_NAMES.size} write`],
    );
  }, 90_000);
});
