/**
 * The dashboard app in-process, on a real listening port with real ws clients, for what is easier
 * to drive from inside: heartbeats, device-table updates, stats, client limits, shutdown.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_SNAPSHOT_COLUMNS } from './http.ts';
import { closeAll, column, connect, INTERVAL_MS, start, until } from '../../test/dashboard-harness.ts';
import type { Column } from '../../shared/column.ts';
import { decodePackedColumns, decodeServerMessage, encodePackedColumns, packedColumnAt } from '../../shared/protocol.ts';
import { rollUp } from '../../shared/rollup.ts';
import { syntheticColumn } from '../sources/synthetic.ts';

afterEach(closeAll);

describe('heartbeats', () => {
  it('terminate a client that stops answering pings, and only that one', async () => {
    const { url } = await start({ stream: { heartbeatMs: 50, deadAfterMs: 200 } });
    const alive = await connect(url);
    const dead = await connect(url, { autoPong: false });
    await until(() => dead.closed !== null, 3000);
    expect(dead.closed).toBe(1006); // terminated, no close handshake
    expect(alive.closed).toBeNull();
    alive.ws.close();
  });
});

describe('the device table', () => {
  it('reaches every client before the first column that uses a new device', async () => {
    const { dashboard, url, source } = await start();
    dashboard.sink.column(column(1));
    const client = await connect(url);
    await until(() => client.messages.some((m) => m.type === 'live'));
    source.table = [...source.table, { id: 1, name: 'nvme0n1' }];
    dashboard.sink.devices?.(source.table);
    dashboard.sink.column(column(2, 1));
    await until(() => client.messages.some((m) => m.type === 'column' && m.column.seq === 2));
    const types = client.messages.map((m) => m.type);
    expect(types).toEqual(['hello', 'column', 'live', 'devices', 'column']);
    expect(client.messages[3]).toEqual({ type: 'devices', devices: source.table });
    client.ws.close();
  });
});

describe('the end of a finite source', () => {
  it('is told to every client after live, once, and to a client that connects later', async () => {
    const { dashboard, url } = await start();
    dashboard.sink.column(column(1));
    const early = await connect(url);
    await until(() => early.messages.some((m) => m.type === 'live'));
    dashboard.sink.column(column(2));
    dashboard.sink.finished?.();
    await until(() => early.messages.some((m) => m.type === 'end'));
    expect(early.messages.map((m) => m.type)).toEqual(['hello', 'column', 'live', 'column', 'end']);
    expect(early.messages.at(-1)).toEqual({ type: 'end', lastSeq: 2 });
    const late = await connect(url);
    await until(() => late.messages.some((m) => m.type === 'end'));
    expect(late.messages.map((m) => m.type)).toEqual(['hello', 'column', 'column', 'live', 'end']);
    // a resume replays the columns and says it again
    late.ws.send(JSON.stringify({ type: 'resume', after: 1 }));
    await until(() => late.messages.filter((m) => m.type === 'end').length === 2);
    expect(late.messages.slice(5).map((m) => m.type)).toEqual(['column', 'live', 'end']);
    early.ws.close();
    late.ws.close();
  });
});

describe('self statistics', () => {
  it('go out in hello and as stats messages when the source measures itself', async () => {
    const { dashboard, url, source } = await start();
    source.stats = { programs: [{ name: 'p', runCount: 10, runTimeNs: 2000, nsPerEvent: 200, eventsPerSecond: 5, recursionMisses: 0 }], missedStart: 0, startFailed: 0, ringOverrun: 0, deviceOverflow: 0, partial: 0, unseen: 0, unstampedDevices: [] };
    const client = await connect(url);
    await until(() => client.messages.length > 0);
    expect(client.messages[0]).toMatchObject({ type: 'hello', selfStats: source.stats });
    dashboard.sink.column(column(1));
    await until(() => client.messages.some((m) => m.type === 'stats'));
    expect(client.messages.find((m) => m.type === 'stats')).toEqual({ type: 'stats', selfStats: source.stats });
    client.ws.close();
  });
});

describe('limits', () => {
  it('refuses clients past the limit with 503', async () => {
    const { url } = await start({ stream: { maxClients: 2 } });
    const a = await connect(url);
    const b = await connect(url);
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.on('error', () => {});
    });
    expect(refused).toBe(503);
    a.ws.close();
    b.ws.close();
  });

  it('refuses a snapshot of more columns than it draws, and a columns query outside history is empty', async () => {
    const { dashboard, url } = await start();
    for (let seq = 1; seq <= MAX_SNAPSHOT_COLUMNS + 1; seq++) dashboard.sink.column(column(seq));
    const to = (MAX_SNAPSHOT_COLUMNS + 2) * INTERVAL_MS;
    const big = await fetch(`${url}/api/snapshot.svg?from=0&to=${to}`);
    expect(big.status).toBe(400);
    expect(((await big.json()) as { error: string }).error).toBe(
      `the range holds ${MAX_SNAPSHOT_COLUMNS + 1} columns at a 1000-ms step, more than the ${MAX_SNAPSHOT_COLUMNS} one request may ask for: narrow "from" and "to", or give a coarser "step" or a "width"`,
    );
    const fits = await fetch(`${url}/api/snapshot.svg?from=${2 * INTERVAL_MS}&to=${to}`); // exactly the limit
    expect(fits.status).toBe(200);
    const none = (await (await fetch(`${url}/api/columns?from=${to * 2}&to=${to * 3}`)).json()) as { columns: unknown[] };
    expect(none.columns).toEqual([]);
  });

  it('ignores a column that does not advance the history', async () => {
    const { dashboard, history } = await start();
    dashboard.sink.column(column(5));
    dashboard.sink.column(column(5));
    dashboard.sink.column(column(4));
    expect(history.size).toBe(1);
    expect(dashboard.stream.stats().encodedColumns).toBe(1);
  });
});

describe('shutdown', () => {
  it('closes every client with 1001 and stops serving', async () => {
    const { dashboard, url } = await start();
    const client = await connect(url);
    await dashboard.close();
    await until(() => client.closed !== null);
    expect(client.closed).toBe(1001);
    expect(dashboard.server.listening).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('reports the user it runs as in /api/meta', async () => {
    const { url } = await start({ runAs: () => ({ uid: 65534, gid: 65534, user: 'nobody' }) });
    const meta = (await (await fetch(`${url}/api/meta`)).json()) as { user: unknown; source: string };
    expect(meta.user).toEqual({ uid: 65534, gid: 65534, user: 'nobody' });
    expect(meta.source).toBe('replay');
  });
});

describe('/api/columns', () => {
  it('answers, packed and as JSON, what the validating decoder reads of the held columns, and the exact roll-ups of them at every level', async () => {
    const { dashboard, url, history, source } = await start();
    source.table = [...source.table, { id: 1, name: 'nvme0n1' }];
    const drops = [{ device: 0, op: 'read', count: 2, slot: 120 }, { device: 1, op: 'write', count: 1 }] as const;
    const sent: Column[] = [];
    // 700 columns: roll-ups at 10 s in more than one chunk, a whole 10-min one and the one filling
    for (let seq = 0; seq < 700; seq++) {
      const synthetic = syntheticColumn(7, seq, INTERVAL_MS);
      sent.push(seq % 7 === 3 ? { ...synthetic, droppedExemplars: [...drops], unseen: [{ device: 0, op: 'read', count: seq }] } : synthetic);
      dashboard.sink.column(sent.at(-1)!);
    }
    const to = 700 * INTERVAL_MS;
    for (const step of [INTERVAL_MS, 10_000, 60_000, 600_000]) {
      const expected =
        step === INTERVAL_MS
          ? [...history.inTimeRange(0, to)].map((entry) => decodeServerMessage(entry.wire.toString('utf8'))).map((m) => (m.type === 'column' ? m.column : null)!)
          : rollUp(sent, step);
      expect(expected.length, `step ${step}`).toBeGreaterThan(1);
      expect(history.columnsAt(step, 0, to), `held at step ${step}`).toEqual(expected);

      const packed = Buffer.from(await (await fetch(`${url}/api/columns?from=0&to=${to}&step=${step}&format=packed`)).arrayBuffer());
      expect(packed.equals(encodePackedColumns(expected, step, history.newestSeq)), `packed at step ${step}`).toBe(true);
      const read = decodePackedColumns(packed);
      expect(Array.from({ length: read.count }, (_, i) => packedColumnAt(read, i)), `packed read back at step ${step}`).toEqual(expected.map(({ unseen: _, ...c }) => c));

      const writes = Buffer.from(await (await fetch(`${url}/api/columns?from=0&to=${to}&step=${step}&format=packed&metric=latency&device=nvme0n1&op=write`)).arrayBuffer());
      const writesExpected = expected.map((c) => ({ ...c, series: c.series.filter((s) => s.metric === 'latency' && s.device === 1 && s.op === 'write') }));
      expect(writes.equals(encodePackedColumns(writesExpected, step, history.newestSeq)), `packed writes at step ${step}`).toBe(true);

      const json = (await (await fetch(`${url}/api/columns?from=0&to=${to}&step=${step}`)).json()) as { columns: unknown[] };
      const sparse = expected.map((c) => {
        const histogram = new Map<number, number>();
        for (const s of c.series) if (s.metric === 'latency') s.slots.forEach((slot, k) => histogram.set(slot, (histogram.get(slot) ?? 0) + s.counts[k]!));
        const slots = [...histogram.keys()].sort((a, b) => a - b);
        const unseen = (c.unseen ?? []).reduce((sum, u) => sum + u.count, 0);
        const counts = slots.map((slot) => histogram.get(slot)!);
        return { seq: c.seq, startMs: c.startMs, intervalMs: c.intervalMs, total: counts.reduce((a, b) => a + b, 0), slots, counts, ...(unseen > 0 ? { unseen } : {}) };
      });
      expect(json.columns, `JSON at step ${step}`).toStrictEqual(sparse);
    }
  });

  it('names as its newest seq the one of the roll-ups taken, not a column recorded while the answer is built', async () => {
    const { dashboard, url, history } = await start();
    const sent = Array.from({ length: 25 }, (_, seq) => syntheticColumn(7, seq, INTERVAL_MS));
    for (const c of sent) dashboard.sink.column(c);
    const heldAt = history.heldAt.bind(history);
    let late: Column | null = syntheticColumn(7, 25, INTERVAL_MS);
    history.heldAt = (...args) => {
      const held = heldAt(...args);
      if (late) dashboard.sink.column(late);
      late = null;
      return held;
    };
    const packed = Buffer.from(await (await fetch(`${url}/api/columns?from=0&to=${30 * INTERVAL_MS}&step=10000&format=packed`)).arrayBuffer());
    expect(history.newestSeq).toBe(25);
    expect(decodePackedColumns(packed).throughSeq).toBe(24);
    expect(packed.equals(encodePackedColumns(rollUp(sent, 10_000), 10_000, 24))).toBe(true);
  });

  it("gives each column's completions no program saw on the devices and ops asked for", async () => {
    const { dashboard, url, source } = await start();
    source.table = [...source.table, { id: 1, name: 'nvme0n1' }];
    dashboard.sink.column(column(1));
    dashboard.sink.column({ ...column(2), unseen: [{ device: 0, op: 'read', count: 2 }, { device: 0, op: 'write', count: 1 }, { device: 1, op: 'read', count: 5 }] });
    const unseen = async (filter: string) => {
      const answer = (await (await fetch(`${url}/api/columns?from=0&to=${3 * INTERVAL_MS}${filter}`)).json()) as { columns: { seq: number; unseen?: number }[] };
      return answer.columns.map((c) => [c.seq, c.unseen]);
    };
    expect(await unseen('')).toEqual([[1, undefined], [2, 8]]);
    expect(await unseen('&device=sda')).toEqual([[1, undefined], [2, 3]]);
    expect(await unseen('&device=sda&op=read')).toEqual([[1, undefined], [2, 2]]);
    expect(await unseen('&device=nvme0n1&op=write')).toEqual([[1, undefined], [2, undefined]]);
    // a roll-up's is the sum of its columns'
    dashboard.sink.column({ ...column(3), unseen: [{ device: 0, op: 'read', count: 4 }] });
    const tenSeconds = (await (await fetch(`${url}/api/columns?from=0&to=${10 * INTERVAL_MS}&step=10000&device=sda`)).json()) as { step: number; columns: { unseen?: number }[] };
    expect(tenSeconds.step).toBe(10_000);
    expect(tenSeconds.columns.map((c) => c.unseen)).toEqual([7]);
  });
});
