/**
 * Hostile input, against the real command: 10,000 random and malformed WebSocket messages and
 * 10,000 random query strings. Each bad one gets an error naming the problem; nothing crashes, no
 * answer is a 5xx or carries a stack trace, and a well-behaved client connected the whole time
 * keeps receiving every column, in order, on an unbroken connection.
 *
 * The inputs come from a seeded generator, so a failure is reproducible. The history is kept short
 * (20 columns) so that the valid snapshots among the queries stay cheap to draw.
 */
import { Agent, get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeClientMessage, MAX_CLIENT_MESSAGE_BYTES } from '../shared/protocol.ts';
import { MAX_RECEIVED_BYTES } from '../server/dashboard/ws.ts';
import { consecutive, Recorder, serve, wsUrl, type Served } from './server-harness.ts';
import { seededRandom } from './random.ts';

const COUNT = 10_000;
let served: Served;
let witness: Recorder;

const WEIRD_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 53), 1e308, '', '1', 'resume', [], [1], {}, { after: 1 }, 'ñ', '\u0000', '\ud83d\ude00',
  Number.MAX_SAFE_INTEGER, 9_007_199_254_740_993,
];

function randomText(random: () => number, length: number): string {
  const alphabet = '{}[]":,0123456789abcdeflnrstuy \\\u00e9\u2603\ud83d\ude00\u0000\n\t';
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)]!;
  // lone surrogates cannot be sent as UTF-8 text; replace the half of a pair that may be cut
  return s.replace(/[\ud800-\udfff]/g, '?');
}

type Message = { readonly data: string | Buffer; readonly binary: boolean };

function randomMessage(random: () => number, newest: number): Message {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const r = random();
  if (r < 0.05) return { data: Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256))), binary: true };
  if (r < 0.1) return { data: randomText(random, Math.floor(random() * 300)), binary: false };
  if (r < 0.13) return { data: 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES + 1 + Math.floor(random() * (MAX_RECEIVED_BYTES - MAX_CLIENT_MESSAGE_BYTES - 1))), binary: false };
  if (r < 0.16) return { data: `${'['.repeat(Math.floor(random() * 2000))}`, binary: false };
  if (r < 0.18) return { data: JSON.stringify({ type: 'ping', id: Math.floor(random() * 1e6) }), binary: false };
  if (r < 0.19) return { data: JSON.stringify({ type: 'resume', after: newest + Math.floor(random() * 10) }), binary: false };
  if (r < 0.6) {
    // a message shaped like a real one with a field gone wrong
    const type = pick(['resume', 'ping', 'Resume', 'pong', 'column', 'hello', '', 'x'.repeat(100)]);
    const message: Record<string, unknown> = { type };
    if (random() < 0.8) message[pick(['after', 'id', 'type', 'seq', '__proto__', 'constructor'])] = pick(WEIRD_VALUES);
    if (random() < 0.2) message.extra = pick(WEIRD_VALUES);
    const text = JSON.stringify(message);
    return { data: random() < 0.2 ? text.slice(0, Math.floor(random() * text.length)) : text, binary: false };
  }
  return { data: JSON.stringify(pick(WEIRD_VALUES)), binary: false };
}

/** What the server must answer, by the shared decoder's rules. */
function expected(message: Message): 'error' | 'pong' | 'resume' {
  if (message.binary) return 'error';
  if (Buffer.byteLength(message.data) > MAX_CLIENT_MESSAGE_BYTES) return 'error';
  try {
    return decodeClientMessage(message.data.toString()).type === 'ping' ? 'pong' : 'resume';
  } catch {
    return 'error';
  }
}

beforeAll(async () => {
  served = await serve(['--source', 'synthetic', '--seed', '3', '--port', '0', '--interval', '20', '--history', '20']);
  witness = await Recorder.open(wsUrl(served));
  await witness.until((r) => r.some((m) => m.message.type === 'live'), 15_000, 'live');
});

afterAll(async () => {
  await witness?.close();
  const exit = await served?.stop();
  expect(exit?.code).toBe(0);
  expect(exit?.stderr).toBe(''); // no internal error was logged
});

describe('random and malformed input', () => {
  it('answers 10,000 WebSocket messages, each bad one with an error naming the problem', async () => {
    const random = seededRandom(20251125);
    const fuzzer = await Recorder.open(wsUrl(served));
    await fuzzer.until((r) => r.some((m) => m.message.type === 'live'), 15_000, 'live');
    let errors = 0;
    let pongs = 0;
    const counted = (): { errors: number; pongs: number } => {
      const types = fuzzer.messages().map((m) => m.type);
      return { errors: types.filter((t) => t === 'error').length, pongs: types.filter((t) => t === 'pong').length };
    };
    for (let sent = 0; sent < COUNT; ) {
      const batch = Math.min(250, COUNT - sent);
      const newest = fuzzer.seqs().at(-1) ?? 0;
      for (let k = 0; k < batch; k++) {
        const message = randomMessage(random, newest);
        const answer = expected(message);
        if (answer === 'error') errors++;
        if (answer === 'pong') pongs++;
        fuzzer.ws.send(message.data, { binary: message.binary });
      }
      sent += batch;
      await fuzzer.until(() => {
        const c = counted();
        return c.errors === errors && c.pongs === pongs;
      }, 15_000, `replies to ${sent} messages`);
    }
    expect(fuzzer.closed).toBeNull();
    expect(errors).toBeGreaterThan(COUNT * 0.7);
    for (const m of fuzzer.messages()) {
      if (m.type !== 'error') continue;
      expect(m.message.length).toBeGreaterThan(5);
      expect(m.message).not.toMatch(/\n\s+at /); // no stack
    }
    const someErrors = new Set(fuzzer.messages().flatMap((m) => (m.type === 'error' ? [m.message.replace(/\d+/g, 'N').slice(0, 40)] : [])));
    expect(someErrors.size).toBeGreaterThan(5); // the replies name different problems
    await fuzzer.close();
  });

  it('a message above the frame limit closes only that connection (1009)', async () => {
    const big = await Recorder.open(wsUrl(served));
    big.ws.send('y'.repeat(MAX_RECEIVED_BYTES + 1));
    await big.until(() => big.closed !== null, 10_000, 'close').catch(() => {});
    expect(big.closed?.code).toBe(1009);
  });

  it('answers 10,000 random query strings and paths without a 5xx or a stack', async () => {
    const random = seededRandom(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const keys = ['from', 'to', 'metric', 'device', 'op', 'width', 'height', 'token', 'x', '', '__proto__', 'from[]', 'to.a', '%ZZ'];
    const values = [
      '', '0', '-1', '1e3', '12.5', '99999999999999999', '1700000000000', String(Date.now()), String(Date.now() - 5000), 'latency', 'size', 'sizes',
      'synth-sda', 'synth-nvme0n1', '0', '1', '7', 'nvme9', 'read', 'write,read', 'flush,bogus', '%00', '%E0%A4%A', '%', '<svg>', "'", '"', 'x'.repeat(300),
      'read,read,read', '5000', '100', '8001',
    ];
    const paths = ['/api/columns', '/api/columns', '/api/snapshot.svg', '/api/meta', '/api/nope', '/healthz', '/', '/%ZZ', '/..%2f..%2fetc%2fpasswd', '/assets/none.js', '/ws'];
    const urls: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const parts: string[] = [];
      const n = Math.floor(random() * 6);
      for (let k = 0; k < n; k++) parts.push(random() < 0.1 ? pick(keys) : `${pick(keys)}=${pick(values)}`);
      let url = `${pick(paths)}${parts.length > 0 || random() < 0.1 ? '?' : ''}${parts.join(random() < 0.9 ? '&' : ';')}`;
      if (random() < 0.01) url += `&pad=${'p'.repeat(2100)}`;
      urls.push(url);
    }
    const statuses = new Map<number, number>();
    // node:http with keep-alive: fetch() costs the test more CPU per request than the server spends
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const request = (path: string): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        get({ host: '127.0.0.1', port: served.port, path, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (s: string) => (text += s));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        }).on('error', reject);
      });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < urls.length) {
        const url = urls[next++]!;
        const { status, text } = await request(url);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        expect(status, url).toBeLessThan(500);
        expect(text, url).not.toMatch(/\n\s+at .*\(/);
        if (status >= 400) expect(JSON.parse(text).error, url).toEqual(expect.any(String));
        else if (url.startsWith('/api/columns')) expect(Array.isArray(JSON.parse(text).columns)).toBe(true);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    agent.destroy();
    console.log(`query fuzz: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${n}×${s}`).join(', ')}`);
    // Both kinds of answer happened: the generator is not all noise, nor all valid.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(500);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(1000);
    expect((await served.get('/healthz')).status).toBe(200);
  });

  it('left the well-behaved client connected, with every column in order', async () => {
    const before = witness.seqs().length;
    await witness.until((r) => r.filter((m) => m.message.type === 'column').length > before + 5, 10_000, 'more live columns');
    expect(witness.closed).toBeNull();
    expect(witness.messages().filter((m) => m.type === 'error')).toEqual([]);
    expect(consecutive(witness.seqs())).toBe(true);
  });
});
