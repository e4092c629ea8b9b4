/**
 * Helpers for the dashboard-server tests: start the real `bpfheat` command on an ephemeral port
 * (as a user would, with a stand-in client bundle so the tests do not depend on a vite build),
 * and real WebSocket clients that record every message with its exact bytes.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { decodeServerMessage, type ServerMessage } from '../shared/protocol.ts';
import { tempDir } from './temp-dirs.ts';

export const BIN = fileURLToPath(new URL('../bin/bpfheat.js', import.meta.url));

/** A directory that looks like vite's dist/: index.html and one hashed asset. */
export function fakeClientDir(): string {
  const dir = tempDir('bpfheat-dist-');
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html><head><title>bpfheat</title><script type="module" src="/assets/app-test.js"></script></head><body><div id="root"></div></body></html>\n');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'app-test.js'), 'console.log("bpfheat test bundle");\n');
  return dir;
}

let sharedClientDir: string | null = null;
function clientDir(): string {
  return (sharedClientDir ??= fakeClientDir());
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Served {
  readonly child: ChildProcessWithoutNullStreams;
  /** the URL bpfheat printed */
  readonly url: URL;
  readonly port: number;
  readonly token: string | null;
  /** http://127.0.0.1:PORT: where the tests connect, whatever the listening address */
  readonly base: string;
  readonly line: string;
  stderr(): string;
  /** GET a path on base; JSON body parsed when the answer is JSON */
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: unknown; text: string; headers: Headers }>;
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** Runs bpfheat to its end (for start-up failures). */
export function runToExit(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<Exit> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, BPFHEAT_CLIENT_DIR: clientDir(), ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

/** Starts `bpfheat ARGS` and resolves once it printed the URL it serves. */
export function serve(args: readonly string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, BPFHEAT_CLIENT_DIR: clientDir(), ...env } });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise<Served>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bpfheat printed no URL within 20 s; stderr: ${stderr}`));
    }, 20_000);
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`bpfheat exited (${e.code ?? e.signal}) before serving: ${e.stderr}`));
    });
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const match = /^bpfheat: (?:dashboard|exporter) on (http:\/\/\S+).*$/m.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      const url = new URL(match[1]!);
      const port = Number(url.port);
      const base = `http://127.0.0.1:${port}`;
      resolve({
        child,
        url,
        port,
        token: url.searchParams.get('token'),
        base,
        line: match[0],
        stderr: () => stderr,
        async get(path, headers = {}) {
          const response = await fetch(`${base}${path}`, { headers });
          const text = await response.text();
          let body: unknown = null;
          if ((response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
          return { status: response.status, body, text, headers: response.headers };
        },
        stop(signal = 'SIGINT') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
  });
}

export interface Received {
  /** the exact bytes of the frame */
  readonly raw: Buffer;
  readonly message: ServerMessage;
}

/** A real WebSocket client that decodes (with the shared decoder) and keeps every message. */
export class Recorder {
  readonly received: Received[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) throw new Error('the server sent a binary frame');
      this.received.push({ raw: Buffer.from(data), message: decodeServerMessage(data.toString('utf8')) });
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<Recorder> {
    const ws = new WebSocket(url, options);
    const recorder = new Recorder(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(recorder));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Resolves with the upgrade's HTTP status when the server refuses it. */
  static refusal(url: string, options: WebSocket.ClientOptions = {}): Promise<{ status: number; body: string }> {
    const ws = new WebSocket(url, options);
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.terminate();
        reject(new Error('the upgrade was accepted'));
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once('error', () => {
        // after unexpected-response ws aborts the request; the status is what counts
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until predicate(received) is true. */
  async until(predicate: (received: readonly Received[]) => boolean, timeoutMs = 15_000, what = 'messages'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (this.closed) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.received.length} messages`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  messages(): ServerMessage[] {
    return this.received.map((r) => r.message);
  }

  /** seqs of the column messages, in order of arrival */
  seqs(): number[] {
    return this.received.flatMap((r) => (r.message.type === 'column' ? [r.message.column.seq] : []));
  }

  index(type: ServerMessage['type']): number {
    return this.received.findIndex((r) => r.message.type === type);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** A GET with headers fetch() would not send (Host), to 127.0.0.1 or another local address. */
export function rawGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  address = '127.0.0.1',
): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, method: 'GET', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

export function wsUrl(served: Served, query = ''): string {
  return `ws://127.0.0.1:${served.port}/ws${query}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when seqs are consecutive integers. */
export function consecutive(seqs: readonly number[]): boolean {
  return seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1);
}
