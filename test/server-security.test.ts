/**
 * Safe defaults, against the real command: loopback without a token; any other address only with
 * the token (401 without it, on HTTP and on the WebSocket); foreign Host names refused (DNS
 * rebinding); foreign Origins refused on the WebSocket upgrade.
 *
 * "Non-loopback" is tested honestly: the server binds 0.0.0.0 (every address of the machine) and
 * the test reaches it through 127.0.0.1, which the binding includes. No traffic leaves the host.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recorder, rawGet, serve, type Served } from './server-harness.ts';
import { tempDir } from './temp-dirs.ts';

const SYNTH = ['--source', 'synthetic', '--port', '0', '--interval', '50', '--history', '600'];

describe('bound to a non-loopback address (0.0.0.0)', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve([...SYNTH, '--listen', '0.0.0.0']);
  });
  afterAll(async () => {
    await served?.stop();
  });

  it('prints a URL with a generated token', () => {
    expect(served.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(served.url.hostname).toBe(hostname().toLowerCase());
  });

  it('answers 401 to every HTTP request without the token', async () => {
    for (const path of ['/', '/healthz', '/api/meta', '/api/columns', '/api/snapshot.svg', '/assets/app-test.js', '/some/page']) {
      const res = await rawGet(served.port, path);
      expect(res.status, path).toBe(401);
      expect(JSON.parse(res.text).error).toMatch(/token/);
    }
    expect((await rawGet(served.port, '/api/meta?token=not-the-token-at-all')).status).toBe(401);
    expect((await rawGet(served.port, '/api/meta', { Authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('serves with the token, in the query, a Bearer header or the cookie the query sets', async () => {
    const withQuery = await rawGet(served.port, `/api/meta?token=${served.token}`);
    expect(withQuery.status).toBe(200);
    expect(JSON.parse(withQuery.text).listen).toMatchObject({ address: '0.0.0.0', tokenRequired: true });
    const setCookie = String(withQuery.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    expect((await rawGet(served.port, '/api/meta', { Cookie: cookie })).status).toBe(200);
    expect((await rawGet(served.port, '/', { Cookie: cookie })).status).toBe(200);
    expect((await rawGet(served.port, '/healthz', { Authorization: `Bearer ${served.token}` })).status).toBe(200);
  });

  it('refuses the WebSocket without the token (401) and accepts it with the token or cookie', async () => {
    const url = `ws://127.0.0.1:${served.port}/ws`;
    expect((await Recorder.refusal(url)).status).toBe(401);
    expect((await Recorder.refusal(`${url}?token=wrong`)).status).toBe(401);
    for (const client of [
      await Recorder.open(`${url}?token=${served.token}`),
      await Recorder.open(url, { headers: { Cookie: `bpfheat_token_${served.port}=${served.token}` } }),
    ]) {
      await client.until((r) => r.length > 0, 10_000, 'hello');
      expect(client.messages()[0]!.type).toBe('hello');
      await client.close();
    }
  });

  it('accepts the machine name as Host and refuses any other name, even with the token', async () => {
    const path = `/api/meta?token=${served.token}`;
    expect((await rawGet(served.port, path, { Host: `${hostname()}:${served.port}` })).status).toBe(200);
    expect((await rawGet(served.port, path, { Host: `localhost:${served.port}` })).status).toBe(200);
    expect((await rawGet(served.port, path, { Host: `attacker.example:${served.port}` })).status).toBe(403);
  });
});

describe('bound to loopback (the default)', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve(SYNTH);
  });
  afterAll(async () => {
    await served?.stop();
  });

  it('needs no token', async () => {
    expect(served.url.host).toBe(`127.0.0.1:${served.port}`);
    expect(served.token).toBeNull();
    const res = await rawGet(served.port, '/api/meta');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).listen).toMatchObject({ address: '127.0.0.1', tokenRequired: false });
  });

  it('refuses requests whose Host is not a loopback name (DNS rebinding), on HTTP and WebSocket', async () => {
    for (const host of ['attacker.example', `attacker.example:${served.port}`, '10.1.2.3', 'localhost.attacker.example', '127.0.0.1.nip.example', 'x:y:z']) {
      const res = await rawGet(served.port, '/api/meta', { Host: host });
      expect(res.status, `Host: ${host}`).toBe(403);
    }
    for (const host of [`localhost:${served.port}`, `127.0.0.1:${served.port}`, `[::1]:${served.port}`, `app.localhost:${served.port}`]) {
      expect((await rawGet(served.port, '/api/meta', { Host: host })).status, `Host: ${host}`).toBe(200);
    }
    const refused = await Recorder.refusal(`ws://127.0.0.1:${served.port}/ws`, { headers: { Host: `attacker.example:${served.port}` } });
    expect(refused.status).toBe(403);
  });

  it("refuses a WebSocket from a foreign Origin (403) and accepts the page's own", async () => {
    const url = `ws://127.0.0.1:${served.port}/ws`;
    for (const origin of ['http://attacker.example', `http://localhost:${served.port + 1}`, 'null', 'file://', `http://127.0.0.1:${served.port}.attacker.example`]) {
      const refused = await Recorder.refusal(url, { origin });
      expect(refused.status, origin).toBe(403);
      expect(JSON.parse(refused.body).error).toMatch(/origin/);
    }
    const own = await Recorder.open(url, { origin: `http://127.0.0.1:${served.port}` });
    await own.until((r) => r.length > 0, 10_000, 'hello');
    await own.close();
  });

  it('refuses a request with two Host headers (400), on HTTP and WebSocket, whatever the second says', async () => {
    for (const upgrade of ['', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(served.port, '127.0.0.1');
        let text = '';
        socket.setEncoding('utf8').on('data', (s: string) => (text += s));
        socket.on('end', () => resolve(text)).on('error', reject);
        socket.write(`GET /${upgrade ? 'ws' : 'api/meta'} HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\nHost: attacker.example\r\n${upgrade}Connection: close\r\n\r\n`);
      });
      expect(answer, upgrade ? 'upgrade' : 'GET').toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toContain('the request has 2 Host headers: send exactly one');
    }
  });

  it('refuses other WebSocket paths and malformed upgrade queries', async () => {
    expect((await Recorder.refusal(`ws://127.0.0.1:${served.port}/other`)).status).toBe(404);
    expect((await Recorder.refusal(`ws://127.0.0.1:${served.port}/ws?after=-1`)).status).toBe(400);
    expect((await Recorder.refusal(`ws://127.0.0.1:${served.port}/ws?after=1&after=2`)).status).toBe(400);
    expect((await Recorder.refusal(`ws://127.0.0.1:${served.port}/ws?debug=1`)).status).toBe(400);
  });
});

describe('bound to another loopback address', () => {
  it('127.0.0.2 is loopback: no token, and it is what the server listens on', async () => {
    const served = await serve([...SYNTH, '--listen', '127.0.0.2']);
    try {
      expect(served.token).toBeNull();
      expect(served.url.hostname).toBe('127.0.0.2');
      expect((await rawGet(served.port, '/healthz', {}, '127.0.0.2')).status).toBe(200);
    } finally {
      await served.stop();
    }
  });

  it('a --token given on loopback is required too', async () => {
    const token = 'a-token-given-on-the-command-line';
    const served = await serve([...SYNTH, '--token', token]);
    try {
      expect(served.token).toBe(token);
      expect((await rawGet(served.port, '/healthz')).status).toBe(401);
      expect((await rawGet(served.port, `/healthz?token=${token}`)).status).toBe(200);
    } finally {
      await served.stop();
    }
  });
});

describe('the token kept off the command line', () => {
  const token = 'a-token-read-from-a-file-0123';
  const dir = tempDir('bpfheat-token-');

  const check = async (served: Served): Promise<void> => {
    expect(served.token).toBe(token);
    const cmdline = readFileSync(`/proc/${served.child.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain('--source');
    expect(cmdline).not.toContain(token);
    expect((await rawGet(served.port, '/healthz')).status).toBe(401);
    expect((await rawGet(served.port, '/healthz', { Authorization: `Bearer ${token}` })).status).toBe(200);
    expect(served.stderr()).not.toMatch(/warning/);
  };

  it('--token-file FILE: the token is required, and it is not in /proc/PID/cmdline', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    const served = await serve([...SYNTH, '--listen', '0.0.0.0', '--token-file', file]);
    try {
      await check(served);
    } finally {
      await served.stop();
    }
  });

  it('BPFHEAT_TOKEN: the same, from the environment', async () => {
    const served = await serve([...SYNTH, '--listen', '0.0.0.0'], { BPFHEAT_TOKEN: token });
    try {
      await check(served);
    } finally {
      await served.stop();
    }
  });

  it('--token still works, with a warning that other users can read it; a token file others can read is warned about', async () => {
    const shared = join(dir, 'shared');
    writeFileSync(shared, token);
    chmodSync(shared, 0o644);
    for (const args of [['--token', token], ['--token-file', shared]]) {
      const served = await serve([...SYNTH, ...args]);
      try {
        expect((await rawGet(served.port, `/healthz?token=${token}`)).status).toBe(200);
        expect(served.stderr()).toMatch(args[0] === '--token' ? /^bpfheat: warning: --token puts the token on the command line, where every local user can read it/m : /^bpfheat: warning: the token file .* can be read by other users \(mode 644\)/m);
      } finally {
        await served.stop();
      }
    }
  });
});
