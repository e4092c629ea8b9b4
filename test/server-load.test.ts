/**
 * The HTTP side under hostile load, against the real command (synthetic source at 10-ms columns,
 * the setting the problem was found with) and real sockets on 127.0.0.1.
 *
 * 1. Twelve clients ask for the largest snapshot (4,000 columns at 8000×8000 px, ~20 MB of SVG each)
 *    and read nothing after the first bytes. Stated bound: the server's heapUsed + arrayBuffers stay
 *    under NON_READING_BOUND the whole time (before: 235 MiB of arrayBuffers alone for ten, held as
 *    long as the sockets stayed open); MAX_HEAVY_ANSWERS of them are answered, MAX_WAITING_ANSWERS
 *    wait for their turn, the rest get 429 with Retry-After; the server drops the stalled ones after
 *    STALL_MS.
 * 2. Eight clients keep asking for heavy answers (four largest snapshots, four /api/columns of the
 *    whole history, retrying after a 429) for LOAD_MS, from another process, while this one asks
 *    /healthz every 25 ms and a WebSocket client times the live columns. Stated bounds: /healthz
 *    p99 <= HEALTHZ_P99_BOUND_MS (the target is 100 ms: see there); no gap between live columns
 *    over LIVE_GAP_BOUND_MS, and the columns keep arriving at the source's pace (before: /healthz
 *    took 12.2 s and the live columns stalled with it).
 * 3. More HTTP connections than MAX_HTTP_CONNECTIONS at once: the rest get 503 and are closed.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HTTP_CONNECTIONS } from '../server/dashboard/app.ts';
import { MAX_HEAVY_ANSWERS, MAX_WAITING_ANSWERS, RETRY_AFTER_S, STALL_MS } from '../server/dashboard/slicing.ts';
import { Recorder, serve, sleep, wsUrl, type Served } from './server-harness.ts';

const INTERVAL_MS = 10;
const SNAPSHOT_COLUMNS = 4000;
const NON_READING_BOUND = 128 * 2 ** 20;
const LOAD_MS = 12_000;
/**
 * The target is 100 ms at p99 (measured 56-71 ms with load average ~9 from other work on the same
 * 2 cores, 104-275 ms at ~11-12, when every process gets a fifth of a core); the bound is generous
 * so that other work on the machine does not fail it, and still 24 times below the 12.2 s this
 * load took before. The figures are printed.
 */
const HEALTHZ_P99_BOUND_MS = 500;
const LIVE_GAP_BOUND_MS = 1000;

interface Meta {
  readonly memory: { heapUsed: number; arrayBuffers: number; rss: number };
  readonly history: { columns: number; toMs: number };
  readonly http: { connections: number; heavyAnswers: number; waitingAnswers: number; maxHeavyAnswers: number };
}

let served: Served;
const meta = async (): Promise<Meta> => (await served.get('/api/meta')).body as Meta;
/** The path of the largest snapshot the server draws, ending at the newest column. */
const largestSnapshot = async (): Promise<string> => {
  const to = (await meta()).history.toMs;
  return `/api/snapshot.svg?from=${to - SNAPSHOT_COLUMNS * INTERVAL_MS}&to=${to}&width=8000&height=8000`;
};

beforeAll(async () => {
  served = await serve(['--source', 'synthetic', '--port', '0', '--interval', String(INTERVAL_MS)]);
  // The synthetic source fills 2,000 columns at start; the rest of the largest snapshot is live.
  const deadline = Date.now() + 60_000;
  while ((await meta()).history.columns < SNAPSHOT_COLUMNS) {
    if (Date.now() > deadline) throw new Error('the history did not reach 4,000 columns in 60 s');
    await sleep(500);
  }
}, 90_000);

afterAll(async () => {
  await served?.stop();
});

/** A client that sends a GET, keeps the first bytes of the answer (when it comes), then reads nothing more. */
interface NonReader {
  readonly socket: Socket;
  /** the first bytes of the answer, once they came */
  head: string | null;
  readonly closed: Promise<void>;
}

function nonReadingGet(path: string): NonReader {
  const socket = connect(served.port, '127.0.0.1');
  const client: NonReader = { socket, head: null, closed: new Promise<void>((done) => socket.once('close', () => done())) };
  socket.on('error', () => {
    // the server dropping a stalled client resets the connection: that is the point
  });
  socket.once('data', (first: Buffer) => {
    socket.pause();
    client.head = first.toString('latin1', 0, 200);
  });
  socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\n\r\n`));
  return client;
}

const statusOf = (client: NonReader): number | null => (client.head === null ? null : Number(/^HTTP\/1\.1 (\d{3})/.exec(client.head)?.[1]));

describe('clients that never read a large answer', () => {
  it("hold the server under its memory bound; the limit's queue waits, past it 429; stalled ones are dropped", async () => {
    const before = await meta();
    const path = await largestSnapshot();
    const clients = Array.from({ length: MAX_HEAVY_ANSWERS + MAX_WAITING_ANSWERS + 2 }, () => nonReadingGet(path));
    const deadline = Date.now() + 30_000;
    while (clients.filter((c) => c.head !== null).length < MAX_HEAVY_ANSWERS + 2) {
      expect(Date.now(), 'answers to start').toBeLessThan(deadline);
      await sleep(100);
    }
    const answered = clients.filter((c) => statusOf(c) === 200);
    const refused = clients.filter((c) => statusOf(c) === 429);
    const waiting = clients.filter((c) => c.head === null);
    expect([answered.length, refused.length, waiting.length]).toEqual([MAX_HEAVY_ANSWERS, 2, MAX_WAITING_ANSWERS]);
    for (const c of refused) expect(c.head).toMatch(new RegExp(`\\r\\nRetry-After: ${RETRY_AFTER_S}\\r\\n`, 'i'));

    const samples: Meta[] = [];
    const stalledAt = Date.now();
    while (Date.now() - stalledAt < STALL_MS - 2000) {
      samples.push(await meta());
      await sleep(500);
    }
    const peak = Math.max(...samples.map((s) => s.memory.heapUsed + s.memory.arrayBuffers));
    const peakRss = Math.max(...samples.map((s) => s.memory.rss));
    console.log(
      `non-reading: heapUsed+arrayBuffers ${(before.memory.heapUsed / 2 ** 20 + before.memory.arrayBuffers / 2 ** 20).toFixed(0)} MiB before, ` +
        `peak ${(peak / 2 ** 20).toFixed(0)} MiB (bound ${NON_READING_BOUND / 2 ** 20}); rss ${(before.memory.rss / 2 ** 20).toFixed(0)} -> peak ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
    );
    expect(peak).toBeLessThan(NON_READING_BOUND);
    expect(samples.at(-1)!.http).toMatchObject({ heavyAnswers: MAX_HEAVY_ANSWERS, waitingAnswers: MAX_WAITING_ANSWERS }); // still held, not finished

    // The waiting and refused clients leave; the server drops each stalled answer once it took
    // nothing for STALL_MS, which frees the places; the clients see the end when they read again.
    for (const c of [...waiting, ...refused]) c.socket.destroy();
    for (let http = (await meta()).http; http.heavyAnswers + http.waitingAnswers > 0; http = (await meta()).http) {
      expect(Date.now() - stalledAt, 'stalled answers still held').toBeLessThan(STALL_MS + 10_000);
      await sleep(250);
    }
    for (const c of answered) c.socket.resume();
    await Promise.all(answered.map((c) => c.closed));
    expect((await served.get('/healthz')).status).toBe(200);
  });
});

/** A child process that keeps `count` heavy requests going (retrying after 429) until killed. */
function loadGenerator(paths: readonly string[]): { stop(): Promise<string> } {
  const script = `
    const http = require('node:http');
    const [port, ...paths] = process.argv.slice(1);
    const tally = { ok: 0, refused: 0, bytes: 0 };
    let running = true;
    process.on('SIGTERM', () => { running = false; process.stdout.write(JSON.stringify(tally)); process.exit(0); });
    function go(path) {
      if (!running) return;
      http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        res.on('data', (d) => (tally.bytes += d.length));
        res.on('end', () => {
          if (res.statusCode === 429) { tally.refused++; setTimeout(() => go(path), 1000 * Number(res.headers['retry-after'])); }
          else { tally.ok++; go(path); }
        });
      }).on('error', () => setTimeout(() => go(path), 100));
    }
    for (const path of paths) go(path);
  `;
  const child = spawn(process.execPath, ['-e', script, String(served.port), ...paths]);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('close', () => resolve(out));
        child.kill('SIGTERM');
      }),
  };
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

describe('eight concurrent heavy requests', () => {
  it('leave /healthz p99 within its bound (target 100 ms) and the live columns at their pace', async () => {
    const snapshot = await largestSnapshot();
    const live = await Recorder.open(wsUrl(served));
    await live.until((r) => r.some((m) => m.message.type === 'live'), 20_000, 'live');
    const arrivals: number[] = [];
    live.ws.on('message', () => arrivals.push(performance.now()));

    const load = loadGenerator([snapshot, snapshot, snapshot, snapshot, ...Array.from({ length: 4 }, () => '/api/columns?from=0&to=8640000000000000')]);
    const healthz: number[] = [];
    const start = performance.now();
    let busy = 0;
    while (performance.now() - start < LOAD_MS) {
      const sent = performance.now();
      const res = await served.get('/healthz');
      healthz.push(performance.now() - sent);
      expect(res.status).toBe(200);
      busy = Math.max(busy, (await meta()).http.heavyAnswers);
      await sleep(25);
    }
    const tally = JSON.parse(await load.stop()) as { ok: number; refused: number; bytes: number };
    const liveArrivals = arrivals.filter((t) => t >= start + 500 && t <= start + LOAD_MS);
    const gaps = liveArrivals.slice(1).map((t, i) => t - liveArrivals[i]!);
    const maxGap = Math.max(...gaps);
    const p50 = percentile(healthz, 0.5);
    const p99 = percentile(healthz, 0.99);
    console.log(
      `under load: /healthz n=${healthz.length} p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...healthz).toFixed(1)} ms; ` +
        `live columns ${liveArrivals.length} in ${((LOAD_MS - 500) / 1000).toFixed(1)} s, largest gap ${maxGap.toFixed(0)} ms; ` +
        `heavy answers: ${tally.ok} complete, ${tally.refused} refused with 429, ${(tally.bytes / 2 ** 20).toFixed(0)} MiB sent, at most ${busy} at once`,
    );
    await live.close();

    expect(busy).toBe(MAX_HEAVY_ANSWERS); // the load reached the limit: it was really heavy
    expect(tally.ok).toBeGreaterThan(0);
    expect(p99).toBeLessThanOrEqual(HEALTHZ_P99_BOUND_MS);
    expect(maxGap).toBeLessThanOrEqual(LIVE_GAP_BOUND_MS);
    // The source's pace: one column per 10 ms; the ticker may batch, never fall far behind.
    expect(liveArrivals.length).toBeGreaterThan(((LOAD_MS - 500) / INTERVAL_MS) * 0.8);
  });
});

describe('many HTTP connections', () => {
  it(`past ${MAX_HTTP_CONNECTIONS} open at once, the next is answered 503 and closed; the server carries on`, async () => {
    const sockets = Array.from({ length: MAX_HTTP_CONNECTIONS + 8 }, () => {
      const socket = connect(served.port, '127.0.0.1');
      socket.on('error', () => {});
      let text = '';
      socket.setEncoding('latin1').on('data', (s: string) => (text += s));
      return { socket, text: () => text, closed: new Promise<void>((done) => socket.once('close', () => done())) };
    });
    await Promise.all(sockets.map((s) => new Promise<void>((done) => (s.socket.readyState === 'open' ? done() : s.socket.once('connect', () => done())))));
    const deadline = Date.now() + 10_000;
    while (sockets.filter((s) => s.text().startsWith('HTTP/1.1 503')).length < 8) {
      expect(Date.now(), '503 answers').toBeLessThan(deadline);
      await sleep(100);
    }
    // at most MAX_HTTP_CONNECTIONS are served (this test's own requests hold a few): 8 or more are refused
    const refusedNow = sockets.filter((s) => s.text().startsWith('HTTP/1.1 503'));
    expect(refusedNow[0]!.text()).toContain(`${MAX_HTTP_CONNECTIONS} HTTP connections are open already: close some and retry`);
    await Promise.all(refusedNow.map((s) => s.closed));
    expect((await meta()).http.connections).toBeLessThanOrEqual(MAX_HTTP_CONNECTIONS);
    for (const s of sockets) s.socket.destroy();
    for (let http = (await meta()).http; http.connections > 4; http = (await meta()).http) {
      expect(Date.now(), 'connections closed').toBeLessThan(deadline + 10_000);
      await sleep(100);
    }
    expect((await served.get('/healthz')).status).toBe(200);
  });
});
