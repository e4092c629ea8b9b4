/**
 * The column stream, end to end: the real bpfheat command (synthetic source, 20-ms columns) and
 * real WebSocket clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeServerMessage, PROTOCOL_VERSION, BUCKET_SCHEME, type ServerMessage } from '../shared/protocol.ts';
import { DEFAULT_BACKFILL_COLUMNS } from '../server/dashboard/ws.ts';
import { consecutive, Recorder, serve, sleep, wsUrl, type Served } from './server-harness.ts';

const INTERVAL_MS = 20;
let served: Served;

beforeAll(async () => {
  served = await serve(['--source', 'synthetic', '--seed', '7', '--port', '0', '--interval', String(INTERVAL_MS), '--history', '6000']);
});

afterAll(async () => {
  const exit = await served?.stop();
  expect(exit?.code).toBe(0);
});

function columnSeqsBetween(received: readonly { message: ServerMessage }[], from: number, to: number): number[] {
  return received.slice(from, to).flatMap((r) => (r.message.type === 'column' ? [r.message.column.seq] : []));
}

describe('a client that connects', () => {
  it('gets hello, then a backfill of recent history, then live columns, in order', async () => {
    const client = await Recorder.open(wsUrl(served));
    await client.until((r) => {
      const live = r.findIndex((m) => m.message.type === 'live');
      return live >= 0 && r.length - live > 10;
    }, 15_000, 'live and ten live columns');
    await client.close();

    const messages = client.messages();
    const hello = messages[0]!;
    expect(hello.type).toBe('hello');
    if (hello.type !== 'hello') throw new Error('unreachable');
    expect(hello.version).toBe(PROTOCOL_VERSION);
    expect(hello.source).toBe('synthetic');
    expect(hello.host.length).toBeGreaterThan(0);
    expect(hello.scheme).toEqual(BUCKET_SCHEME);
    expect(hello.intervalMs).toBe(INTERVAL_MS);
    expect(hello.devices.map((d) => d.name)).toEqual(['synth-nvme0n1', 'synth-sda']);
    expect(hello.ops).toEqual(['read', 'write', 'flush', 'discard', 'other']);
    expect(hello.metrics).toEqual(['latency', 'size']);
    expect(hello.oldestSeq).not.toBeNull();
    expect(hello.newestSeq).not.toBeNull();

    const liveAt = client.index('live');
    const backfill = columnSeqsBetween(client.received, 1, liveAt);
    const live = columnSeqsBetween(client.received, liveAt + 1, client.received.length);
    // Everything between hello and live is columns; the synthetic source pre-fills 2000 of them.
    expect(messages.slice(1, liveAt).every((m) => m.type === 'column')).toBe(true);
    expect(backfill.length).toBeGreaterThanOrEqual(Math.min(2000, DEFAULT_BACKFILL_COLUMNS));
    expect(backfill[0]).toBe(Math.max(hello.oldestSeq!, hello.newestSeq! - DEFAULT_BACKFILL_COLUMNS + 1));
    expect(backfill[backfill.length - 1]).toBeGreaterThanOrEqual(hello.newestSeq!);
    const liveMessage = messages[liveAt]!;
    expect(liveMessage).toEqual({ type: 'live', lastSeq: backfill[backfill.length - 1] });
    // Live columns continue the backfill without a gap or a repeat, and are current.
    const all = [...backfill, ...live];
    expect(consecutive(all)).toBe(true);
    expect(live.length).toBeGreaterThanOrEqual(10);
    for (const r of client.received) {
      if (r.message.type !== 'column') continue;
      expect(r.message.column.startMs).toBe(r.message.column.seq * INTERVAL_MS);
      expect(r.message.column.intervalMs).toBe(INTERVAL_MS);
    }
    expect(Math.abs(live[live.length - 1]! * INTERVAL_MS - Date.now())).toBeLessThan(5000); // current, not history
  });

  it('answers a ping with a pong carrying its id', async () => {
    const client = await Recorder.open(wsUrl(served));
    client.ws.send(JSON.stringify({ type: 'ping', id: 4242 }));
    await client.until((r) => r.some((m) => m.message.type === 'pong'), 10_000, 'pong');
    expect(client.messages().find((m) => m.type === 'pong')).toEqual({ type: 'pong', id: 4242 });
    await client.close();
  });
});

describe('a client that reconnects', () => {
  it('says which column it saw last and gets exactly the ones it missed', async () => {
    const witness = await Recorder.open(wsUrl(served));
    const first = await Recorder.open(wsUrl(served));
    await first.until((r) => {
      const live = r.findIndex((m) => m.message.type === 'live');
      return live >= 0 && r.length - live > 5;
    }, 15_000, 'live columns');
    await first.close();
    const seen = first.seqs();
    const last = seen[seen.length - 1]!;

    await sleep(25 * INTERVAL_MS); // columns go by while it is away
    const again = await Recorder.open(wsUrl(served, `?after=${last}`));
    await again.until((r) => {
      const live = r.findIndex((m) => m.message.type === 'live');
      return live >= 0 && r.length - live > 5;
    }, 15_000, 'live after the reconnect');
    await again.close();

    const types = again.messages().map((m) => m.type);
    expect(types[0]).toBe('hello');
    expect(types).not.toContain('gap');
    const resumed = again.seqs();
    expect(resumed[0]).toBe(last + 1);
    expect(consecutive(resumed)).toBe(true);
    const liveAt = again.index('live');
    const missed = columnSeqsBetween(again.received, 1, liveAt);
    expect(missed.length).toBeGreaterThanOrEqual(20);

    // Byte for byte what a client that never left got for the same columns.
    await witness.until((r) => r.some((m) => m.message.type === 'column' && m.message.column.seq >= resumed[resumed.length - 1]!), 10_000, 'witness catching up');
    await witness.close();
    const witnessBytes = new Map(witness.received.flatMap((r) => (r.message.type === 'column' ? [[r.message.column.seq, r.raw] as const] : [])));
    for (const r of again.received) {
      if (r.message.type !== 'column') continue;
      expect(witnessBytes.get(r.message.column.seq)?.equals(r.raw), `column ${r.message.column.seq}`).toBe(true);
    }
  });

  it('is told what the history no longer holds, then gets all it does hold', async () => {
    const client = await Recorder.open(wsUrl(served, '?after=5'));
    await client.until((r) => r.some((m) => m.message.type === 'live'), 15_000, 'live');
    await client.close();
    const messages = client.messages();
    const hello = messages[0]!;
    if (hello.type !== 'hello') throw new Error('first message is not hello');
    expect(messages[1]).toEqual({ type: 'gap', fromSeq: 6, toSeq: hello.oldestSeq! - 1 });
    const seqs = client.seqs();
    expect(seqs[0]).toBe(hello.oldestSeq);
    expect(consecutive(seqs)).toBe(true);
  });

  it('can move its cursor with a resume message on an open connection', async () => {
    const client = await Recorder.open(wsUrl(served));
    await client.until((r) => r.some((m) => m.message.type === 'live'), 15_000, 'live');
    const seqs = client.seqs();
    const back = seqs[seqs.length - 1]! - 30;
    const mark = client.received.length;
    client.ws.send(JSON.stringify({ type: 'resume', after: back }));
    await client.until((r) => r.slice(mark).some((m) => m.message.type === 'live'), 15_000, 'live after resume');
    await client.close();
    const after = columnSeqsBetween(client.received, mark, client.received.length);
    // live columns published before the resume was read may come first; then back + 1 onwards
    const start = after.indexOf(back + 1);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(consecutive(after.slice(start))).toBe(true);
    expect(after.length - start).toBeGreaterThanOrEqual(30);
  });
});

describe('fan-out', () => {
  it('sends 50 clients identical bytes for the same column, encoded once', async () => {
    const before = (await served.get('/api/meta')).body as { clients: { encodedColumns: number }; history: { newestSeq: number } };
    // Each resumes just before the newest column, so the test is about fan-out, not 50 backfills.
    const clients = await Promise.all(Array.from({ length: 50 }, () => Recorder.open(wsUrl(served, `?after=${before.history.newestSeq - 10}`))));
    await Promise.all(clients.map((c) => c.until((r) => r.some((m) => m.message.type === 'live'), 20_000, 'live')));
    // A column every client gets live: a few after the newest one any of them had at live.
    const target = Math.max(...clients.map((c) => c.seqs().at(-1)!)) + 3;
    await Promise.all(clients.map((c) => c.until((r) => r.some((m) => m.message.type === 'column' && m.message.column.seq >= target + 5), 20_000, 'live columns')));
    const meta = (await served.get('/api/meta')).body as { clients: { clients: number; encodedColumns: number }; history: { newestSeq: number } };
    await Promise.all(clients.map((c) => c.close()));

    for (let seq = target; seq <= target + 5; seq++) {
      const frames = clients.map((c) => c.received.find((r) => r.message.type === 'column' && r.message.column.seq === seq)!.raw);
      expect(frames).toHaveLength(50);
      for (const frame of frames) expect(frame.equals(frames[0]!)).toBe(true);
      // and they are the shared encoder's bytes for that column
      const decoded = clients[0]!.received.find((r) => r.message.type === 'column' && r.message.column.seq === seq)!.message;
      expect(frames[0]!.toString('utf8')).toBe(encodeServerMessage(decoded));
    }
    expect(meta.clients.clients).toBeGreaterThanOrEqual(50);
    // One encoding per column published, however many clients: both counters moved together.
    expect(meta.clients.encodedColumns - before.clients.encodedColumns).toBe(meta.history.newestSeq - before.history.newestSeq);
  });
});
