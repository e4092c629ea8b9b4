/**
 * /metrics of the live tracer: `bpfheat --exporter` traces while a loop device of the test's own
 * gets 300 direct 4 KiB writes and 200 reads (each one request); the protobuf exposition then
 * counts exactly those on that device, every size in the 4 KiB bucket, and the text format's
 * classic buckets agree with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../shared/buckets.ts';
import { HISTOGRAM_NAMES, PROTOBUF_CONTENT_TYPE } from '../server/formats/exposition.ts';
import { createLoopDevice, directIo, kernelSkipReason, type LoopDevice } from './kernel.ts';
import { decodeNativeHistograms, eventually, type DecodedHistogram } from './prometheus-harness.ts';
import { serve, type Served } from './server-harness.ts';

const skip = kernelSkipReason();
const WRITES = 300;
const READS = 200;

describe.skipIf(skip !== null)(`/metrics of the live tracer${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let served: Served;
  let histograms: DecodedHistogram[];

  beforeAll(async () => {
    loop = createLoopDevice();
    // the URL line comes once the programs are attached
    served = await serve(['--exporter', '--port', '0', '--interval', '250']);
    directIo(loop, 'write', WRITES);
    directIo(loop, 'read', READS);
    histograms = await eventually('the loop device\'s I/O in /metrics', async () => {
      const answer = await fetch(`${served.base}/metrics`, { headers: { Accept: PROTOBUF_CONTENT_TYPE } });
      const decoded = decodeNativeHistograms(new Uint8Array(await answer.arrayBuffer())).histograms.filter((h) => h.labels.device === loop.name);
      const total = decoded.filter((h) => h.name === HISTOGRAM_NAMES.latency).reduce((sum, h) => sum + h.sampleCount, 0);
      return total >= WRITES + READS ? decoded : null;
    }, 30_000);
  }, 120_000);

  afterAll(async () => {
    await served?.stop();
    loop?.remove();
  });

  it('counts every request on the device exactly, per op, in latency and in size', () => {
    const count = (name: string, op: string): number => histograms.find((h) => h.name === name && h.labels.op === op)?.sampleCount ?? 0;
    expect([count(HISTOGRAM_NAMES.latency, 'write'), count(HISTOGRAM_NAMES.latency, 'read')]).toEqual([WRITES, READS]);
    expect([count(HISTOGRAM_NAMES.size, 'write'), count(HISTOGRAM_NAMES.size, 'read')]).toEqual([WRITES, READS]);
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
    expect(line(HISTOGRAM_NAMES.size, 'write', '4096')).toBe(WRITES);
    expect(line(HISTOGRAM_NAMES.latency, 'read', '+Inf')).toBe(READS);
    const latency = histograms.find((h) => h.name === HISTOGRAM_NAMES.latency && h.labels.op === 'write')!;
    const below64us = Array.from(latency.counts).reduce((sum, c, slot) => (slot <= slotOf(65_536) ? sum + c : sum), 0);
    expect(line(HISTOGRAM_NAMES.latency, 'write', '65536')).toBe(below64us);
  });
});
