/**
 * Exemplars through the dashboard: /api/exemplars filters exactly at the edges of time and
 * latency and counts the drops of its range; a watching WebSocket client gets the stored ones,
 * then live ones inside its region only; the threshold changes while running.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { slotOf } from '../../shared/buckets.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import { encodeClientMessage, type ServerMessage } from '../../shared/protocol.ts';
import { closeAll, column, connect, FakeLiveSource, start, until } from '../../test/dashboard-harness.ts';

afterEach(closeAll);

const exemplar = (timeMs: number, latencyNs: number, device = 0, op: Exemplar['op'] = 'read', comm = 'pg'): Exemplar => ({
  timeMs,
  latencyNs,
  bytes: 8192,
  device,
  op,
  sector: Math.round(timeMs),
  pid: 100 + device,
  comm,
});

interface Answer {
  matched: number;
  truncated: boolean;
  dropped: number;
  exemplars: (Exemplar & { deviceName: string })[];
}

async function exemplars(url: string, query: string): Promise<Answer> {
  const response = await fetch(`${url}/api/exemplars?${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Answer;
}

async function served() {
  const started = await start();
  started.source.table = [{ id: 0, name: 'sda' }, { id: 1, name: 'nvme0n1' }];
  const { dashboard } = started;
  dashboard.sink.column({ ...column(1), droppedExemplars: [{ device: 0, op: 'read', count: 4 }, { device: 1, op: 'write', count: 2 }] });
  dashboard.sink.column({ ...column(2), droppedExemplars: [{ device: 0, op: 'read', count: 1 }] });
  // drops that carry their latency bucket: 2 at ~1 ms (slot 162), 3 at ~4 ms (slot 178)
  dashboard.sink.column({ ...column(3), droppedExemplars: [{ device: 0, op: 'read', count: 2, slot: slotOf(1_000_000) }, { device: 0, op: 'read', count: 3, slot: slotOf(4_000_000) }] });
  dashboard.sink.exemplars?.([
    exemplar(1000, 1_000_000),
    exemplar(1999.999, 2_000_000),
    exemplar(2000, 3_000_000, 1, 'write', 'fio'),
    exemplar(2999.5, 4_000_000),
    { ...exemplar(3500, 500_000), bytes: 1 << 20 },
    { ...exemplar(3600, 700_000), bytes: 131_072 },
  ]);
  return started;
}

describe('/api/exemplars', () => {
  it('takes from inclusive and to exclusive, to the microsecond', async () => {
    const { url } = await served();
    const times = async (from: number, to: number) => (await exemplars(url, `from=${from}&to=${to}&order=oldest`)).exemplars.map((e) => e.timeMs);
    expect(await times(1000, 2000)).toEqual([1000, 1999.999]);
    expect(await times(1001, 2001)).toEqual([1999.999, 2000]);
    expect(await times(2000, 3000)).toEqual([2000, 2999.5]);
  });

  it('takes lat_min and lat_max both inclusive', async () => {
    const { url } = await served();
    const latencies = async (min: number, max: number) =>
      (await exemplars(url, `from=0&to=5000&lat_min=${min}&lat_max=${max}`)).exemplars.map((e) => e.latencyNs);
    expect(await latencies(2_000_000, 3_000_000)).toEqual([3_000_000, 2_000_000]);
    expect(await latencies(2_000_001, 2_999_999)).toEqual([]);
    expect(await latencies(600_000, 1_000_000)).toEqual([1_000_000, 700_000]);
  });

  it('filters by device (name or id) and op, names the device, and counts the drops of the range', async () => {
    const { url } = await served();
    const nvme = await exemplars(url, 'from=0&to=5000&device=nvme0n1&op=write');
    expect(nvme.exemplars.map((e) => [e.comm, e.deviceName, e.pid])).toEqual([['fio', 'nvme0n1', 101]]);
    expect(nvme.dropped).toBe(2);
    expect((await exemplars(url, 'from=0&to=5000&device=0')).dropped).toBe(10);
    expect((await exemplars(url, 'from=2000&to=3000')).dropped).toBe(1);
  });

  it('counts the drops of the region’s latency buckets, where the drops carry one', async () => {
    const { url } = await served();
    const dropped = async (min: number, max: number) => (await exemplars(url, `from=3000&to=4000&lat_min=${min}&lat_max=${max}`)).dropped;
    expect(await dropped(0, Number.MAX_SAFE_INTEGER)).toBe(5);
    expect(await dropped(3_000_000, 5_000_000)).toBe(3);
    expect(await dropped(900_000, 1_100_000)).toBe(2);
    expect(await dropped(5_000_000, 9_000_000)).toBe(0);
  });

  it('lists the slowest first, or by the order asked for, at most limit, and says how many matched', async () => {
    const { url } = await served();
    const answer = await exemplars(url, 'from=0&to=5000&limit=2');
    expect(answer.exemplars.map((e) => e.latencyNs)).toEqual([4_000_000, 3_000_000]);
    expect(answer.matched).toBe(6);
    expect(answer.truncated).toBe(true);
    const first = async (order: string) => (await exemplars(url, `from=0&to=5000&limit=2&order=${order}`)).exemplars.map((e) => e.timeMs);
    expect(await first('newest')).toEqual([3600, 3500]);
    expect(await first('oldest')).toEqual([1000, 1999.999]);
    expect(await first('largest')).toEqual([3500, 3600]);
  });

  it('takes size_min and size_max both inclusive: a size region lists only I/Os of its sizes', async () => {
    const { url } = await served();
    const sizes = async (min: number, max: number) => (await exemplars(url, `from=0&to=5000&size_min=${min}&size_max=${max}`)).exemplars.map((e) => e.bytes);
    expect(await sizes(131_072, 1 << 20)).toEqual([131_072, 1 << 20]);
    expect(await sizes(131_073, 1 << 20)).toEqual([1 << 20]);
    expect(await sizes(0, 8192)).toEqual([8192, 8192, 8192, 8192]);
  });

  it.each([
    ['from=0&to=5000&lat_min=9&lat_max=3', /"lat_max" \(3\) must not be below "lat_min" \(9\)/],
    ['from=0&to=5000&lat_min=-1', /"lat_min" must be a whole number/],
    ['from=0&to=5000&limit=10001', /"limit" must be a whole number from 0 to 10000/],
    ['from=0&to=5000&metric=latency', /unknown query parameter "metric"/],
    ['from=0&to=5000&device=vdz', /unknown device "vdz"/],
    ['from=0&to=5000&size_min=9&size_max=3', /"size_max" \(3\) must not be below "size_min" \(9\)/],
    ['from=0&to=5000&order=first', /"order" must be one of slowest, largest, newest, oldest, got "first"/],
  ])('answers 400 naming the problem for %s', async (query, message) => {
    const { url } = await served();
    const response = await fetch(`${url}/api/exemplars?${query}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });
});

describe('exemplars over the WebSocket', () => {
  const received = (messages: ServerMessage[]) => messages.filter((m) => m.type === 'exemplars');

  it('sends the stored ones of the watched region, then only live ones inside it', async () => {
    const { dashboard, url } = await served();
    const client = await connect(url);
    client.ws.send(encodeClientMessage({ type: 'watch', region: { fromMs: 1500, toMs: null, latMinNs: 2_000_000, latMaxNs: 1e12, sizeMinBytes: 0, sizeMaxBytes: Number.MAX_SAFE_INTEGER, devices: null, ops: null }, order: 'slowest' }));
    await until(() => received(client.messages).length === 1);
    expect(received(client.messages)[0]).toMatchObject({ replace: true, matched: 3 });
    dashboard.sink.exemplars?.([exemplar(3500, 1_000_000), exemplar(3600, 9_000_000, 1, 'write')]);
    await until(() => received(client.messages).length === 2);
    const live = received(client.messages)[1]!;
    expect(live.type === 'exemplars' && live.exemplars.map((e) => e.latencyNs)).toEqual([9_000_000]);
    client.ws.send(encodeClientMessage({ type: 'watch', region: null, order: 'slowest' }));
    client.ws.send(encodeClientMessage({ type: 'ping', id: 1 }));
    await until(() => client.messages.some((m) => m.type === 'pong'));
    dashboard.sink.exemplars?.([exemplar(3700, 9_000_000)]);
    dashboard.sink.column(column(4));
    await until(() => client.messages.some((m) => m.type === 'column' && m.column.seq === 4));
    expect(received(client.messages)).toHaveLength(2);
    client.ws.close();
  });

  it('answers a region holding more than one message with the first in the order asked for', async () => {
    const { dashboard, url } = await start();
    // 2,500 exemplars over 2.5 s, latencies in a scrambled order
    const many = Array.from({ length: 2500 }, (_, k) => exemplar(10_000 + k, 1_000_000 + ((k * 7919) % 2500) * 1000));
    dashboard.sink.exemplars?.(many);
    const client = await connect(url);
    const region = { fromMs: 0, toMs: null, latMinNs: 0, latMaxNs: 1e12, sizeMinBytes: 0, sizeMaxBytes: Number.MAX_SAFE_INTEGER, devices: null, ops: null };
    const answer = async (order: 'slowest' | 'newest' | 'oldest') => {
      const before = received(client.messages).length;
      client.ws.send(encodeClientMessage({ type: 'watch', region, order }));
      await until(() => received(client.messages).length === before + 1);
      const message = received(client.messages)[before]!;
      if (message.type !== 'exemplars') throw new Error('not an exemplars message');
      return message;
    };
    const slowest = await answer('slowest');
    expect(slowest).toMatchObject({ replace: true, matched: 2500 });
    expect(slowest.exemplars.map((e) => e.latencyNs)).toEqual([...many].map((e) => e.latencyNs).sort((a, b) => b - a).slice(0, 2000));
    expect((await answer('newest')).exemplars.map((e) => e.timeMs)).toEqual(many.map((e) => e.timeMs).reverse().slice(0, 2000));
    expect((await answer('oldest')).exemplars.map((e) => e.timeMs)).toEqual(many.map((e) => e.timeMs).slice(0, 2000));
    client.ws.close();
  });

  it('carries a column’s dropped exemplars', async () => {
    const { url } = await served();
    const client = await connect(url);
    await until(() => client.messages.some((m) => m.type === 'live'));
    const first = client.messages.find((m) => m.type === 'column');
    expect(first?.type === 'column' && first.column.droppedExemplars).toEqual([{ device: 0, op: 'read', count: 4 }, { device: 1, op: 'write', count: 2 }]);
    client.ws.close();
  });

  it('changes a live source’s threshold and tells every client', async () => {
    const { url, source } = await start({}, new FakeLiveSource());
    const a = await connect(url);
    const b = await connect(url);
    expect(a.messages[0]).toMatchObject({ type: 'hello', exemplarCapture: { thresholdNs: null, perBucketPerSecond: 200 } });
    a.ws.send(encodeClientMessage({ type: 'set-threshold', thresholdNs: 5_000_000 }));
    await until(() => b.messages.some((m) => m.type === 'exemplar-capture'));
    expect(source.capture.thresholdNs).toBe(5_000_000);
    expect(b.messages.find((m) => m.type === 'exemplar-capture')).toEqual({ type: 'exemplar-capture', capture: { thresholdNs: 5_000_000, perBucketPerSecond: 200 } });
    a.ws.close();
    b.ws.close();
  });

  it('refuses a threshold for a source that does not pick exemplars live', async () => {
    const { url } = await served();
    const client = await connect(url);
    client.ws.send(encodeClientMessage({ type: 'set-threshold', thresholdNs: 1 }));
    await until(() => client.messages.some((m) => m.type === 'error'));
    expect(client.messages.find((m) => m.type === 'error')).toEqual({ type: 'error', message: 'a replay source has no live exemplar threshold: only live tracing picks exemplars' });
    client.ws.close();
  });
});

